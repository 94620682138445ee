/**
 * seqlab's own GPU kernels for the webgpu backend: a whole LSTM or GRU sequence, forward and backward, each
 * as ONE dispatch (WGSL compute shaders run through tfjs-backend-webgpu's program runner).
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
  runWebGPUProgram(program: Program, inputs: tf.TensorInfo[], dtype: 'float32', uniforms: { type: 'int32'; data: number[] }[]): tf.TensorInfo;
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
 * Forward: P = x W + b for every step, time-major [T, B, 4n] (gates i, f, c, o); U [n, 4n]; zero
 * initial state. Output [T, B, 6n]: h_t, c_t and the activated gates of each step.
 */
function forwardProgram(T: number, B: number, n: number): Program {
  return perExampleProgram('lstm_forward', ['P', 'U'], [T, B, SAVED_PER_UNIT * n], B, 4 * n, n, (wg) => `
      ${common(n, wg)}
      var<workgroup> hS : array<f32, ${n}>;
      var<workgroup> cS : array<f32, ${n}>;
      var<workgroup> aS : array<f32, ${4 * n}>;
      fn main(index : i32) {
        let b = i32(workgroupId.x);
        let l = i32(localId.x);
        for (var u = l; u < N; u += WG) { hS[u] = 0.0; cS[u] = 0.0; }
        workgroupBarrier();
        for (var t = 0; t < uniforms.T; t++) {
          let row = t * uniforms.B + b;
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
 * Backward: from what the forward pass saved [T, B, 6n], U and dL/dh of every step [T, B, n], the
 * gradient of the gate pre-activations [T, B, 4n] (= dL/dP), walking the steps backwards.
 */
function backwardProgram(T: number, B: number, n: number): Program {
  return perExampleProgram('lstm_backward', ['Saved', 'U', 'DY'], [T, B, 4 * n], B, 4 * n, n, (wg) => `
      ${common(n, wg)}
      var<workgroup> dhS : array<f32, ${n}>;
      var<workgroup> dcS : array<f32, ${n}>;
      var<workgroup> dzS : array<f32, ${4 * n}>;
      fn main(index : i32) {
        let b = i32(workgroupId.x);
        let l = i32(localId.x);
        for (var u = l; u < N; u += WG) { dhS[u] = 0.0; dcS[u] = 0.0; }
        workgroupBarrier();
        for (var t = uniforms.T - 1; t >= 0; t--) {
          let row = t * uniforms.B + b;
          for (var u = l; u < N; u += WG) {
            let base = row * S;
            let i = Saved[base + 2 * N + u];
            let f = Saved[base + 3 * N + u];
            let g = Saved[base + 4 * N + u];
            let o = Saved[base + 5 * N + u];
            let tc = tanh(Saved[base + N + u]);
            var cPrev = 0.0;
            if (t > 0) { cPrev = Saved[(row - uniforms.B) * S + N + u]; }
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

let registered = false;

/** Registers the kernels with the webgpu backend (once; after @tensorflow/tfjs-backend-webgpu has loaded). */
export function registerWebgpuKernels(): void {
  if (registered) return;
  registered = true;
  // each kernel: its program from the input shapes, then T and B as uniforms
  const kernels: [string, (shapes: Record<string, number[]>) => Program][] = [
    [LSTM_FORWARD, ({ P: [T, B, G] }) => forwardProgram(T, B, G / 4)],
    [LSTM_BACKWARD, ({ DY: [T, B, n] }) => backwardProgram(T, B, n)],
    [GRU_FORWARD, ({ P: [T, B, G] }) => gruForwardProgram(T, B, G / 3)],
    [GRU_BACKWARD, ({ DY: [T, B, n] }) => gruBackwardProgram(T, B, n)],
  ];
  for (const [kernelName, programFor] of kernels) {
    tf.registerKernel({
      kernelName,
      backendName: 'webgpu',
      kernelFunc: ({ inputs, backend }) => {
        const infos = inputs as Record<string, tf.TensorInfo>;
        const program = programFor(Object.fromEntries(Object.entries(infos).map(([k, v]) => [k, v.shape])));
        const [T, B] = (infos.P ?? infos.DY).shape;
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
