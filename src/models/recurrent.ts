/**
 * The one seam for recurrent layers. Every model in seqlab gets its LSTMs from here, so a faster
 * implementation (a fused kernel, one op per sequence) can replace this one everywhere at once.
 *
 * Why not tf.layers.lstm: on the wasm backend each tfjs op costs 20-150 us of overhead, and
 * tfjs-layers' LSTM spends ~20 ops per step plus per-step slicing, and autodiff doubles that.
 * Here:
 * - the input projection of a whole sequence is one matMul;
 * - a sequence is one custom-gradient op (lstmSequence) with a hand-written backward pass;
 * - both directions of a bidirectional LSTM run as one LSTM with a block-diagonal kernel, so a
 *   step is one 2-D matMul for both;
 * - a decoder that must interleave other work between steps (attention) uses lstmStep.
 * Weights follow the Keras layout (kernel [in, 4n], recurrentKernel [n, 4n], bias [4n], gates in
 * the order i, f, c, o) and the layers compute what tf.layers.lstm with sigmoid gates computes
 * (test/recurrent.test.ts compares outputs and every gradient).
 */
import * as tf from '@tensorflow/tfjs';

type Kwargs = Record<string, unknown>;
type LayerVariable = tf.LayerVariable;

/**
 * One LSTM step. `xProj` is the input's share of the gate pre-activations (x W + b), computed
 * for all steps at once by the caller; h and c are the previous hidden and cell states [batch, n].
 */
export function lstmStep(xProj: tf.Tensor, h: tf.Tensor, c: tf.Tensor, recurrentKernel: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const z = tf.add(xProj, tf.matMul(h, recurrentKernel));
  const [zi, zf, zg, zo] = tf.split(z, 4, -1);
  const cNext = tf.add(tf.mul(tf.sigmoid(zf), c), tf.mul(tf.sigmoid(zi), tf.tanh(zg)));
  const hNext = tf.mul(tf.sigmoid(zo), tf.tanh(cNext));
  return [hNext, cNext];
}

/**
 * A whole LSTM sequence as one op with a hand-written backward pass (BPTT), zero initial state.
 * `projected` is x W + b for every step, time-major [steps, batch, 4n] (gates i, f, c, o);
 * returns every hidden state, [steps, batch, n].
 *
 * Same numbers as stepping lstmStep under autodiff, in about half the ops: the gates are
 * activated full-width (tanh(x) = 2·sigmoid(2x) - 1 for the c gate), the backward step works on
 * full-width tensors, and the recurrent kernel's gradient is one matMul over all steps.
 */
export function lstmSequence(projected: tf.Tensor3D, recurrentKernel: tf.Tensor2D): tf.Tensor3D {
  return lstmSequenceOp(projected, recurrentKernel) as tf.Tensor3D;
}

/** Per-gate-column factor k: sigmoid(k·z) for i, f, o (k = 1) and the c gate (k = 2, then 2s - 1 = tanh z). */
function gateScale(n: number): tf.Tensor1D {
  return tf.concat([tf.ones([2 * n]), tf.fill([n], 2), tf.ones([n])]) as tf.Tensor1D;
}

const lstmSequenceOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [projected, recurrentKernel, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const [steps, batch, width] = projected.shape as number[];
  const n = width / 4;
  const scale = gateScale(n);
  let h: tf.Tensor = tf.zeros([batch, n]);
  let c: tf.Tensor = tf.zeros([batch, n]);
  const hs: tf.Tensor[] = [];
  const sigmoids: tf.Tensor[] = [];
  const cells: tf.Tensor[] = [c];
  const cellTanhs: tf.Tensor[] = [];
  for (const xp of unstackSteps(projected, 0)) {
    const sig = tf.sigmoid(tf.mul(tf.add(xp, tf.matMul(h, recurrentKernel)), scale));
    const [i, f, g2, o] = tf.split(sig, 4, 1);
    const g = tf.sub(tf.mul(g2, 2), 1);
    c = tf.add(tf.mul(f, c), tf.mul(i, g));
    const tc = tf.tanh(c);
    hs.push(h); // the state this step started from (for the kernel's gradient)
    h = tf.mul(o, tc);
    sigmoids.push(sig);
    cells.push(c);
    cellTanhs.push(tc);
  }
  hs.push(h);
  const all = tf.stack(hs); // [steps + 1, batch, n]: h_0 (zeros) ... h_T
  const value = tf.slice(all, [1, 0, 0], [steps, batch, n]);
  save([tf.stack(sigmoids), tf.stack(cells), tf.stack(cellTanhs), tf.slice(all, [0, 0, 0], [steps, batch, n]), recurrentKernel]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [sigAll, cAll, tcAll, hPrevAll, u] = saved;
    // everything that does not depend on the recursion, for all steps at once
    const [iAll, fAll, g2All, oAll] = tf.split(sigAll, 4, 2);
    const is2 = unstackSteps(tf.mul(iAll, 2), 0); // d(g)/d(sigmoid of the c gate) = 2
    const fs = unstackSteps(fAll, 0);
    const gs = unstackSteps(tf.sub(tf.mul(g2All, 2), 1), 0);
    const os = unstackSteps(oAll, 0);
    const tcs = unstackSteps(tcAll, 0);
    const dTanhs = unstackSteps(tf.sub(1, tf.square(tcAll)), 0); // 1 - tanh²(c)
    const cPrevs = unstackSteps(tf.slice(cAll, [0, 0, 0], [steps, batch, n]), 0);
    const dSigs = unstackSteps(tf.mul(tf.mul(sigAll, tf.sub(1, sigAll)), gateScale(n)), 0); // d sigmoid(k z) / dz
    const dys = unstackSteps(dy, 0);
    const uT = tf.transpose(u);

    let dhNext: tf.Tensor = tf.zeros([batch, n]);
    let dcNext: tf.Tensor = tf.zeros([batch, n]);
    const dzs: tf.Tensor[] = new Array(steps);
    for (let t = steps - 1; t >= 0; t--) {
      const dh = tf.add(dys[t], dhNext);
      const dc = tf.add(dcNext, tf.mul(tf.mul(dh, os[t]), dTanhs[t]));
      // gradient w.r.t. the four sigmoids [i, f, c-gate, o], then through them to the pre-activations
      const dSig = tf.concat([tf.mul(dc, gs[t]), tf.mul(dc, cPrevs[t]), tf.mul(dc, is2[t]), tf.mul(dh, tcs[t])], 1);
      dzs[t] = tf.mul(dSig, dSigs[t]);
      dhNext = tf.matMul(dzs[t], uT);
      dcNext = tf.mul(dc, fs[t]);
    }
    const dProjected = tf.stack(dzs);
    const dKernel = tf.matMul(tf.reshape(hPrevAll, [steps * batch, n]), tf.reshape(dProjected, [steps * batch, width]), true, false);
    return [dProjected, dKernel];
  };
  return { value, gradFunc: gradFunc as (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };
});

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

