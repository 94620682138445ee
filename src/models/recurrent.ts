/**
 * The one seam for recurrent layers. Every model in seqlab gets its LSTMs and GRUs from here, so a faster
 * implementation (a fused kernel, one op per sequence) can replace this one everywhere at once.
 *
 * Why not tf.layers.lstm: on the wasm backend each tfjs op costs 20-150 us of overhead, and
 * tfjs-layers' LSTM spends ~20 ops per step plus per-step slicing, and autodiff doubles that.
 * Here:
 * - a sequence is one custom-gradient op with a hand-written backward pass; on the wasm and cpu
 *   backends a whole layer is one op (lstmLayerOp, gruLayerOp): the input projection, the recursion
 *   and every gradient run in seqlab's SIMD kernels (src/kernels/simd.ts), batch-major in and out,
 *   so a step costs no tfjs ops at all and a layer no transposes, and what the forward pass saves
 *   stays in kernel memory for the backward pass (keepForBackward); elsewhere the input projection
 *   of a whole sequence is one matMul, and on webgpu an LSTM or GRU sequence is one GPU
 *   dispatch each way (src/core/webgpu-kernels.ts); elsewhere (a native backend, or
 *   SEQLAB_KERNELS=0) it runs op by op (lstmSequence, gruSequence);
 * - a bidirectional LSTM is two such ops on the kernels; elsewhere both directions run as one LSTM
 *   with a block-diagonal kernel, so a step is one 2-D matMul for both;
 * - the attention decoder (src/models/attention.ts) is one such op on the kernels; elsewhere it
 *   interleaves attention with lstmStep.
 * Weights follow the Keras layout (kernel [in, 4n], recurrentKernel [n, 4n], bias [4n], gates in
 * the order i, f, c, o) and the layers compute what tf.layers.lstm with sigmoid gates computes
 * (test/recurrent.test.ts compares outputs and every gradient).
 */
import * as tf from '@tensorflow/tfjs';
import { arena, F32, keep, kernels, weightGradient } from '../core/kernels';
import { GRU_BACKWARD, GRU_FORWARD, LSTM_BACKWARD, LSTM_FORWARD, onWebgpuKernels } from '../core/webgpu-kernels';

type Kwargs = Record<string, unknown>;
type LayerVariable = tf.LayerVariable;

interface HeapBackend {
  typedArrayFromHeap(t: { dataId: object; shape: number[]; dtype: tf.DataType }): Float32Array;
}

/**
 * A float32 tensor's values to copy from at once: on wasm a view of the backend's heap (no copy;
 * valid only until the next tfjs op, which may move the heap), elsewhere dataSync() (the kernels run on wasm and cpu only).
 */
export function valuesOf(t: tf.Tensor): Float32Array {
  if (tf.getBackend() === 'wasm' && t.dtype === 'float32') return (tf.backend() as unknown as HeapBackend).typedArrayFromHeap(t as never);
  return t.dataSync() as Float32Array;
}

/** A tensor of values in kernel memory: copied once (the wasm backend copies into its heap; others keep the array given them, so that gets its own copy). */
export function tensorOf<R extends tf.Rank>(values: Float32Array, shape: tf.ShapeMap[R]): tf.Tensor<R> {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, 'float32') as tf.Tensor<R>;
}

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
  // (on the kernels, wasm or webgpu, the layers run lstmOnKernels / lstmOnWebgpu instead)
  return lstmSequenceOp(projected, recurrentKernel) as tf.Tensor3D;
}

/**
 * An LSTM layer's recursion on the webgpu backend, batch-major: from x·W + b [B, T, 4n] (a layer's
 * projectSequence) and U, every state [B, T, n], read from the start or (`reverse`) from the end, in
 * one dispatch each way with no transposes or reversals around it; the state after reading step i
 * is at i either way. The recurrent kernel's gradient is one matMul over all steps.
 */
