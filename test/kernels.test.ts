/**
 * seqlab's own WebAssembly kernels (src/kernels/simd.ts) against plain JavaScript written from
 * their definitions, and the attention decoder's fused op against the same decoder op by op
 * (tfjs autodiff), every gradient included.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import * as fs from 'fs';
import * as path from 'path';
import { arena, kernelBuild, kernels, kernelThreads } from '../src/core/kernels';
import { createAttentionModel } from '../src/models/attention';
import { bidirectionalLstm, gru, lstm, tensorOf, valuesOf } from '../src/models/recurrent';

/**
 * Waits for the helper thread to start; where seqlab's kernels use two threads it must (else the
 * comparisons below would compare one thread with itself and could not fail).
 */
async function helperStarted(): Promise<void> {
  const k = kernels();
  for (let waited = 0; !k.helperWaiting() && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  if (kernelThreads() > 1) expect(k.helperWaiting()).toBe(1);
}

function filled(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 12.9898 + i * 78.233) * 0.5;
  return out;
}

describe('kernels against their definitions', () => {
  test.each([
    [4, 8, 64, false],
    [5, 11, 300, false], // edges in both directions, K over several chunks
    [3, 2, 7, true],
    [64, 40, 129, true],
  ])('gemmAtB32: C (+)= Aᵀ B for M %i, N %i, K %i (accumulate %s)', (M, N, K, accumulate) => {
    const k = kernels();
    const [a, b, c] = arena([K * M, K * N, M * N]);
    const A = filled(K * M, 1);
    const B = filled(K * N, 2);
    const C0 = filled(M * N, 3);
    a.view.set(A);
    b.view.set(B);
    c.view.set(C0);
    k.gemmAtB32(a.ptr, M, b.ptr, N, c.ptr, N, M, N, K, accumulate);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = accumulate ? C0[i * N + j] : 0;
        for (let r = 0; r < K; r++) s += A[r * M + i] * B[r * N + j];
        expect(Math.abs(c.view[i * N + j] - s)).toBeLessThan(1e-4);
      }
    }
  });

  test('the relaxed-SIMD build (fused multiply-adds) is used where the engine runs it, and computes what the plain build does', () => {
    kernels();
    const bytes = (name: string) => new Uint8Array(fs.readFileSync(path.join(__dirname, '..', 'dist', name)));
    expect(kernelBuild).toBe(WebAssembly.validate(bytes('kernels-fma.wasm')) ? 'fma' : 'simd');
    if (kernelBuild !== 'fma') return;
    const [M, K, N] = [37, 130, 45]; // edges in every direction
    const products = ['kernels.wasm', 'kernels-fma.wasm'].map((name) => {
      const memory = new WebAssembly.Memory({ initial: 8, maximum: 65536, shared: true });
      const own = new WebAssembly.Instance(new WebAssembly.Module(bytes(name)), { env: { memory } }).exports as unknown as ReturnType<typeof kernels>;
      const f = new Float32Array(memory.buffer);
      const [a, b, c] = [65536, 65536 + M * K * 4, 65536 + (M * K + K * N) * 4];
      f.set(filled(M * K, 11), a / 4);
      f.set(filled(K * N, 12), b / 4);
      own.gemmAB32(a, K, b, N, c, N, M, N, K, false);
      return f.slice(c / 4, c / 4 + M * N);
    });
    const A = filled(M * K, 11);
    const B = filled(K * N, 12);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let r = 0; r < K; r++) s += A[i * K + r] * B[r * N + j];
        for (const p of products) expect(Math.abs(p[i * N + j] - s)).toBeLessThan(1e-4);
      }
    }
  });

  test('a large product split with the helper thread equals the same product on one thread and its definition', async () => {
    const k = kernels();
    await helperStarted();
    const [M, K, N] = [70, 128, 100]; // 0.9 M multiply-adds: split (rows 0-31 here, 32-69 there)
    const [a, b, c, bt, d] = arena([M * K, K * N, M * N, N * K, M * N]);
    a.view.set(filled(M * K, 6));
    b.view.set(filled(K * N, 7));
    for (let i = 0; i < K; i++) for (let j = 0; j < N; j++) bt.view[j * K + i] = b.view[i * N + j];
    k.gemmAB32(a.ptr, K, b.ptr, N, c.ptr, N, M, N, K, false);
    k.gemmABt32(a.ptr, K, bt.ptr, K, d.ptr, N, M, N, K, 0, false);
    const twoThreads = [c.view.slice(), d.view.slice()];
    k.setHelpers(0);
    k.gemmAB32(a.ptr, K, b.ptr, N, c.ptr, N, M, N, K, false);
    k.gemmABt32(a.ptr, K, bt.ptr, K, d.ptr, N, M, N, K, 0, false);
    k.setHelpers(1);
    expect(Array.from(twoThreads[0])).toEqual(Array.from(c.view));
    expect(Array.from(twoThreads[1])).toEqual(Array.from(d.view));
    for (const i of [0, 31, 32, 69]) {
      for (const j of [0, 99]) {
        let s = 0;
        for (let r = 0; r < K; r++) s += a.view[i * K + r] * b.view[r * N + j];
        expect(Math.abs(c.view[i * N + j] - s)).toBeLessThan(1e-4);
      }
    }
  });

  test('colSum32 sums columns, with a tail that is not a multiple of 4', () => {
    const k = kernels();
    const [b, out] = arena([37 * 7, 7]);
    const B = filled(37 * 7, 4);
    b.view.set(B);
    k.colSum32(b.ptr, 37, 7, out.ptr);
    for (let j = 0; j < 7; j++) {
      let s = 0;
      for (let r = 0; r < 37; r++) s += B[r * 7 + j];
      expect(out.view[j]).toBeCloseTo(s, 5);
    }
  });

  test.each([false, true])('reorder32 moves row (b, t) of [B, T, W] to row (t, b) of [T, B, W] and back (reverse %s)', (reverse) => {
    const k = kernels();
    const [B, T, W] = [3, 5, 6];
    const [src, mid, back] = arena([B * T * W, B * T * W, B * T * W]);
    const X = filled(B * T * W, 5);
    src.view.set(X);
    k.reorder32(src.ptr, mid.ptr, B, T, W, true, reverse);
    k.reorder32(mid.ptr, back.ptr, B, T, W, false, reverse);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const s = reverse ? T - 1 - t : t;
        for (let w = 0; w < W; w++) expect(mid.view[(s * B + b) * W + w]).toBe(X[(b * T + t) * W + w]);
      }
    }
    expect(Array.from(back.view)).toEqual(Array.from(X));
  });
});

