/**
 * seqlab's own GPU kernels for the webgpu backend (WGSL compute shaders run through tfjs-backend-webgpu's
 * program runner): a whole LSTM or GRU sequence, forward and backward, each as ONE dispatch; the whole
 * attention decoder (all its output steps) the same way; and Adam's update in two dispatches per variable.
 *
 * Why: op by op, an LSTM step is ~10 tfjs kernels forward and ~10 backward, each a separate GPU
 * dispatch with ~50-400 µs of overhead in tfjs-webgpu, so a 30-step encoder costs ~600 dispatches
 * per training step whatever the batch. Here one workgroup owns one example (row of the batch) and
 * walks all its time steps, keeping h, c and the gates in workgroup memory, with a barrier between
 * steps; rows are independent, so the batch runs in parallel across the GPU.
 *
 * The same split as seqlab's wasm kernels (src/kernels/simd.ts): the forward pass saves what the
 * backward pass needs (h, c and the activated gates of every step), the backward pass returns the
 * gradient of the gate pre-activations, and the recurrent kernel's gradient is one matMul over all
 * steps outside (src/models/recurrent.ts).
 */
import * as tf from '@tensorflow/tfjs';

export const LSTM_FORWARD = 'SeqlabLstmSequenceForward';
export const LSTM_BACKWARD = 'SeqlabLstmSequenceBackward';

/** The program shape tfjs-backend-webgpu's runWebGPUProgram expects (its WebGPUProgram interface). */
interface Program {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms: string;
  getUserCode(): string;
}

interface WebgpuBackend {
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: 'float32', uniforms: { type: 'int32' | 'float32'; data: number[] }[]): tf.TensorInfo;
}

/** Threads per workgroup: enough for one per gate column, at most 256 (WebGPU's guaranteed limit). */
const threadsFor = (gates: number) => Math.min(256, Math.max(32, 1 << Math.ceil(Math.log2(gates))));

/**
 * A program with one workgroup of `threadsFor(gates)` threads per example (B of them), each walking all
 * T steps of its example; T and B come as uniforms, so one compiled shader serves every length and batch.
 */