function lstmLayerGpuOp(reverse: boolean) {
  const attrs = { reverse } as unknown as tf.NamedAttrMap;
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [projected, recurrentKernel, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [B, T, width] = projected.shape as number[];
    const n = width / 4;
    const saved = tf.engine().runKernel(LSTM_FORWARD, { P: projected, U: recurrentKernel }, attrs) as tf.Tensor;
    save([saved, recurrentKernel]);
    const gradFunc = (dy: tf.Tensor, [s, u]: tf.Tensor[]) => {
      const dz = tf.engine().runKernel(LSTM_BACKWARD, { Saved: s, U: u, DY: dy }, attrs) as tf.Tensor;
      // the state each step started from: the one read before it (zeros for the first read)
      const hPrev = T === 1 ? tf.zeros([B, 1, n]) : reverse ? tf.pad(tf.slice(s, [0, 1, 0], [B, T - 1, n]), [[0, 0], [0, 1], [0, 0]]) : tf.pad(tf.slice(s, [0, 0, 0], [B, T - 1, n]), [[0, 0], [1, 0], [0, 0]]);
      const dKernel = tf.matMul(tf.reshape(hPrev, [B * T, n]), tf.reshape(dz, [B * T, width]), true, false);
      return [dz, dKernel];
    };
    return { value: tf.slice(saved, [0, 0, 0], [B, T, n]), gradFunc: gradFunc as (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };
  });
}
const lstmLayerGpu = [lstmLayerGpuOp(false), lstmLayerGpuOp(true)];

/** An LSTM layer's states [B, T, n] on the webgpu kernels: its projection (one matMul with the bias), then the recursion. */
function lstmOnWebgpu(x: tf.Tensor3D, w: LstmWeights, reverse: boolean): tf.Tensor3D {
  return lstmLayerGpu[reverse ? 1 : 0](projectSequence(x, w.kernel.read(), w.bias.read()), w.recurrentKernel.read()) as tf.Tensor3D;
}

/**
 * Keeps a kernel op's saved arrays (laid out first by its forward pass) in kernel memory for its
 * gradient function, which releases them; only while a gradient tape records (a training step),
 * and no longer than that tape lives (a gradient never asked for). Without a tape nothing is kept.
 */
export function keepForBackward(arrays: F32[]): { release(): void } {
  const state = tf.engine().state;
  if (state.gradientDepth === 0) return { release: () => undefined };
  const tape = state.activeTape;
  return keep(arrays, () => tf.engine().state.activeTape !== tape);
}

/**
 * An LSTM layer over a batch-major sequence x [B, T, d] as one op on seqlab's kernels: the input
 * projection x·W + b, the recursion (lstmForward) and, backwards, the recursion (lstmBackward) and
 * every gradient (x, W, b, U) as products in kernel memory, so the gate pre-activations [B, T, 4n]
 * never become tensors. Returns every state [B, T, n]. With `reverse` it reads the sequence from its
 * end (a bidirectional layer's backward direction) and state t is the one after reading step t.
 * Inside, rows are in the order they are read (time-major): only x, the states and their gradients
 * (d or n wide, not 4n) are reordered. What the backward pass needs stays where the forward pass
 * made it in kernel memory (keepForBackward), not as tensors.
 */