describe.each(['wasm', 'cpu'] as const)('tensors in and out of kernel memory on %s', (backend) => {
  beforeAll(() => initBackend(backend));

  test('tensorOf owns its values: kernel memory reused later does not change it; valuesOf reads a tensor', () => {
    const [room] = arena([6]);
    room.view.set([1, 2, 3, 4, 5, 6]);
    const t = tensorOf<tf.Rank.R2>(room.view, [2, 3]);
    room.view.fill(9);
    arena([6])[0].view.fill(7);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(valuesOf(tf.add(t, 1)))).toEqual([2, 3, 4, 5, 6, 7]);
  });

  test('what a forward pass keeps for its backward pass is released: after the gradient, after a tape that never asked for it, and never kept without a tape', () => {
    const free = arena([1])[0].ptr; // where layouts start with nothing kept
    const layer = gru({ units: 4, returnSequences: true, seed: 1 });
    const x = tf.randomNormal([2, 5, 3], 0, 1, 'float32', 2);
    layer.apply(x); // no tape: nothing kept
    expect(arena([1])[0].ptr).toBe(free);
    let during = 0;
    tf.grads((v: tf.Tensor) => {
      const y = tf.sum(layer.apply(v) as tf.Tensor);
      during = arena([1])[0].ptr; // while the tape records, the saved arrays are kept
      return y;
    })([x]);
    expect(during).toBeGreaterThan(free);
    expect(arena([1])[0].ptr).toBe(free);
    tf.grads((v: tf.Tensor) => {
      layer.apply(x); // taped, but not on the way to the result: its gradient is never computed
      return tf.sum(tf.mul(v, 2));
    })([x]);
    expect(arena([1])[0].ptr).toBe(free);
  });
});

