/**
 * The course's attention model for sequence-to-sequence translation (Bahdanau-style additive
 * attention), used by the date translator:
 *
 *   input [batch, Tx, inputVocab] one-hot
 *     → Bi-LSTM(encoderUnits), all states a  [batch, Tx, 2·encoderUnits]
 *     → for each of Ty output steps:
 *         energies = Dense(1, relu or linear)(Dense(attentionUnits, tanh)([a; s_prev]))   over Tx
 *         alphas   = softmax(energies)                                          over Tx
 *         context  = Σ alphas · a
 *         s, c     = LSTM(decoderUnits) step on context, from (s_prev, c_prev)
 *     → Dense(outputVocab, softmax) on every s   [batch, Ty, outputVocab]
 */
import * as tf from '@tensorflow/tfjs';
import { arena, kernels, weightGradient } from '../core/kernels';
import { ATTENTION_BACKWARD, ATTENTION_FORWARD, onWebgpuKernels } from '../core/webgpu-kernels';
import { bidirectionalLstm, keepForBackward, lstmStep, LstmWeights, onKernels, projectSequence, RecurrentLayer, tensorOf, valuesOf } from './recurrent';

export interface AttentionModelConfig {
  /** characters the encoder can read (one-hot width) */
  inputVocabSize: number;
  /** characters the decoder can write */
  outputVocabSize: number;
  /** input length Tx; null: any length (each batch its own) */
  inputLength: number | null;
  /** output length Ty */
  outputLength: number;
  /** units per direction of the encoder Bi-LSTM (course n_a = 32) */
  encoderUnits: number;
  /** units of the post-attention LSTM (course n_s = 64) */
  decoderUnits: number;
  /** width of the attention's hidden Dense (course: 10) */
  attentionUnits: number;
  /** activation of the attention energies: the course's relu, or linear (Bahdanau's v·tanh(...), no dead energies) */
  energyActivation?: 'relu' | 'linear';
  seed?: number;
}

/** The course's sizes: 52,960 parameters with its 37-character input vocabulary. */
export const COURSE_SIZES = { encoderUnits: 32, decoderUnits: 64, attentionUnits: 10 } as const;

interface DecoderArgs {
  steps: number;
  units: number;
  attentionUnits: number;
  energyActivation?: 'relu' | 'linear';
  seed?: number;
  name?: string;
}

/**
 * The attention loop: Ty steps of attention over the encoder states followed by one step of the
 * post-attention LSTM. Returns the decoder states [batch, Ty, units] and the attention weights
 * [batch, Ty, Tx] (what the attention map shows).
 *
 * The attention's first Dense acts on [a; s_prev]; its kernel is kept as two blocks (the a rows and
 * the s rows) so the a half is computed once per sequence instead of once per output step.
 */
export class AttentionDecoder extends RecurrentLayer {
  static className = 'SeqlabAttentionDecoder';
  private readonly args: DecoderArgs;
  private energyKernelA!: tf.LayerVariable;
  private energyKernelS!: tf.LayerVariable;
  private energyBias!: tf.LayerVariable;
  private scoreKernel!: tf.LayerVariable;
  private scoreBias!: tf.LayerVariable;
  private cell!: LstmWeights;

