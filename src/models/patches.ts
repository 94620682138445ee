/**
 * A Conv1D that trains on the wasm backend, and is fast there. tfjs' wasm backend has no
 * Conv2DBackpropFilter, so Conv1D(filters, kernel k, stride s), k a multiple of s, is computed as
 * patches + one 2-D matMul: [batch, T, d] → [batch, floor(T/s) − k/s + 1, filters], 'valid'
 * padding. The patches are a reshape (s frames side by side), slices and a concat, all with
 * gradients on every backend. (tf.layers.dense on a 3-D input costs several times more on wasm
 * than the same 2-D matMul.) Weights as Keras' Conv1D: kernel [k, d, filters], bias [filters].
 * Also the per-step Dense (kernel 1, stride 1), the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { projectSequence } from './recurrent';

export interface Conv1dArgs {
  filters: number;
  /** frames per patch (a multiple of stride) */
  kernelSize: number;
  strides?: number;
  activation?: 'linear' | 'sigmoid';
  seed?: number;
  name?: string;
}

export class PatchConv1d extends tf.layers.Layer {
  static className = 'SeqlabConv1d';
  readonly filters: number;
  readonly kernelSize: number;
  readonly strides: number;
  readonly activation: 'linear' | 'sigmoid';
  private readonly seed: number;
  private kernel!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(args: Conv1dArgs) {
    super({ name: args.name });
    this.filters = args.filters;
    this.kernelSize = args.kernelSize;
    this.strides = args.strides ?? 1;
    this.activation = args.activation ?? 'linear';
    this.seed = args.seed ?? 0;
    if (this.kernelSize % this.strides !== 0) throw new Error(`Conv1d: kernel ${this.kernelSize} is not a multiple of stride ${this.strides}`);
  }

  /** Output steps for `frames` input frames. */
  steps(frames: number): number {
    return Math.max(0, Math.floor(frames / this.strides) - this.kernelSize / this.strides + 1);
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const d = (inputShape as tf.Shape)[2]!;
    this.kernel = this.addWeight('kernel', [this.kernelSize, d, this.filters], 'float32', tf.initializers.glorotUniform({ seed: this.seed }));
    this.bias = this.addWeight('bias', [this.filters], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, t] = inputShape as tf.Shape;
    return [b, t === null ? null : this.steps(t!), this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [b, t, d] = x.shape;
      const s = this.strides;
      const groups = Math.floor(t / s);
      const steps = this.steps(t);
      let patches = t === groups * s ? x : tf.slice(x, [0, 0, 0], [b, groups * s, d]);
      if (s > 1) patches = tf.reshape(patches, [b, groups, s * d]);
      const per = this.kernelSize / s;
      if (per > 1) patches = tf.concat(Array.from({ length: per }, (_, k) => tf.slice(patches, [0, k, 0], [b, steps, s * d])), 2);
      const kernel = tf.reshape(this.kernel.read(), [this.kernelSize * d, this.filters]);
      const y = projectSequence(patches as tf.Tensor3D, kernel, this.bias.read());
      return this.activation === 'sigmoid' ? tf.sigmoid(y) : y;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, strides: this.strides, activation: this.activation, seed: this.seed };
  }
}
tf.serialization.registerClass(PatchConv1d);

export const conv1d = (args: Conv1dArgs) => new PatchConv1d(args);