describe('sequences split by examples between two threads', () => {
  beforeAll(() => initBackend('wasm'));

  test.each([
    ['LSTM', () => lstm({ units: 32, returnSequences: true, seed: 1 })],
    ['bidirectional LSTM', () => bidirectionalLstm({ units: 32, returnSequences: true, seed: 2 })],
    ['GRU', () => gru({ units: 32, returnSequences: true, seed: 3 })],
  ] as const)('%s: states and every gradient are the same with and without the helper thread', async (_name, make) => {
    const k = kernels();
    await helperStarted();
    const layer = make();
    const x = tf.randomNormal([16, 20, 8], 0, 1, 'float32', 4); // 16 examples: 8 on each thread
    const target = tf.randomNormal((layer.apply(x) as tf.Tensor).shape, 0, 1, 'float32', 5); // builds the layer too
    const run = () => {
      const loss = () => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, target)) as tf.Scalar;
      const { value, grads } = tf.variableGrads(loss, layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
      return [value, ...Object.values(grads)].map((t) => Array.from(t.dataSync()));
    };
    const two = run();
    k.setHelpers(0);
    const one = run();
    k.setHelpers(1);
    expect(two).toEqual(one);
  });
});

describe.each(['wasm', 'cpu'] as const)('the attention decoder on %s: one fused op equals the loop op by op', (backend) => {
  beforeAll(() => initBackend(backend));
  afterEach(() => {
    delete process.env.SEQLAB_KERNELS;
  });

  test.each(['relu', 'linear'] as const)('states, attention weights and every gradient (%s energies)', (energyActivation) => {
    const model = createAttentionModel({
      inputVocabSize: 7, outputVocabSize: 5, inputLength: null, outputLength: 4, encoderUnits: 3, decoderUnits: 5, attentionUnits: 6, energyActivation, seed: 3,
    });
    const decoder = model.getLayer('attention_decoder');
    const a = tf.randomNormal([3, 9, 6], 0, 1, 'float32', 5);
    const weights = tf.randomNormal([3, 4, 5 + 9], 0, 1, 'float32', 7);
    // a loss on both outputs, so the attention weights' own gradient is checked too
    const loss = (x: tf.Tensor) => {
      const [s, alpha] = decoder.apply(x) as tf.Tensor[];
      return tf.sum(tf.mul(tf.concat([s, alpha], 2), weights)) as tf.Scalar;
    };
    const run = () => {
      const { value, grads } = tf.variableGrads(() => loss(a), decoder.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
      const dInput = tf.grad(loss)(a);
      const outputs = decoder.apply(a) as tf.Tensor[];
      return { value: value.dataSync()[0], grads: [...Object.values(grads), dInput].map((g) => g.dataSync()), outputs: outputs.map((o) => o.dataSync()) };
    };
    const fused = run();
    process.env.SEQLAB_KERNELS = '0';
    const ops = run();
    expect(fused.grads).toHaveLength(9); // 8 weights and the input
    expect(fused.value).toBeCloseTo(ops.value, 4);
    fused.outputs.forEach((o, i) => o.forEach((v, j) => expect(Math.abs(v - ops.outputs[i][j])).toBeLessThan(1e-5)));
    fused.grads.forEach((g, i) => {
      const scale = Math.max(1, ...Array.from(ops.grads[i], Math.abs)); // the linear energies' bias has gradient 0
      g.forEach((v, j) => expect(Math.abs(v - ops.grads[i][j]) / scale).toBeLessThan(1e-5));
    });
  });
});