function perExampleProgram(name: string, variableNames: string[], outputShape: number[], B: number, gates: number, n: number, code: (wg: number) => string): Program {
  const wg = threadsFor(gates);
  return {
    variableNames,
    outputShape,
    shaderKey: `seqlab_${name}_${n}_${wg}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [B, 1, 1],
    workgroupSize: [wg, 1, 1],
    uniforms: 'T : i32, B : i32,',
    getUserCode: () => code(wg),
  };
}

/** Per step and example, what the forward pass keeps: h (n), c (n), then the activated gates i, f, g, o (4n). */
export const SAVED_PER_UNIT = 6;

/** WGSL shared by the programs: units N, gate columns G, saved values per example and step S, threads WG. */
const common = (n: number, wg: number, gates = 4, saved = SAVED_PER_UNIT) => `
  const N : i32 = ${n};
  const G : i32 = ${gates * n};
  const S : i32 = ${saved * n};
  const WG : i32 = ${wg};
  fn sigmoid1(x : f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
`;

/**
 * LSTM sequences are batch-major [B, T, ..] as a layer's input and output are (step t of example b at
 * row b·T + t), read from the start or, `reverse`, from the end (a bidirectional layer's backward
 * direction: its step t reads x_(T-1-t), and its state after reading x_i is stored at i). The GRU
 * kernels below are time-major [T, B, ..] (row t·B + b).
 */
const directionKey = (reverse: boolean) => (reverse ? '_rev' : '');

/** WGSL: the row of the t-th step the kernel takes (in reading order) of example b. */
const rowOf = (reverse: boolean) => `
      fn rowOf(t : i32, b : i32) -> i32 {
        return b * uniforms.T + ${reverse ? 'uniforms.T - 1 - t' : 't'};
      }`;

/**
 * Forward: P = x W + b for every step [B, T, 4n] (gates i, f, c, o); U [n, 4n]; zero initial state.
 * Output [B, T, 6n]: h_t, c_t and the activated gates of each step.
 */
function forwardProgram(T: number, B: number, n: number, reverse: boolean): Program {
  return perExampleProgram(`lstm_forward${directionKey(reverse)}`, ['P', 'U'], [B, T, SAVED_PER_UNIT * n], B, 4 * n, n, (wg) => `
      ${common(n, wg)}
      ${rowOf(reverse)}
      var<workgroup> hS : array<f32, ${n}>;
      var<workgroup> cS : array<f32, ${n}>;
      var<workgroup> aS : array<f32, ${4 * n}>;
      fn main(index : i32) {
        let b = i32(workgroupId.x);
        let l = i32(localId.x);
        for (var u = l; u < N; u += WG) { hS[u] = 0.0; cS[u] = 0.0; }
        workgroupBarrier();
        for (var t = 0; t < uniforms.T; t++) {
          let row = rowOf(t, b);
          for (var j = l; j < G; j += WG) {
            var z = P[row * G + j];
            for (var k = 0; k < N; k++) { z += hS[k] * U[k * G + j]; }
            var a : f32;
            if (j >= 2 * N && j < 3 * N) { a = tanh(z); } else { a = sigmoid1(z); }
            aS[j] = a;
            result[row * S + 2 * N + j] = a;
          }
          workgroupBarrier();
          for (var u = l; u < N; u += WG) {
            let c = aS[N + u] * cS[u] + aS[u] * aS[2 * N + u];
            let h = aS[3 * N + u] * tanh(c);
            cS[u] = c;
            hS[u] = h;
            result[row * S + u] = h;
            result[row * S + N + u] = c;
          }
          workgroupBarrier();
        }
      }`);
}

/**
 * Backward: from what the forward pass saved [B, T, 6n], U and dL/dh of every step [B, T, n], the
 * gradient of the gate pre-activations [B, T, 4n] (= dL/dP), walking the steps backwards.
 */
function backwardProgram(T: number, B: number, n: number, reverse: boolean): Program {
  return perExampleProgram(`lstm_backward${directionKey(reverse)}`, ['Saved', 'U', 'DY'], [B, T, 4 * n], B, 4 * n, n, (wg) => `
      ${common(n, wg)}
      ${rowOf(reverse)}
      var<workgroup> dhS : array<f32, ${n}>;
      var<workgroup> dcS : array<f32, ${n}>;
      var<workgroup> dzS : array<f32, ${4 * n}>;
      fn main(index : i32) {
        let b = i32(workgroupId.x);
        let l = i32(localId.x);
        for (var u = l; u < N; u += WG) { dhS[u] = 0.0; dcS[u] = 0.0; }
        workgroupBarrier();
        for (var t = uniforms.T - 1; t >= 0; t--) {
          let row = rowOf(t, b);
          for (var u = l; u < N; u += WG) {
            let base = row * S;
            let i = Saved[base + 2 * N + u];
            let f = Saved[base + 3 * N + u];
            let g = Saved[base + 4 * N + u];
            let o = Saved[base + 5 * N + u];
            let tc = tanh(Saved[base + N + u]);
            var cPrev = 0.0;
            if (t > 0) { cPrev = Saved[rowOf(t - 1, b) * S + N + u]; }
            let dh = DY[row * N + u] + dhS[u];
            let dc = dcS[u] + dh * o * (1.0 - tc * tc);
            dzS[u] = dc * g * i * (1.0 - i);
            dzS[N + u] = dc * cPrev * f * (1.0 - f);
            dzS[2 * N + u] = dc * i * (1.0 - g * g);
            dzS[3 * N + u] = dh * tc * o * (1.0 - o);
            dcS[u] = dc * f;
          }
          workgroupBarrier();
          for (var j = l; j < G; j += WG) { result[row * G + j] = dzS[j]; }
          for (var k = l; k < N; k += WG) {
            var s = 0.0;
            for (var j = 0; j < G; j++) { s += dzS[j] * U[k * G + j]; }
            dhS[k] = s;
          }
          workgroupBarrier();
        }
      }`);
}

export const GRU_FORWARD = 'SeqlabGruSequenceForward';
export const GRU_BACKWARD = 'SeqlabGruSequenceBackward';

/** Per step and example, what the GRU's forward pass keeps: h_t, z, r, the candidate and h_(t-1)·U_h + b_h (5n). */
export const GRU_SAVED_PER_UNIT = 5;

/**
 * GRU forward (Keras reset_after=true, gates z, r, h): P = x W + b_in [T, B, 3n], U [n, 3n], the
 * recurrent bias [3n], h_0 [B, n]. Output [T, B, 5n]: h_t, z, r, the candidate, h_(t-1)·U_h + b_h.
 */
function gruForwardProgram(T: number, B: number, n: number): Program {
  return perExampleProgram('gru_forward', ['P', 'U', 'Bias', 'H0'], [T, B, GRU_SAVED_PER_UNIT * n], B, 3 * n, n, (wg) => `
      ${common(n, wg, 3, GRU_SAVED_PER_UNIT)}
      var<workgroup> hS : array<f32, ${n}>;
      var<workgroup> pS : array<f32, ${3 * n}>;
      fn main(index : i32) {
        let b = i32(workgroupId.x);
        let l = i32(localId.x);
        for (var u = l; u < N; u += WG) { hS[u] = H0[b * N + u]; }
        workgroupBarrier();
        for (var t = 0; t < uniforms.T; t++) {
          let row = t * uniforms.B + b;
          for (var j = l; j < G; j += WG) {
            var s = Bias[j];
            for (var k = 0; k < N; k++) { s += hS[k] * U[k * G + j]; }
            pS[j] = s;
          }
          workgroupBarrier();
          for (var u = l; u < N; u += WG) {
            let z = sigmoid1(P[row * G + u] + pS[u]);
            let r = sigmoid1(P[row * G + N + u] + pS[N + u]);
            let hh = pS[2 * N + u];
            let cand = tanh(P[row * G + 2 * N + u] + r * hh);
            let h = cand + z * (hS[u] - cand);
            hS[u] = h;
            result[row * S + u] = h;
            result[row * S + N + u] = z;
            result[row * S + 2 * N + u] = r;
            result[row * S + 3 * N + u] = cand;
            result[row * S + 4 * N + u] = hh;
          }
          workgroupBarrier();
        }
      }`);
}

/**
 * GRU backward: from the saved [T, B, 5n], U, h_0 and dL/dh of every step [T, B, n]: output
 * [T + 1, B, 4n] holding, for each step, d(h·U + b_rec) = [dz, dr, dhh] (3n) then d(x_h) (n), and in
 * row T the gradient for h_0 (first n).
 */
function gruBackwardProgram(T: number, B: number, n: number): Program {
  return perExampleProgram('gru_backward', ['Saved', 'U', 'H0', 'DY'], [T + 1, B, 4 * n], B, 3 * n, n, (wg) => `
      ${common(n, wg, 3, GRU_SAVED_PER_UNIT)}
      const O : i32 = ${4 * n};
      var<workgroup> dhS : array<f32, ${n}>;
      var<workgroup> dzhS : array<f32, ${n}>;
      var<workgroup> dpS : array<f32, ${3 * n}>;
      fn main(index : i32) {
        let b = i32(workgroupId.x);
        let l = i32(localId.x);
        for (var u = l; u < N; u += WG) { dhS[u] = 0.0; }
        workgroupBarrier();
        for (var t = uniforms.T - 1; t >= 0; t--) {
          let row = t * uniforms.B + b;
          for (var u = l; u < N; u += WG) {
            let base = row * S;
            let z = Saved[base + N + u];
            let r = Saved[base + 2 * N + u];
            let cand = Saved[base + 3 * N + u];
            let hh = Saved[base + 4 * N + u];
            var hPrev = H0[b * N + u];
            if (t > 0) { hPrev = Saved[(row - uniforms.B) * S + u]; }
            let dh = DY[row * N + u] + dhS[u];
            let da = dh * (1.0 - z) * (1.0 - cand * cand);
            let dz = dh * (hPrev - cand) * z * (1.0 - z);
            let dr = da * hh * r * (1.0 - r);
            let dhh = da * r;
            dpS[u] = dz;
            dpS[N + u] = dr;
            dpS[2 * N + u] = dhh;
            dzhS[u] = dh * z;
            result[row * O + u] = dz;
            result[row * O + N + u] = dr;
            result[row * O + 2 * N + u] = dhh;
            result[row * O + 3 * N + u] = da;
          }
          workgroupBarrier();
          for (var k = l; k < N; k += WG) {
            var s = dzhS[k];
            for (var j = 0; j < G; j++) { s += dpS[j] * U[k * G + j]; }
            dhS[k] = s;
          }
          workgroupBarrier();
        }
        let last = uniforms.T * uniforms.B + b;
        for (var u = l; u < O; u += WG) {
          if (u < N) { result[last * O + u] = dhS[u]; } else { result[last * O + u] = 0.0; }
        }
      }`);
}

export const ATTENTION_FORWARD = 'SeqlabAttentionForward';
export const ATTENTION_BACKWARD = 'SeqlabAttentionBackward';

/**
 * Per step and example, what the attention decoder's forward pass writes (row width 6n + F + Tx):
 * the state s_t (n), the cell c_t (n), the activated gates i, f, g, o (4n), the context (F), then the
 * attention weights (Tx). The layer's outputs are the first n and the last Tx columns.
 */
export const attentionRowWidth = (n: number, F: number, Tx: number) => 6 * n + F + Tx;

/** Width of the backward output per example: d a (Tx·F), d keys (Tx·e), per step dz (4n) and d(s·Ws) (e), then this example's share of d v (e) and d v_b (1). */
export const attentionGradWidth = (n: number, F: number, e: number, Tx: number, Ty: number) => Tx * (F + e) + Ty * (4 * n + e) + e + 1;

/** WGSL of the attention kernels: sizes as constants, Tx, Ty and B as uniforms, room for up to TXC input steps. */
const attentionCommon = (n: number, e: number, F: number, cap: number, wg: number, linear: boolean) => `
  const N : i32 = ${n};
  const E : i32 = ${e};
  const F : i32 = ${F};
  const G : i32 = ${4 * n};
  const WG : i32 = ${wg};
  const LINEAR : bool = ${linear};
  // offsets of the weights in Wts (attentionWeights): Ws [n, e], v [e], v_b, Wc [F, 4n], b_c [4n], U [n, 4n]
  const OWS : i32 = 0;
  const OV : i32 = ${n * e};
  const OVB : i32 = ${n * e + e};
  const OWC : i32 = ${n * e + e + 1};
  const OBC : i32 = ${n * e + e + 1 + F * 4 * n};
  const OU : i32 = ${n * e + e + 1 + F * 4 * n + 4 * n};
  fn sigmoid1(x : f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
  // tanh that cannot overflow (exp of a large argument) on any driver
  fn tanh1(x : f32) -> f32 { let q = exp(-2.0 * abs(x)); return sign(x) * (1.0 - q) / (1.0 + q); }
  // the energy of input step i of example b before its activation: v · tanh(keys + s_(t-1) Ws) + v_b (spS: s_(t-1) Ws)
  fn energy(b : i32, i : i32, Tx : i32) -> f32 {
    var x = Wts[OVB];
    let kb = (b * Tx + i) * E;
    for (var k = 0; k < E; k++) { x += tanh1(Keys[kb + k] + spS[k]) * Wts[OV + k]; }
    return x;
  }
`;

/** Room in workgroup memory for Tx input steps: a power of two, so a few shaders serve every length. */
const txCapacity = (Tx: number) => Math.max(8, 1 << Math.ceil(Math.log2(Tx)));

interface AttentionShapes {
  B: number;
  Tx: number;
  F: number;
  e: number;
  n: number;
  Ty: number;
  linear: boolean;
}

/**
 * Attention decoder forward: all Ty steps of one example in one workgroup (see the wasm kernel
 * attentionForward in src/kernels/simd.ts for the same arithmetic). Inputs: A [B, Tx, F] (encoder
 * states), Keys [B, Tx, e] (A's share of the energy Dense, with its bias) and Wts, the decoder's
 * weights in one buffer (WebGPU guarantees only 8 storage buffers per shader): Ws [n, e], v [e], v_b,
 * Wc [F, 4n], b_c [4n], U [n, 4n], flattened and concatenated. Output [B, Ty, 6n + F + Tx]
 * (attentionRowWidth).
 */
function attentionForwardProgram({ B, Tx, F, e, n, Ty, linear }: AttentionShapes): Program {
  const cap = txCapacity(Tx);
  const wg = threadsFor(4 * n);
  return {
    variableNames: ['A', 'Keys', 'Wts'],
    outputShape: [B, Ty, attentionRowWidth(n, F, Tx)],
    shaderKey: `seqlab_attention_forward_${n}_${e}_${F}_${cap}_${wg}_${linear}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [B, 1, 1],
    workgroupSize: [wg, 1, 1],
    uniforms: 'Tx : i32, Ty : i32,',
    getUserCode: () => `
      ${attentionCommon(n, e, F, cap, wg, linear)}
      var<workgroup> sS : array<f32, ${n}>;
      var<workgroup> cS : array<f32, ${n}>;
      var<workgroup> spS : array<f32, ${e}>;
      var<workgroup> alS : array<f32, ${cap}>;
      var<workgroup> ctxS : array<f32, ${F}>;
      var<workgroup> zS : array<f32, ${4 * n}>;
      fn main(index : i32) {
        let b = i32(workgroupId.x);
        let l = i32(localId.x);
        let Tx = uniforms.Tx;
        let RW = 6 * N + F + Tx;
        for (var u = l; u < N; u += WG) { sS[u] = 0.0; cS[u] = 0.0; }
        workgroupBarrier();
        for (var t = 0; t < uniforms.Ty; t++) {
          let row = (b * uniforms.Ty + t) * RW;
          // the state's share of the energies: s_(t-1) Ws
          for (var k = l; k < E; k += WG) {
            var s = 0.0;
            for (var j = 0; j < N; j++) { s += sS[j] * Wts[OWS + j * E + k]; }
            spS[k] = s;
          }
          workgroupBarrier();
          // energies over the input steps
          for (var i = l; i < Tx; i += WG) {
            var x = energy(b, i, Tx);
            if (!LINEAR && x < 0.0) { x = 0.0; }
            alS[i] = x;
          }
          workgroupBarrier();
          // softmax over them (every thread finds the max and the sum: Tx is small)
          var mx = alS[0];
          for (var i = 1; i < Tx; i++) { mx = max(mx, alS[i]); }
          var total = 0.0;
          for (var i = 0; i < Tx; i++) { total += exp(alS[i] - mx); }
          workgroupBarrier();
          for (var i = l; i < Tx; i += WG) {
            let w = exp(alS[i] - mx) / total;
            alS[i] = w;
            result[row + 6 * N + F + i] = w;
          }
          workgroupBarrier();
          // the context: the weights' mean of the encoder states
          for (var f = l; f < F; f += WG) {
            var s = 0.0;
            for (var i = 0; i < Tx; i++) { s += alS[i] * A[(b * Tx + i) * F + f]; }
            ctxS[f] = s;
            result[row + 6 * N + f] = s;
          }
          workgroupBarrier();
          // the post-attention LSTM's gates from the context and s_(t-1)
          for (var j = l; j < G; j += WG) {
            var z = Wts[OBC + j];
            for (var f = 0; f < F; f++) { z += ctxS[f] * Wts[OWC + f * G + j]; }
            for (var k = 0; k < N; k++) { z += sS[k] * Wts[OU + k * G + j]; }
            var a : f32;
            if (j >= 2 * N && j < 3 * N) { a = tanh1(z); } else { a = sigmoid1(z); }
            zS[j] = a;
            result[row + 2 * N + j] = a;
          }
          workgroupBarrier();
          for (var u = l; u < N; u += WG) {
            let c = zS[N + u] * cS[u] + zS[u] * zS[2 * N + u];
            let h = zS[3 * N + u] * tanh1(c);
            cS[u] = c;
            sS[u] = h;
            result[row + u] = h;
            result[row + N + u] = c;
          }
          workgroupBarrier();
        }
      }`,
  };
}

/**
 * Attention decoder backward, one workgroup per example walking the steps backwards. Inputs: the
 * forward output Saved [B, Ty, 6n + F + Tx], its gradient DY (same shape; only the state and weight
 * columns are read), and A, Keys, Wts as in the forward pass; s·Ws and the tanh of the
 * energies are recomputed rather than saved. Output [B, attentionGradWidth]: d A and d Keys (whole),
 * per step dz (the gate pre-activations' gradient) and d(s·Ws), for the weight gradients as products
 * over all steps outside, and this example's share of d V and d Vb.
 */
function attentionBackwardProgram({ B, Tx, F, e, n, Ty, linear }: AttentionShapes): Program {
  const cap = txCapacity(Tx);
  const wg = threadsFor(4 * n);
  return {
    variableNames: ['Saved', 'DY', 'A', 'Keys', 'Wts'],
    outputShape: [B, attentionGradWidth(n, F, e, Tx, Ty)],
    shaderKey: `seqlab_attention_backward_${n}_${e}_${F}_${cap}_${wg}_${linear}`,
    dispatchLayout: { x: [0, 1] },
    dispatch: [B, 1, 1],
    workgroupSize: [wg, 1, 1],
    uniforms: 'Tx : i32, Ty : i32,',
    getUserCode: () => `
      ${attentionCommon(n, e, F, cap, wg, linear)}
      var<workgroup> dhS : array<f32, ${n}>;
      var<workgroup> dcS : array<f32, ${n}>;
      var<workgroup> dzS : array<f32, ${4 * n}>;
      var<workgroup> dctxS : array<f32, ${F}>;
      var<workgroup> spS : array<f32, ${e}>;
      var<workgroup> dspS : array<f32, ${e}>;
      var<workgroup> alS : array<f32, ${cap}>;
      var<workgroup> gS : array<f32, ${cap}>;
      fn main(index : i32) {
        let b = i32(workgroupId.x);
        let l = i32(localId.x);
        let Tx = uniforms.Tx;
        let Ty = uniforms.Ty;
        let RW = 6 * N + F + Tx;
        let ob = b * (Tx * (F + E) + Ty * (G + E) + E + 1);
        let dKeys = ob + Tx * F;
        let dV = ob + Tx * (F + E) + Ty * (G + E);
        // this workgroup's accumulators, each zeroed by the thread that adds to it
        for (var q = l; q < Tx * F; q += WG) { result[ob + q] = 0.0; }
        for (var q = l; q < Tx * E; q += WG) { result[dKeys + q] = 0.0; }
        for (var k = l; k < E; k += WG) { result[dV + k] = 0.0; }
        if (l == 0) { result[dV + E] = 0.0; }
        for (var u = l; u < N; u += WG) { dhS[u] = 0.0; dcS[u] = 0.0; }
        workgroupBarrier();
        for (var t = Ty - 1; t >= 0; t--) {
          let row = (b * Ty + t) * RW;
          let prev = row - RW;
          // the LSTM cell, backwards
          for (var u = l; u < N; u += WG) {
            let ig = Saved[row + 2 * N + u];
            let fg = Saved[row + 3 * N + u];
            let gg = Saved[row + 4 * N + u];
            let og = Saved[row + 5 * N + u];
            let tc = tanh1(Saved[row + N + u]);
            var cPrev = 0.0;
            if (t > 0) { cPrev = Saved[prev + N + u]; }
            let dh = DY[row + u] + dhS[u];
            let dc = dcS[u] + dh * og * (1.0 - tc * tc);
            dzS[u] = dc * gg * ig * (1.0 - ig);
            dzS[N + u] = dc * cPrev * fg * (1.0 - fg);
            dzS[2 * N + u] = dc * ig * (1.0 - gg * gg);
            dzS[3 * N + u] = dh * tc * og * (1.0 - og);
            dcS[u] = dc * fg;
          }
          for (var i = l; i < Tx; i += WG) { alS[i] = Saved[row + 6 * N + F + i]; }
          // s_(t-1) Ws again
          for (var k = l; k < E; k += WG) {
            var s = 0.0;
            if (t > 0) { for (var j = 0; j < N; j++) { s += Saved[prev + j] * Wts[OWS + j * E + k]; } }
            spS[k] = s;
          }
          workgroupBarrier();
          let zb = ob + Tx * (F + E) + t * (G + E);
          for (var j = l; j < G; j += WG) { result[zb + j] = dzS[j]; }
          // d context = dz Wcᵀ; d s_(t-1) through the LSTM = dz Uᵀ
          for (var f = l; f < F; f += WG) {
            var s = 0.0;
            for (var j = 0; j < G; j++) { s += dzS[j] * Wts[OWC + f * G + j]; }
            dctxS[f] = s;
          }
          for (var k = l; k < N; k += WG) {
            var s = 0.0;
            for (var j = 0; j < G; j++) { s += dzS[j] * Wts[OU + k * G + j]; }
            dhS[k] = s;
          }
          workgroupBarrier();
          // d weights, and d A += weight · d context
          for (var i = l; i < Tx; i += WG) {
            var s = DY[row + 6 * N + F + i];
            for (var f = 0; f < F; f++) { s += dctxS[f] * A[(b * Tx + i) * F + f]; }
            gS[i] = s;
          }
          for (var q = l; q < Tx * F; q += WG) { result[ob + q] += alS[q / F] * dctxS[q % F]; }
          workgroupBarrier();
          // through the softmax (and the relu) to the energies
          var weighted = 0.0;
          for (var i = 0; i < Tx; i++) { weighted += alS[i] * gS[i]; }
          workgroupBarrier();
          for (var i = l; i < Tx; i += WG) {
            var g = alS[i] * (gS[i] - weighted);
            if (!LINEAR && energy(b, i, Tx) <= 0.0) { g = 0.0; }
            gS[i] = g;
          }
          workgroupBarrier();
          // d(s·Ws) and d V over the input steps; d Keys
          for (var k = l; k < E; k += WG) {
            var ds = 0.0;
            var dv = 0.0;
            for (var i = 0; i < Tx; i++) {
              let h = tanh1(Keys[(b * Tx + i) * E + k] + spS[k]);
              ds += gS[i] * Wts[OV + k] * (1.0 - h * h);
              dv += gS[i] * h;
            }
            dspS[k] = ds;
            result[zb + G + k] = ds;
            result[dV + k] += dv;
          }
          for (var q = l; q < Tx * E; q += WG) {
            let i = q / E;
            let k = q % E;
            let h = tanh1(Keys[(b * Tx + i) * E + k] + spS[k]);
            result[dKeys + q] += gS[i] * Wts[OV + k] * (1.0 - h * h);
          }
          if (l == 0) {
            var gsum = 0.0;
            for (var i = 0; i < Tx; i++) { gsum += gS[i]; }
            result[dV + E] += gsum;
          }
          workgroupBarrier();
          // + d s_(t-1) through the attention = d(s·Ws) Wsᵀ
          for (var k = l; k < N; k += WG) {
            var s = 0.0;
            for (var m = 0; m < E; m++) { s += dspS[m] * Wts[OWS + k * E + m]; }
            dhS[k] += s;
          }
          workgroupBarrier();
        }
      }`,
  };
}

export const ADAM_MOMENTS = 'SeqlabAdamMoments';
export const ADAM_VALUE = 'SeqlabAdamValue';

/**
 * Adam's update for one variable in two dispatches, where tfjs' AdamOptimizer runs ~14 kernels:
 * ADAM_MOMENTS writes both new moments [m'; v'] (2·size, the optimizer keeps them packed like this)
 * from the gradient G and the old moments S; ADAM_VALUE the new value from X and the new moments.
 * The same arithmetic as tfjs' AdamOptimizer.applyGradients; lr, betas, epsilon and the bias
 * corrections (1 - beta^t) come as uniforms.
 */
function adamProgram(kind: string, size: number): Program {
  const wg = 256;
  const groups = Math.max(1, Math.min(65535, Math.ceil(size / wg)));
  const moments = kind === ADAM_MOMENTS;
  return {
    variableNames: moments ? ['G', 'S'] : ['X', 'S'],
    outputShape: [moments ? 2 * size : size],
    shaderKey: `seqlab_adam_${moments ? 'moments' : 'value'}`,
    dispatchLayout: { x: [0] },
    dispatch: [groups, 1, 1],
    workgroupSize: [wg, 1, 1],
    uniforms: 'count : i32, stride : i32, lr : f32, b1 : f32, b2 : f32, eps : f32, c1 : f32, c2 : f32,',
    getUserCode: () => `
      fn main(index : i32) {
        for (var i = index; i < uniforms.count; i += uniforms.stride) {
          ${moments ? `let g = G[i];
          result[i] = S[i] * uniforms.b1 + g * (1.0 - uniforms.b1);
          result[uniforms.count + i] = S[uniforms.count + i] * uniforms.b2 + g * g * (1.0 - uniforms.b2);` : `
          result[i] = X[i] - uniforms.lr * ((S[i] / uniforms.c1) / (sqrt(S[uniforms.count + i] / uniforms.c2) + uniforms.eps));`}
        }
      }`,
  };
}

let registered = false;

/** Registers the kernels with the webgpu backend (once; after @tensorflow/tfjs-backend-webgpu has loaded). */
export function registerWebgpuKernels(): void {
  if (registered) return;
  registered = true;
  // each kernel: its program from the input shapes, then T and B as uniforms
  // each kernel's program from T, B and the last input dimension of P (forward) or DY (backward)
  // [T, B] from the shape of P (forward) or DY (backward), and the program from them and its last dimension
  const kernels: [string, (shape: number[], reverse: boolean) => [number, number, Program]][] = [
    [LSTM_FORWARD, ([B, T, G], reverse) => [T, B, forwardProgram(T, B, G / 4, reverse)]],
    [LSTM_BACKWARD, ([B, T, n], reverse) => [T, B, backwardProgram(T, B, n, reverse)]],
    [GRU_FORWARD, ([T, B, G]) => [T, B, gruForwardProgram(T, B, G / 3)]],
    [GRU_BACKWARD, ([T, B, n]) => [T, B, gruBackwardProgram(T, B, n)]],
  ];
  const attention: [string, (shapes: AttentionShapes) => Program][] = [
    [ATTENTION_FORWARD, attentionForwardProgram],
    [ATTENTION_BACKWARD, attentionBackwardProgram],
  ];
  for (const [kernelName, programFor] of attention) {
    tf.registerKernel({
      kernelName,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const infos = inputs as Record<string, tf.TensorInfo>;
        const [B, Tx, F] = infos.A.shape;
        const { steps: Ty, linear, units: n, attentionUnits: e } = attrs as unknown as { steps: number; linear: boolean; units: number; attentionUnits: number };
        const program = programFor({ B, Tx, F, e, n, Ty, linear });
        return (backend as unknown as WebgpuBackend).runWebGPUProgram(program, program.variableNames.map((v) => infos[v]), 'float32', [
          { type: 'int32', data: [Tx] },
          { type: 'int32', data: [Ty] },
        ]);
      },
    });
  }
  for (const kind of [ADAM_MOMENTS, ADAM_VALUE]) {
    tf.registerKernel({
      kernelName: kind,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const infos = inputs as Record<string, tf.TensorInfo>;
        const { lr, beta1, beta2, epsilon, correction1, correction2 } = attrs as unknown as Record<string, number>;
        const size = (infos.G ?? infos.X).shape.reduce((a, b) => a * b, 1);
        const program = adamProgram(kind, size);
        const f = (x: number) => ({ type: 'float32' as const, data: [x] });
        return (backend as unknown as WebgpuBackend).runWebGPUProgram(program, program.variableNames.map((v) => infos[v]), 'float32', [
          { type: 'int32', data: [size] },
          { type: 'int32', data: [program.dispatch[0] * program.workgroupSize[0]] },
          f(lr), f(beta1), f(beta2), f(epsilon), f(correction1), f(correction2),
        ]);
      },
    });
  }
  for (const [kernelName, programFor] of kernels) {
    tf.registerKernel({
      kernelName,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend, attrs }) => {
        const infos = inputs as Record<string, tf.TensorInfo>;
        const [T, B, program] = programFor((infos.P ?? infos.DY).shape, !!attrs?.reverse);
        return (backend as unknown as WebgpuBackend).runWebGPUProgram(program, program.variableNames.map((v) => infos[v]), 'float32', [
          { type: 'int32', data: [T] },
          { type: 'int32', data: [B] },
        ]);
      },
    });
  }
}

/** The webgpu backend is running and seqlab's kernels are registered (and not switched off by SEQLAB_KERNELS=0). */
export function onWebgpuKernels(): boolean {
  return registered && tf.getBackend() === 'webgpu' && process.env.SEQLAB_KERNELS !== '0';
}