/** What the sequence layers share: units, whether all states are returned, seed, config. */
abstract class LstmSequenceLayer extends RecurrentLayer {
  readonly units: number;
  readonly returnSequences: boolean;
  protected readonly seed: number;
  /** 1, or 2 for a bidirectional layer (its output is 2·units wide) */
  protected abstract readonly directions: number;

  constructor(args: RecurrentArgs) {
    super({ name: args.name });
    this.units = args.units;
    this.returnSequences = args.returnSequences ?? false;
    this.seed = args.seed ?? 0;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [b, t] = inputShape as tf.Shape;
    const width = this.directions * this.units;
    return this.returnSequences ? [b, t, width] : [b, width];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units, returnSequences: this.returnSequences, seed: this.seed };
  }
}

/** An LSTM over a whole sequence (zero initial state). */
export class Lstm extends LstmSequenceLayer {
  static className = 'SeqlabLstm';
  protected readonly directions = 1;
  private w!: LstmWeights;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    this.w = this.addLstmWeights('', shape[2]!, this.units, this.seed);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, steps] = x.shape;
      const projected = tf.transpose(projectSequence(x, this.w.kernel.read(), this.w.bias.read()), [1, 0, 2]) as tf.Tensor3D;
      const states = lstmSequence(projected, this.w.recurrentKernel.read() as tf.Tensor2D); // [T, batch, n]
      if (!this.returnSequences) return tf.reshape(tf.slice(states, [steps - 1, 0, 0], [1, batch, this.units]), [batch, this.units]);
      return tf.transpose(states, [1, 0, 2]);
    });
  }

}
tf.serialization.registerClass(Lstm);

/**
 * A bidirectional LSTM (zero initial states), run as one LSTM of 2·units: at step t it reads
 * [x_t ; x_(T-1-t)] and its state is [h_fwd(t) ; h_bwd(T-1-t)]. The kernels are assembled
 * block-diagonally (forward weights never see backward state) with the gate columns interleaved
 * [i_f i_b | f_f f_b | c_f c_b | o_f o_b], so each step is one 2-D matMul and 12 ops for both
 * directions. The input projection is done per direction (no zero blocks) for all steps at once.
 * The output concatenates the two directions like Keras' Bidirectional(merge_mode='concat').
 */
export class BidirectionalLstm extends LstmSequenceLayer {
  static className = 'SeqlabBidirectionalLstm';
  protected readonly directions = 2;
  private fwd!: LstmWeights;
  private bwd!: LstmWeights;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const d = (inputShape as tf.Shape)[2]!;
    this.fwd = this.addLstmWeights('forward_', d, this.units, this.seed);
    this.bwd = this.addLstmWeights('backward_', d, this.units, this.seed + 7);
    this.built = true;
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
      const projected = tf.reshape(tf.concat([pF, pB], 3), [steps, batch, 8 * n]) as tf.Tensor3D;
      const recurrent = tf.concat([interleave(this.fwd.recurrentKernel.read(), 0, n), interleave(this.bwd.recurrentKernel.read(), 1, n)], 0);
      const states = lstmSequence(projected, recurrent as tf.Tensor2D); // [T, batch, 2n]: [h_fwd(t) ; h_bwd(T-1-t)]
      if (!this.returnSequences) return tf.reshape(tf.slice(states, [steps - 1, 0, 0], [1, batch, 2 * n]), [batch, 2 * n]);
      const [hF, hB] = tf.split(states, 2, 2);
      return tf.transpose(tf.concat([hF, tf.reverse(hB, 0)], 2), [1, 0, 2]);
    });
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
