/**
 * seqlab's optimizer: tfjs' Adam, with its update as seqlab's own GPU kernels on the webgpu backend.
 *
 * tfjs' AdamOptimizer runs ~14 kernels per variable and step (each a GPU dispatch on webgpu: ~230 of
 * the date model's ~340 per training step once its recurrent layers are fused). Here the update is
 * two dispatches per variable (src/core/webgpu-kernels.ts: ADAM_MOMENTS writes both new moments, kept
 * packed [m; v] in one tensor per variable while training on webgpu; ADAM_VALUE the new value).
 * Everything else is tfjs' own: the moments it saves (getWeights unpacks them into tfjs' own
 * variables first, setWeights drops the packed copy), the class name ('Adam', registered over tfjs'
 * class, so a checkpoint's optimizer deserializes into this one and loads into plain tfjs alike). On
 * every other backend, or with SEQLAB_KERNELS=0, applyGradients is tfjs' own.
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_MOMENTS, ADAM_VALUE, onWebgpuKernels } from './webgpu-kernels';

interface Moment {
  originalName: string;
  variable: tf.Variable;
}

/** The fields of tfjs' AdamOptimizer this class reads (protected there). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Moment[];
  accumulatedSecondMoment: Moment[];
  iterations: number;
  incrementIterations(): void;
}

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

export class Adam extends tf.AdamOptimizer {
  /** per variable, while on the webgpu kernels: [m; v] flattened, the moments' current values */
  private packed: (tf.Variable | undefined)[] = [];

  static override get className(): string {
    return 'Adam';
  }

  override applyGradients(variableGradients: Gradients): void {
    if (!onWebgpuKernels()) {
      this.unpack();
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // the bias corrections 1 - beta^t, t counted from 1 (tfjs keeps beta^t in accBeta1/2, starting at beta)
    const t = self.iterations + 1;
    const attrs = {
      lr: self.learningRate,
      beta1: self.beta1,
      beta2: self.beta2,
      epsilon: self.epsilon,
      correction1: 1 - Math.pow(self.beta1, t),
      correction2: 1 - Math.pow(self.beta2, t),
    } as unknown as tf.NamedAttrMap;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        const zeros = (suffix: string) => ({ originalName: `${name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) });
        self.accumulatedFirstMoment[i] ??= zeros('m');
        self.accumulatedSecondMoment[i] ??= zeros('v');
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const packed = (this.packed[i] ??= tf.tidy(() =>
          tf.concat([self.accumulatedFirstMoment[i].variable, self.accumulatedSecondMoment[i].variable].map((m) => tf.reshape(m, [-1]))).variable(false),
        ));
        const moments = tf.engine().runKernel(ADAM_MOMENTS, { G: gradient, S: packed }, attrs) as tf.Tensor;
        packed.assign(moments);
        value.assign(tf.reshape(tf.engine().runKernel(ADAM_VALUE, { X: value, S: moments }, attrs) as tf.Tensor, value.shape));
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  }

  /** The packed moments back into tfjs' own variables (which getWeights saves), then dropped. */
  private unpack(): void {
    const self = this as unknown as AdamState;
    this.packed.forEach((packed, i) => {
      if (!packed) return;
      tf.tidy(() => {
        const [m, v] = [self.accumulatedFirstMoment[i].variable, self.accumulatedSecondMoment[i].variable];
        m.assign(tf.reshape(tf.slice(packed, [0], [m.size]), m.shape));
        v.assign(tf.reshape(tf.slice(packed, [m.size], [v.size]), v.shape));
      });
      packed.dispose();
    });
    this.packed = [];
  }

  override async getWeights(): ReturnType<tf.AdamOptimizer['getWeights']> {
    this.unpack();
    return super.getWeights();
  }

  override async setWeights(weightValues: Parameters<tf.AdamOptimizer['setWeights']>[0]): Promise<void> {
    this.packed.forEach((p) => p?.dispose());
    this.packed = [];
    await super.setWeights(weightValues);
  }

  override dispose(): void {
    this.packed.forEach((p) => p?.dispose());
    this.packed = [];
    super.dispose();
  }
}
tf.serialization.registerClass(Adam);

/** Adam with tfjs' defaults (beta1 0.9, beta2 0.999, the backend's epsilon), as tf.train.adam(lr). */
export const adam = (learningRate: number): Adam => new Adam(learningRate, 0.9, 0.999);