function lstmLayerOp(reverse: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, kernel, bias, recurrentKernel] = args as tf.Tensor[];
    const [B, T, d] = x.shape as number[];
    const width = kernel.shape[1]!;
    const n = width / 4;
    const TB = T * B;
    const k = kernels();
    // what the backward pass reads first (kept where it is made while a tape records), then room to work in
    const [W, U, xt, hs, cs, gates, tcs, xk, b, proj, UT, z, out] = arena(
      [d * width, n * width, TB * d, (T + 1) * B * n, (T + 1) * B * n, TB * width, TB * n, TB * d, width, TB * width, width * n, B * width, TB * n],
      false,
    );
    xk.view.set(valuesOf(x));
    W.view.set(valuesOf(kernel));
    b.view.set(valuesOf(bias));
    U.view.set(valuesOf(recurrentKernel));
    hs.view.fill(0, 0, B * n); // h_0 = c_0 = 0
    cs.view.fill(0, 0, B * n);
    k.reorder32(xk.ptr, xt.ptr, B, T, d, true, reverse);
    k.repeatRow32(b.ptr, proj.ptr, TB, width);
    k.gemmAB32(xt.ptr, d, W.ptr, width, proj.ptr, width, TB, width, d, true);
    k.transpose32(U.ptr, UT.ptr, n, width);
    k.lstmForward(proj.ptr, UT.ptr, T, B, n, hs.ptr, cs.ptr, gates.ptr, tcs.ptr, z.ptr);
    k.reorder32(hs.ptr + B * n * 4, out.ptr, B, T, n, false, reverse);
    const value = tensorOf<tf.Rank.R3>(out.view, [B, T, n]);
    const held = keepForBackward([W, U, xt, hs, cs, gates, tcs]);

    const gradFunc = (dy: tf.Tensor) => {
      try {
        const [dyk, dys, dz, dh, dc, sums, dU, dW, dxt, dx] = arena([TB * n, TB * n, TB * width, B * n, B * n, width, n * width, d * width, TB * d, TB * d], false);
        dyk.view.set(valuesOf(dy));
        dh.view.fill(0);
        dc.view.fill(0);
        k.reorder32(dyk.ptr, dys.ptr, B, T, n, true, reverse);
        k.lstmBackward(dys.ptr, U.ptr, T, B, n, cs.ptr, gates.ptr, tcs.ptr, dz.ptr, dh.ptr, dc.ptr);
        // dU = Σ over steps and examples of h_prevᵀ dz (h_0 ... h_(T-1) lead hs); db = Σ dz; dW = Σ x_tᵀ dz; dx = dz Wᵀ
        const db = weightGradient(hs, n, dz, width, TB, dU, sums);
        k.gemmAtB32(xt.ptr, d, dz.ptr, width, dW.ptr, width, d, width, TB, false);
        k.gemmABt32(dz.ptr, width, W.ptr, width, dxt.ptr, d, TB, d, width, 0, false);
        k.reorder32(dxt.ptr, dx.ptr, B, T, d, false, reverse);
        return [tensorOf<tf.Rank.R3>(dx.view, [B, T, d]), tensorOf<tf.Rank.R2>(dW.view, [d, width]), tf.tensor1d(db), tensorOf<tf.Rank.R2>(dU.view, [n, width])];
      } finally {
        held.release();
      }
    };
    return { value, gradFunc: gradFunc as (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };
  });
}
const lstmLayerForward = lstmLayerOp(false);
const lstmLayerBackward = lstmLayerOp(true);