  constructor(args: DecoderArgs) {
    super({ name: args.name });
    this.args = args;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const featureDim = (inputShape as tf.Shape)[2]!;
    const { units, attentionUnits: e, seed = 0 } = this.args;
    const glorot = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
    this.energyKernelA = this.addWeight('energy_kernel_a', [featureDim, e], 'float32', glorot(1));
    this.energyKernelS = this.addWeight('energy_kernel_s', [units, e], 'float32', glorot(2));
    this.energyBias = this.addWeight('energy_bias', [e], 'float32', tf.initializers.zeros());
    this.scoreKernel = this.addWeight('score_kernel', [e, 1], 'float32', glorot(3));
    this.scoreBias = this.addWeight('score_bias', [1], 'float32', tf.initializers.zeros());
    this.cell = this.addLstmWeights('lstm_', featureDim, units, seed + 4);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape[] {
    const [b, tx] = inputShape as tf.Shape;
    return [
      [b, this.args.steps, this.args.units],
      [b, this.args.steps, tx],
    ];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor[] {
    return tf.tidy(() => {
      const a = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor3D;
      const [batch, tx] = a.shape;
      const { units, attentionUnits: e, steps } = this.args;
      const keys = projectSequence(a, this.energyKernelA.read(), this.energyBias.read()); // [b, Tx, e]
      if (onWebgpuKernels()) {
        const linear = this.args.energyActivation === 'linear';
        const args = [a, keys, this.energyKernelS.read(), this.scoreKernel.read(), this.scoreBias.read(), this.cell.kernel.read(), this.cell.bias.read(), this.cell.recurrentKernel.read()];
        const rows = (linear ? attentionGpuLinear : attentionGpuRelu)(steps)(...args);
        const width = rows.shape[2];
        return [tf.slice(rows, [0, 0, 0], [batch, steps, units]), tf.slice(rows, [0, 0, width - tx], [batch, steps, tx])];
      }
      if (onKernels()) {
        const op = attentionKernelOp(steps, this.args.energyActivation === 'linear');
        const out = op(a, keys, this.energyKernelS.read(), this.scoreKernel.read(), this.scoreBias.read(), this.cell.kernel.read(), this.cell.bias.read(), this.cell.recurrentKernel.read());
        return [tf.slice(out, [0, 0, 0], [batch, steps, units]), tf.slice(out, [0, 0, units], [batch, steps, tx])];
      }
      const energyS = this.energyKernelS.read();
      const score = this.scoreKernel.read();
      const scoreBias = this.scoreBias.read();
      const cellKernel = this.cell.kernel.read();
      const cellBias = this.cell.bias.read();
      const cellRecurrent = this.cell.recurrentKernel.read();

      let s: tf.Tensor = tf.zeros([batch, units]);
      let c: tf.Tensor = tf.zeros([batch, units]);
      const states: tf.Tensor[] = [];
      const alphas: tf.Tensor[] = [];
      for (let t = 0; t < steps; t++) {
        const hidden = tf.tanh(tf.add(keys, tf.reshape(tf.matMul(s, energyS), [batch, 1, e])));
        const raw = tf.add(tf.matMul(tf.reshape(hidden, [batch * tx, e]), score), scoreBias);
        const energies = this.args.energyActivation === 'linear' ? raw : tf.relu(raw);
        const alpha = tf.softmax(tf.reshape(energies, [batch, tx])); // over Tx
        // Σ_t alpha_t · a_t; as multiply + sum, since a batched matMul is slow on wasm
        const context = tf.sum(tf.mul(tf.reshape(alpha, [batch, tx, 1]), a), 1);
        [s, c] = lstmStep(tf.add(tf.matMul(context, cellKernel), cellBias), s, c, cellRecurrent);
        states.push(s);
        alphas.push(alpha);
      }
      return [tf.stack(states, 1), tf.stack(alphas, 1)];
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const { steps, units, attentionUnits, seed, energyActivation } = this.args;
    return { ...super.getConfig(), steps, units, attentionUnits, seed: seed ?? 0, ...(energyActivation ? { energyActivation } : {}) };
  }
}
tf.serialization.registerClass(AttentionDecoder);

/**
 * The whole attention loop as one op on the CPU backends (see onKernels): its forward and backward
 * passes are one call each into seqlab's kernels (attentionForward, attentionBackward in
 * src/kernels/simd.ts), where the op-by-op loop in AttentionDecoder.call costs ~25 tfjs ops per
 * step forward and more backward. Inputs: a [B, Tx, F], keys [B, Tx, e], the s-kernel Ws [n, e],
 * score kernel v [e, 1] and bias [1], the LSTM's kernel Wc [F, 4n], bias [4n] and recurrent kernel
 * U [n, 4n]; the output is [B, Ty, n + Tx]: each step's state, then its attention weights. The weight
 * gradients of Ws, Wc and U are one product each over all steps (weightGradient).
 */
function attentionKernelOp(steps: number, linear: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [aT, keysT, WsT, vT, vbT, WcT, bcT, UT] = args as tf.Tensor[];
    const [B, Tx, F] = aT.shape;
    const [n, e] = WsT.shape;
    const n4 = 4 * n;
    const Ty = steps;
    const k = kernels();
    const TB = Ty * B;
    // what the backward pass reads first (kept where it is made while a tape records), then room to work in
    const [a, v, Ws, Wc, U, S, C, hidden, energy, alpha, context, gates, tcs, keys, bc, WsTr, WcTr, UTr, z, sp] = arena(
      [B * Tx * F, e, n * e, F * n4, n * n4, (Ty + 1) * B * n, (Ty + 1) * B * n, TB * Tx * e, TB * Tx, TB * Tx, TB * F, TB * n4, TB * n, B * Tx * e, n4, e * n, n4 * F, n4 * n, B * n4, B * e],
      false,
    );
    [a, v, Ws, Wc, U, keys, bc].forEach((to, i) => to.view.set(valuesOf([aT, vT, WsT, WcT, UT, keysT, bcT][i])));
    const vb = valuesOf(vbT)[0];
    S.view.fill(0, 0, B * n); // s_0 = c_0 = 0
    C.view.fill(0, 0, B * n);
    k.transpose32(Ws.ptr, WsTr.ptr, n, e);
    k.transpose32(Wc.ptr, WcTr.ptr, F, n4);
    k.transpose32(U.ptr, UTr.ptr, n, n4);
    k.attentionForward(
      a.ptr, keys.ptr, WsTr.ptr, v.ptr, vb, WcTr.ptr, bc.ptr, UTr.ptr, B, Tx, F, e, n, Ty, linear,
      S.ptr, C.ptr, hidden.ptr, energy.ptr, alpha.ptr, context.ptr, gates.ptr, tcs.ptr, z.ptr, sp.ptr,
    );
    const out = new Float32Array(B * Ty * (n + Tx));
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < Ty; t++) {
        const o = (b * Ty + t) * (n + Tx);
        out.set(S.view.subarray(((t + 1) * B + b) * n, ((t + 1) * B + b + 1) * n), o);
        out.set(alpha.view.subarray((t * B + b) * Tx, (t * B + b + 1) * Tx), o + n);
      }
    }
    const value = tf.tensor3d(out, [B, Ty, n + Tx]);
    const held = keepForBackward([a, v, Ws, Wc, U, S, C, hidden, energy, alpha, context, gates, tcs]);

    const gradFunc = (dy: tf.Tensor) => {
      try {
        const [dOut, da, dkeys, dv, dvb, dz, dsp, dh, dc, dctx, dal, sums, dWs, dU, dWc] = arena(
          [TB * (n + Tx), B * Tx * F, B * Tx * e, e, 1, TB * n4, TB * e, B * n, B * n, B * F, Tx, n4, n * e, n * n4, F * n4],
        );
        dOut.view.set(valuesOf(dy));
        k.attentionBackward(
          dOut.ptr, a.ptr, v.ptr, Ws.ptr, Wc.ptr, U.ptr, B, Tx, F, e, n, Ty, linear,
          C.ptr, hidden.ptr, energy.ptr, alpha.ptr, gates.ptr, tcs.ptr,
          da.ptr, dkeys.ptr, dv.ptr, dvb.ptr, dz.ptr, dsp.ptr, dh.ptr, dc.ptr, dctx.ptr, dal.ptr,
        );
        // the states each step started from (s_0 ... s_(Ty-1)) against the step's gradients
        weightGradient(S, n, dsp, e, TB, dWs, sums);
        weightGradient(S, n, dz, n4, TB, dU, sums);
        const dbc = weightGradient(context, F, dz, n4, TB, dWc, sums);
        return [
          tensorOf<tf.Rank.R3>(da.view, [B, Tx, F]),
          tensorOf<tf.Rank.R3>(dkeys.view, [B, Tx, e]),
          tensorOf<tf.Rank.R2>(dWs.view, [n, e]),
          tensorOf<tf.Rank.R2>(dv.view, [e, 1]),
          tf.tensor1d(dvb.view.slice()),
          tensorOf<tf.Rank.R2>(dWc.view, [F, n4]),
          tf.tensor1d(dbc),
          tensorOf<tf.Rank.R2>(dU.view, [n, n4]),
        ];
      } finally {
        held.release();
      }
    };
    return { value, gradFunc: gradFunc as (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };
  });
}

/**
 * The whole attention loop as one op on the webgpu backend: one GPU dispatch forward and one backward
 * (ATTENTION_FORWARD/BACKWARD in src/core/webgpu-kernels.ts, one workgroup per example), where the
 * op-by-op loop costs ~75 dispatches per output step. Inputs as attentionKernelOp's; the output is
 * the forward kernel's [B, Ty, 6n + F + Tx] rows (state, cell, gates, context, weights), from which
 * the layer slices the states and the weights. The weight gradients of Ws, Wc and U are one matMul
 * each over all steps, d v and d v_b one sum over the examples' shares.
 */
function attentionGpuOp(steps: number, linear: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[8] as tf.GradSaveFunc;
    const [a, keys, Ws, v, vb, Wc, bc, U] = args as tf.Tensor[];
    const [n, e] = Ws.shape;
    const attrs = { steps, linear, units: n, attentionUnits: e } as unknown as tf.NamedAttrMap;
    // the weights as one buffer, in the order the kernels read them
    const weights = tf.concat([Ws, v, vb, Wc, bc, U].map((w) => tf.reshape(w, [-1])));
    const rows = tf.engine().runKernel(ATTENTION_FORWARD, { A: a, Keys: keys, Wts: weights }, attrs) as tf.Tensor3D;
    save([rows, a, keys, weights]);
    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [S, A, K, weights] = saved;
      const [B, Tx, F] = A.shape;
      const [Ty, G] = [steps, 4 * n];
      const out = tf.engine().runKernel(ATTENTION_BACKWARD, { Saved: S, DY: dy, A, Keys: K, Wts: weights }, attrs) as tf.Tensor2D;
      const perStep = tf.reshape(tf.slice(out, [0, Tx * (F + e)], [B, Ty * (G + e)]), [B * Ty, G + e]);
      const dz = tf.slice(perStep, [0, 0], [B * Ty, G]);
      const dsp = tf.slice(perStep, [0, G], [B * Ty, e]);
      const dvAll = tf.sum(tf.slice(out, [0, Tx * (F + e) + Ty * (G + e)], [B, e + 1]), 0);
      // the state each step started from (s_0 = 0 ... s_(Ty-1)) and each step's context, rows in (b, t) order like dz
      const sPrev = Ty === 1 ? tf.zeros([B, n]) : tf.reshape(tf.concat([tf.zeros([B, 1, n]), tf.slice(S, [0, 0, 0], [B, Ty - 1, n])], 1), [B * Ty, n]);
      const context = tf.slice(tf.reshape(S, [B * Ty, S.shape[2]!]), [0, 6 * n], [B * Ty, F]);
      return [
        tf.reshape(tf.slice(out, [0, 0], [B, Tx * F]), [B, Tx, F]),
        tf.reshape(tf.slice(out, [0, Tx * F], [B, Tx * e]), [B, Tx, e]),
        tf.matMul(sPrev, dsp, true, false),
        tf.reshape(tf.slice(dvAll, [0], [e]), [e, 1]),
        tf.slice(dvAll, [e], [1]),
        tf.matMul(context, dz, true, false),
        tf.sum(dz, 0),
        tf.matMul(sPrev, dz, true, false),
      ];
    };
    return { value: rows, gradFunc: gradFunc as (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[] };
  });
}

