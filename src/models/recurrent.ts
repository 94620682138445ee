/**
 * The one seam for recurrent layers. Every model in seqlab gets its LSTMs from here, so a faster
 * implementation (a fused kernel, one op per sequence) can replace this one everywhere at once.
 *
 * Why not tf.layers.lstm: on the wasm backend each tfjs op costs 20-150 us of overhead, and
 * tfjs-layers' LSTM spends ~20 ops per step plus per-step slicing. Here the input projection of a
 * whole sequence is one matMul, both directions of a bidirectional LSTM run as one batched matMul
 * per step, and a step is 12 ops. Weights follow the Keras layout (kernel [in, 4n],
 * recurrentKernel [n, 4n], bias [4n], gates in the order i, f, c, o), so parameter counts match.
 */
import * as tf from '@tensorflow/tfjs';

type Kwargs = Record<string, unknown>;
type LayerVariable = tf.LayerVariable;

/**
 * One LSTM step. `xProj` is the input's share of the gate pre-activations (x W + b), computed
 * for all steps at once by the caller; h and c are the previous hidden and cell states.
 * Works for any leading dimensions (e.g. [directions, batch, ...]).
 */
export function lstmStep(xProj: tf.Tensor, h: tf.Tensor, c: tf.Tensor, recurrentKernel: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const z = tf.add(xProj, tf.matMul(h, recurrentKernel));
  const [zi, zf, zg, zo] = tf.split(z, 4, -1);
  const cNext = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zg)));
  const hNext = tf.mul(tf.sigmoid(zo), tf.tanh(cNext));
  return [hNext, cNext];
}

/** x W + b for every step of a [batch, steps, features] sequence, as one matMul. */
export function projectSequence(x: tf.Tensor3D, kernel: tf.Tensor, bias: tf.Tensor): tf.Tensor3D {
  const [b, t, d] = x.shape;
  const flat = tf.reshape(x, [b * t, d]);
  return tf.reshape(tf.add(tf.matMul(flat, kernel), bias), [b, t, kernel.shape[1]!]) as tf.Tensor3D;
}

/** Splits [.., steps, ..] along `axis` into one tensor per step (works around tfjs' Unpack gradient for 1 step). */
export function unstackSteps(x: tf.Tensor, axis: number): tf.Tensor[] {
  if (x.shape[axis] === 1) return [tf.squeeze(x, [axis])];
  return tf.unstack(x, axis);
}

export interface LstmWeights {
  kernel: LayerVariable;
  recurrentKernel: LayerVariable;
  bias: LayerVariable;
}

export interface RecurrentArgs {
  units: number;
  /** all hidden states [batch, steps, units] (true) or only the last [batch, units] (false) */
  returnSequences?: boolean;
  /** seed for the weight initialisers */
  seed?: number;
  name?: string;
}

/** Base for layers that own LSTM weights: adds them under a prefix with Keras' initialisation. */
export abstract class RecurrentLayer extends tf.layers.Layer {
  protected addLstmWeights(prefix: string, inputDim: number, units: number, seed: number): LstmWeights {
    // Keras' LSTM initialisation and weight order: Glorot-uniform kernel, orthogonal recurrent kernel, forget bias 1
    const kernel = this.addWeight(`${prefix}kernel`, [inputDim, 4 * units], 'float32', tf.initializers.glorotUniform({ seed }));
    const recurrentKernel = this.addWeight(`${prefix}recurrent_kernel`, [units, 4 * units], 'float32', tf.initializers.orthogonal({ seed: seed + 1, gain: 1 }));
    const bias = this.addWeight(`${prefix}bias`, [4 * units], 'float32', tf.initializers.zeros());
    bias.write(tf.tidy(() => tf.concat([tf.zeros([units]), tf.ones([units]), tf.zeros([2 * units])])));
    return { kernel, recurrentKernel, bias };
  }
}

/** An LSTM over a whole sequence (zero initial state). */
export class Lstm extends RecurrentLayer {
  static className = 'SeqlabLstm';
  readonly units: number;
  readonly returnSequences: boolean;
  private readonly seed: number;
  private w!: LstmWeights;

  constructor(args: RecurrentArgs) {
    super({ name: args.name });
    this.units = args.units;
    this.returnSequences = args.returnSequences ?? false;
    this.seed = args.seed ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.w = this.addLstmWeights('', shape[2]!, this.units, this.seed);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, t] = inputShape as tf.Shape;
    return this.returnSequences ? [b, t, this.units] : [b, this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const batch = x.shape[0];
      const steps = unstackSteps(projectSequence(x, this.w.kernel.read(), this.w.bias.read()), 1);
      const u = this.w.recurrentKernel.read();
      let h: tf.Tensor = tf.zeros([batch, this.units]);
      let c: tf.Tensor = tf.zeros([batch, this.units]);
      const hs: tf.Tensor[] = [];
      for (const xp of steps) {
        [h, c] = lstmStep(xp, h, c, u);
        hs.push(h);
      }
      return this.returnSequences ? tf.stack(hs, 1) : h;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, returnSequences: this.returnSequences, seed: this.seed };
  }
}
tf.serialization.registerClass(Lstm);