/** An LSTM layer's weights through lstmLayerOp, in one direction. */
function lstmOnKernels(x: tf.Tensor, w: LstmWeights, reverse: boolean): tf.Tensor3D {
  return (reverse ? lstmLayerBackward : lstmLayerForward)(x, w.kernel.read(), w.bias.read(), w.recurrentKernel.read()) as tf.Tensor3D;
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

export interface GruWeights {
  kernel: LayerVariable;
  recurrentKernel: LayerVariable;
  /** [2, 3n]: input bias, recurrent bias */
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
  /**
   * Keras' GRU weights with reset_after=true: kernel [in, 3n] and recurrent kernel [n, 3n] with the
   * gates in the order z (update), r (reset), h (candidate), and bias [2, 3n]: row 0 is added to
   * x·W, row 1 to h·U (so the reset gate multiplies h·U_h + b_h as a whole).
   */
  protected addGruWeights(prefix: string, inputDim: number, units: number, seed: number): GruWeights {
    const kernel = this.addWeight(`${prefix}kernel`, [inputDim, 3 * units], 'float32', tf.initializers.glorotUniform({ seed }));
    const recurrentKernel = this.addWeight(`${prefix}recurrent_kernel`, [units, 3 * units], 'float32', tf.initializers.orthogonal({ seed: seed + 1, gain: 1 }));
    const bias = this.addWeight(`${prefix}bias`, [2, 3 * units], 'float32', tf.initializers.zeros());
    return { kernel, recurrentKernel, bias };
  }

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
abstract class SequenceLayer extends RecurrentLayer {
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
export class Lstm extends SequenceLayer {
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
      if (onKernels() || onWebgpuKernels()) {
        const states = onKernels() ? lstmOnKernels(x, this.w, false) : lstmOnWebgpu(x, this.w, false); // [batch, T, n]
        return this.returnSequences ? states : tf.reshape(tf.slice(states, [0, steps - 1, 0], [batch, 1, this.units]), [batch, this.units]);
      }
      const projected = tf.transpose(projectSequence(x, this.w.kernel.read(), this.w.bias.read()), [1, 0, 2]) as tf.Tensor3D;
      const states = lstmSequence(projected, this.w.recurrentKernel.read() as tf.Tensor2D); // [T, batch, n]
      if (!this.returnSequences) return tf.reshape(tf.slice(states, [steps - 1, 0, 0], [1, batch, this.units]), [batch, this.units]);
      return tf.transpose(states, [1, 0, 2]);
    });
  }

  /**
   * One step of the trained layer, state in and out: x [batch, in], the previous h and c
   * [batch, units] (zeros to start). Sampling costs one step per token this way, not a re-run of
   * the whole prefix. Same numbers as the sequence op (test/recurrent.test.ts).
   */
  step(x: tf.Tensor2D, state: { h: tf.Tensor2D; c: tf.Tensor2D }): { h: tf.Tensor2D; c: tf.Tensor2D } {
    return tf.tidy(() => {
      const [h, c] = lstmStep(tf.add(tf.matMul(x, this.w.kernel.read()), this.w.bias.read()), state.h, state.c, this.w.recurrentKernel.read());
      return { h: h as tf.Tensor2D, c: c as tf.Tensor2D };
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
export class BidirectionalLstm extends SequenceLayer {
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
      if (onKernels() || onWebgpuKernels()) {
        // each direction one kernel op on its own projection, batch-major throughout
        const run = onKernels() ? lstmOnKernels : lstmOnWebgpu;
        const hF = run(x, this.fwd, false);
        const hB = run(x, this.bwd, true);
        if (this.returnSequences) return tf.concat([hF, hB], 2);
        // the forward direction's last state and the backward direction's (after reading step 0)
        return tf.concat([tf.reshape(tf.slice(hF, [0, steps - 1, 0], [batch, 1, n]), [batch, n]), tf.reshape(tf.slice(hB, [0, 0, 0], [batch, 1, n]), [batch, n])], 1);
      }
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

/**
 * A GRU over a whole sequence, Keras' GRU with reset_after=true (the cuDNN layout the course's
 * trigger model uses; tfjs-layers 4.22 refuses it). With a second input [batch, units] it starts
 * from that state instead of zeros, so a long signal can be run in pieces.
 */
export class Gru extends SequenceLayer {
  static className = 'SeqlabGru';
  protected readonly directions = 1;
  private w!: GruWeights;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    this.w = this.addGruWeights('', shape[2]!, this.units, this.seed);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return super.computeOutputShape((Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const [x, h0] = (Array.isArray(inputs) ? inputs : [inputs]) as [tf.Tensor3D, tf.Tensor2D?];
      const [batch, steps] = x.shape;
      const start = h0 ?? tf.zeros([batch, this.units]);
      if (onKernels()) {
        const states = gruLayerOp(x, this.w.kernel.read(), this.w.bias.read(), this.w.recurrentKernel.read(), start) as tf.Tensor3D; // [batch, T, n]
        return this.returnSequences ? states : tf.reshape(tf.slice(states, [0, steps - 1, 0], [batch, 1, this.units]), [batch, this.units]);
      }
      const [bIn, bRec] = tf.unstack(this.w.bias.read());
      const projected = tf.transpose(projectSequence(x, this.w.kernel.read(), bIn), [1, 0, 2]) as tf.Tensor3D;
      const states = gruSequence(projected, this.w.recurrentKernel.read() as tf.Tensor2D, bRec as tf.Tensor1D, start);
      if (!this.returnSequences) return tf.reshape(tf.slice(states, [steps - 1, 0, 0], [1, batch, this.units]), [batch, this.units]);
      return tf.transpose(states, [1, 0, 2]);
    });
  }
}
tf.serialization.registerClass(Gru);

/**
 * One GRU step (reset_after=true), for references and step-by-step decoding: `xProj` is x·W + b_in
 * [batch, 3n] (gates z, r, h), h the previous state.
 */
export function gruStep(xProj: tf.Tensor, h: tf.Tensor, recurrentKernel: tf.Tensor, recurrentBias: tf.Tensor): tf.Tensor {
  const [xz, xr, xh] = tf.split(xProj, 3, -1);
  const [hz, hr, hh] = tf.split(tf.add(tf.matMul(h, recurrentKernel), recurrentBias), 3, -1);
  const z = tf.sigmoid(tf.add(xz, hz));
  const r = tf.sigmoid(tf.add(xr, hr));
  const cand = tf.tanh(tf.add(xh, tf.mul(r, hh)));
  return tf.add(tf.mul(z, h), tf.mul(tf.sub(1, z), cand));
}

/**
 * A whole GRU sequence as one op with a hand-written backward pass, like lstmSequence.
 * `projected` is x·W + b_in for every step, time-major [steps, batch, 3n]; `h0` the initial state
 * [batch, n]; returns every state [steps, batch, n] (the last is the state to carry on from).
 */
export function gruSequence(projected: tf.Tensor3D, recurrentKernel: tf.Tensor2D, recurrentBias: tf.Tensor1D, h0: tf.Tensor2D): tf.Tensor3D {
  if (onKernels()) {
    // the layer op with an identity input kernel and no input bias (products by 1 and 0 are exact)
    const width = projected.shape[2];
    const biases = tf.stack([tf.zeros([width]), recurrentBias]);
    return tf.transpose(gruLayerOp(tf.transpose(projected, [1, 0, 2]), tf.eye(width), biases, recurrentKernel, h0), [1, 0, 2]) as tf.Tensor3D;
  }
  const op = onWebgpuKernels() ? gruSequenceGpuOp : gruSequenceOp;
  return op(projected, recurrentKernel, recurrentBias, h0) as tf.Tensor3D;
}

/** gruSequence on the webgpu backend: one GPU dispatch each way (src/core/webgpu-kernels.ts), like lstmSequenceGpuOp. */
const gruSequenceGpuOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [projected, recurrentKernel, recurrentBias, h0, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const [T, B, width] = projected.shape as number[];
  const n = width / 3;
  const saved = tf.engine().runKernel(GRU_FORWARD, { P: projected, U: recurrentKernel, Bias: recurrentBias, H0: h0 }, {}) as tf.Tensor;
  const value = tf.slice(saved, [0, 0, 0], [T, B, n]);
  save([saved, recurrentKernel, h0]);
  const gradFunc = (dy: tf.Tensor, [s, u, start]: tf.Tensor[]) => {
    const out = tf.engine().runKernel(GRU_BACKWARD, { Saved: s, U: u, H0: start, DY: dy }, {}) as tf.Tensor;
    const dRec = tf.slice(out, [0, 0, 0], [T, B, width]); // d(h·U + b_rec): [dz, dr, dhh]
    const dProjected = tf.concat([tf.slice(out, [0, 0, 0], [T, B, 2 * n]), tf.slice(out, [0, 0, 3 * n], [T, B, n])], 2);
    const dh0 = tf.reshape(tf.slice(out, [T, 0, 0], [1, B, n]), [B, n]);
    const hPrev = T === 1 ? start : tf.concat([tf.reshape(start, [1, B, n]), tf.slice(s, [0, 0, 0], [T - 1, B, n])], 0);
    const flat = tf.reshape(dRec, [T * B, width]);
    const dKernel = tf.matMul(tf.reshape(hPrev, [T * B, n]), flat, true, false);
    return [dProjected, dKernel, tf.sum(flat, 0), dh0];
  };
  return { value, gradFunc: gradFunc as (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };
});

/**
 * Whether sequences run in seqlab's own kernels (src/kernels/simd.ts): on the CPU backends that
 * read tensors synchronously (wasm, cpu), where a step's dozen small tfjs ops cost more in
 * overhead than in arithmetic. SEQLAB_KERNELS=0 turns them off (for comparisons).
 */
export function onKernels(): boolean {
  const backend = tf.getBackend();
  return (backend === 'wasm' || backend === 'cpu') && process.env.SEQLAB_KERNELS !== '0';
}

/**
 * A GRU layer over a batch-major sequence x [B, T, d] from h0 [B, n] as one op on seqlab's kernels,
 * like lstmLayerOp: the input projection x·W + b_in, the recursion (gruForward) and, backwards,
 * the recursion (gruBackward) and every gradient (x, W, the biases [2, 3n], U, h0) as products in
 * kernel memory. Returns every state [B, T, n]. Inside, rows are time-major; only x, the states and
 * their gradients are reordered; what the backward pass needs stays in kernel memory (keepForBackward).
 */
const gruLayerOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, kernel, bias, recurrentKernel, h0] = args as tf.Tensor[];
  const [B, T, d] = x.shape as number[];
  const width = kernel.shape[1]!;
  const n = width / 3;
  const TB = T * B;
  const k = kernels();
  // what the backward pass reads first (kept where it is made while a tape records), then room to work in
  const [W, U, xt, hs, zr, cand, hh, xk, biases, proj, UT, hp, out] = arena(
    [d * width, n * width, TB * d, (T + 1) * B * n, TB * 2 * n, TB * n, TB * n, TB * d, 2 * width, TB * width, width * n, B * width, TB * n],
    false,
  );
  xk.view.set(valuesOf(x));
  W.view.set(valuesOf(kernel));
  biases.view.set(valuesOf(bias));
  U.view.set(valuesOf(recurrentKernel));
  hs.view.set(valuesOf(h0)); // h_0, then room for h_1 ... h_T
  k.reorder32(xk.ptr, xt.ptr, B, T, d, true, false);
  k.repeatRow32(biases.ptr, proj.ptr, TB, width); // b_in, row 0 of the biases
  k.gemmAB32(xt.ptr, d, W.ptr, width, proj.ptr, width, TB, width, d, true);
  k.transpose32(U.ptr, UT.ptr, n, width);
  k.gruForward(proj.ptr, UT.ptr, biases.ptr + width * 4, T, B, n, hs.ptr, zr.ptr, cand.ptr, hh.ptr, hp.ptr);
  k.reorder32(hs.ptr + B * n * 4, out.ptr, B, T, n, false, false);
  const value = tensorOf<tf.Rank.R3>(out.view, [B, T, n]);
  const held = keepForBackward([W, U, xt, hs, zr, cand, hh]);

  const gradFunc = (dy: tf.Tensor) => {
    try {
      const [dyk, dys, dProj, dHp, dh, sums, dU, dW, dxt, dx] = arena([TB * n, TB * n, TB * width, TB * width, B * n, width, n * width, d * width, TB * d, TB * d], false);
      dyk.view.set(valuesOf(dy));
      dh.view.fill(0);
      k.reorder32(dyk.ptr, dys.ptr, B, T, n, true, false);
      k.gruBackward(dys.ptr, U.ptr, T, B, n, hs.ptr, zr.ptr, cand.ptr, hh.ptr, dProj.ptr, dHp.ptr, dh.ptr);
      // dU = Σ h_prevᵀ dHp and db_rec = Σ dHp; dW = Σ x_tᵀ dProj and db_in = Σ dProj; dx = dProj Wᵀ
      const dbRec = weightGradient(hs, n, dHp, width, TB, dU, sums);
      const dbIn = weightGradient(xt, d, dProj, width, TB, dW, sums);
      k.gemmABt32(dProj.ptr, width, W.ptr, width, dxt.ptr, d, TB, d, width, 0, false);
      k.reorder32(dxt.ptr, dx.ptr, B, T, d, false, false);
      return [
        tensorOf<tf.Rank.R3>(dx.view, [B, T, d]),
        tensorOf<tf.Rank.R2>(dW.view, [d, width]),
        tf.tensor2d([...dbIn, ...dbRec], [2, width]),
        tensorOf<tf.Rank.R2>(dU.view, [n, width]),
        tensorOf<tf.Rank.R2>(dh.view, [B, n]),
      ];
    } finally {
      held.release();
    }
  };
  return { value, gradFunc: gradFunc as (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };
});

const gruSequenceOp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [projected, recurrentKernel, recurrentBias, h0, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  const [steps, batch, width] = projected.shape as number[];
  const n = width / 3;
  // the input's share, split once for all steps: [z r] gates and the candidate
  const xzrs = unstackSteps(tf.slice(projected, [0, 0, 0], [steps, batch, 2 * n]), 0);
  const xhs = unstackSteps(tf.slice(projected, [0, 0, 2 * n], [steps, batch, n]), 0);
  let h: tf.Tensor = h0;
  const prev: tf.Tensor[] = [];
  const gates: tf.Tensor[] = [];
  const cands: tf.Tensor[] = [];
  const hhs: tf.Tensor[] = [];
  for (let t = 0; t < steps; t++) {
    const hp = tf.add(tf.matMul(h, recurrentKernel), recurrentBias);
    const hh = tf.slice(hp, [0, 2 * n], [batch, n]);
    const zr = tf.sigmoid(tf.add(xzrs[t], tf.slice(hp, [0, 0], [batch, 2 * n])));
    const r = tf.slice(zr, [0, n], [batch, n]);
    const z = tf.slice(zr, [0, 0], [batch, n]);
    const cand = tf.tanh(tf.add(xhs[t], tf.mul(r, hh)));
    prev.push(h);
    h = tf.add(cand, tf.mul(z, tf.sub(h, cand))); // z·h + (1 − z)·cand
    gates.push(zr);
    cands.push(cand);
    hhs.push(hh);
  }
  prev.push(h);
  const all = tf.stack(prev); // [steps + 1, batch, n]: h_0 ... h_T
  const value = tf.slice(all, [1, 0, 0], [steps, batch, n]);
  save([tf.stack(gates), tf.stack(cands), tf.stack(hhs), tf.slice(all, [0, 0, 0], [steps, batch, n]), recurrentKernel]);

  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [zrAll, candAll, hhAll, hPrevAll, u] = saved;
    // everything that does not depend on the recursion, for all steps at once
    const zAll = tf.slice(zrAll, [0, 0, 0], [steps, batch, n]);
    const rAll = tf.slice(zrAll, [0, 0, n], [steps, batch, n]);
    const zs = unstackSteps(zAll, 0);
    const rs = unstackSteps(rAll, 0);
    const toA = unstackSteps(tf.mul(tf.sub(1, zAll), tf.sub(1, tf.square(candAll))), 0); // dh → d(candidate pre-activation)
    const toZ = unstackSteps(tf.mul(tf.sub(hPrevAll, candAll), tf.mul(zAll, tf.sub(1, zAll))), 0); // dh → d(z pre-activation)
    const toR = unstackSteps(tf.mul(hhAll, tf.mul(rAll, tf.sub(1, rAll))), 0); // da → d(r pre-activation)
    const dys = unstackSteps(dy, 0);
    const uT = tf.transpose(u);
    let dhNext: tf.Tensor = tf.zeros([batch, n]);
    const dHp: tf.Tensor[] = new Array(steps); // d(h·U + b_rec) per step: [dz, dr, d hh]
    const dAs: tf.Tensor[] = new Array(steps); // d(candidate pre-activation) = d(x_h)
    for (let t = steps - 1; t >= 0; t--) {
      const dh = tf.add(dys[t], dhNext);
      const da = tf.mul(dh, toA[t]);
      dHp[t] = tf.concat([tf.mul(dh, toZ[t]), tf.mul(da, toR[t]), tf.mul(da, rs[t])], 1);
      dAs[t] = da;
      dhNext = tf.add(tf.mul(dh, zs[t]), tf.matMul(dHp[t], uT));
    }
    const dRec = tf.stack(dHp); // [steps, batch, 3n]
    const dProjected = tf.concat([tf.slice(dRec, [0, 0, 0], [steps, batch, 2 * n]), tf.stack(dAs)], 2);
    const flat = tf.reshape(dRec, [steps * batch, width]);
    const dKernel = tf.matMul(tf.reshape(hPrevAll, [steps * batch, n]), flat, true, false);
    const dBias = tf.sum(flat, 0);
    return [dProjected, dKernel, dBias, dhNext];
  };
  return { value, gradFunc: gradFunc as (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };
});

/** The builders models use. */
export const gru = (args: RecurrentArgs) => new Gru(args);
export const lstm = (args: RecurrentArgs) => new Lstm(args);
export const bidirectionalLstm = (args: RecurrentArgs) => new BidirectionalLstm(args);