/** The webgpu ops, made once per output length (relu or linear energies). */
const gpuOps = (linear: boolean) => {
  const bySteps = new Map<number, ReturnType<typeof attentionGpuOp>>();
  return (steps: number) => {
    if (!bySteps.has(steps)) bySteps.set(steps, attentionGpuOp(steps, linear));
    return bySteps.get(steps)!;
  };
};
const attentionGpuRelu = gpuOps(false);
const attentionGpuLinear = gpuOps(true);

/** Name of the decoder layer, whose second output is the attention map. */
export const DECODER_LAYER = 'attention_decoder';

/** Builds the (uncompiled) attention model; see the diagram at the top of this file. */
export function createAttentionModel(cfg: AttentionModelConfig): tf.LayersModel {
  const seed = cfg.seed ?? 0;
  const input = tf.input({ shape: [cfg.inputLength, cfg.inputVocabSize], name: 'human_one_hot' });
  const a = bidirectionalLstm({ units: cfg.encoderUnits, returnSequences: true, seed, name: 'encoder' }).apply(input);
  const [states] = new AttentionDecoder({
    steps: cfg.outputLength,
    units: cfg.decoderUnits,
    attentionUnits: cfg.attentionUnits,
    energyActivation: cfg.energyActivation,
    seed: seed + 100,
    name: DECODER_LAYER,
  }).apply(a) as tf.SymbolicTensor[];
  const output = tf.layers
    .dense({ units: cfg.outputVocabSize, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 200 }), name: 'output' })
    .apply(states) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'date_attention' });
}

/** A model that shares the trained one's layers and also returns the attention weights [batch, Ty, Tx]. */
export function withAttentionOutput(model: tf.LayersModel): tf.LayersModel {
  const decoder = model.getLayer(DECODER_LAYER);
  const attention = (decoder.output as tf.SymbolicTensor[])[1];
  return tf.model({ inputs: model.inputs, outputs: [model.outputs[0], attention] });
}