/**
 * A bidirectional LSTM (zero initial states), run as one LSTM of 2·units: at step t it reads
 * [x_t ; x_(T-1-t)] and its state is [h_fwd(t) ; h_bwd(T-1-t)]. The kernels are assembled
 * block-diagonally (forward weights never see backward state) with the gate columns interleaved
 * [i_f i_b | f_f f_b | c_f c_b | o_f o_b], so each step is one 2-D matMul and 12 ops for both
 * directions. The input projection is done per direction (no zero blocks) for all steps at once. Output concatenates the two directions like Keras' Bidirectional(merge_mode='concat').
 */
export class BidirectionalLstm extends RecurrentLayer {
  static className = 'SeqlabBidirectionalLstm';
  readonly units: number;
  readonly returnSequences: boolean;
  private readonly seed: number;
  private fwd!: LstmWeights;
  private bwd!: LstmWeights;

  constructor(args: RecurrentArgs) {
    super({ name: args.name });
    this.units = args.units;
    this.returnSequences = args.returnSequences ?? false;
    this.seed = args.seed ?? 0;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const d = (inputShape as tf.Shape)[2]!;
    this.fwd = this.addLstmWeights('forward_', d, this.units, this.seed);
    this.bwd = this.addLstmWeights('backward_', d, this.units, this.seed + 7);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, t] = inputShape as tf.Shape;
    return this.returnSequences ? [b, t, 2 * this.units] : [b, 2 * this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, steps, d] = x.shape;
      const n = this.units;
      // x_t for the forward and x_(T-1-t) for the backward direction, time-major, each projected for
      // all steps in one matMul, then interleaved per gate: [steps, batch, 4 gates, 2 directions, n]
      const xt = tf.reshape(tf.transpose(x, [1, 0, 2]), [steps * batch, d]);
      const xtReversed = tf.reshape(tf.reverse(tf.transpose(x, [1, 0, 2]), 0), [steps * batch, d]);
      const pF = tf.reshape(tf.add(tf.matMul(xt, this.fwd.kernel.read()), this.fwd.bias.read()), [steps, batch, 4, 1, n]);
      const pB = tf.reshape(tf.add(tf.matMul(xtReversed, this.bwd.kernel.read()), this.bwd.bias.read()), [steps, batch, 4, 1, n]);
      const projected = unstackSteps(tf.reshape(tf.concat([pF, pB], 3), [steps, batch, 8 * n]), 0);
      const recurrent = tf.concat([interleave(this.fwd.recurrentKernel.read(), 0, n), interleave(this.bwd.recurrentKernel.read(), 1, n)], 0);

      let h: tf.Tensor = tf.zeros([batch, 2 * n]);
      let c: tf.Tensor = tf.zeros([batch, 2 * n]);
      const hs: tf.Tensor[] = [];
      for (const xp of projected) {
        [h, c] = lstmStep(xp, h, c, recurrent);
        hs.push(h);
      }
      if (!this.returnSequences) return h; // [h_fwd(T-1) ; h_bwd(0)]
      const all = tf.stack(hs, 0); // [T, batch, 2n]
      const [hF, hB] = tf.split(all, 2, 2);
      return tf.transpose(tf.concat([hF, tf.reverse(hB, 0)], 2), [1, 0, 2]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, returnSequences: this.returnSequences, seed: this.seed };
  }
}
tf.serialization.registerClass(BidirectionalLstm);

/**
 * Spreads a direction's kernel [rows, 4n] over the 8n interleaved gate columns of the joint LSTM:
 * its own direction's slots (0 = forward, 1 = backward) get the weights, the other's get zeros.
 */
function interleave(kernel: tf.Tensor, direction: 0 | 1, n: number): tf.Tensor {
  const rows = kernel.shape[0]!;
  const own = tf.reshape(kernel, [rows, 4, 1, n]);
  const zeros = tf.zerosLike(own);
  return tf.reshape(tf.concat(direction === 0 ? [own, zeros] : [zeros, own], 2), [rows, 8 * n]);
}

/** The builders models use. */
export const lstm = (args: RecurrentArgs) => new Lstm(args);
export const bidirectionalLstm = (args: RecurrentArgs) => new BidirectionalLstm(args);
