/**
 * The webgpu backend (Dawn through the `webgpu` npm package). These run where a WebGPU adapter is
 * found: a real GPU, or Mesa's CPU Vulkan driver (`eval "$(bash scripts/lavapipe.sh)"` first);
 * elsewhere they are skipped with a message saying so. Each compares the GPU's numbers with the
 * cpu backend's (whose recurrent layers run seqlab's own kernels, an independent implementation
 * of the same layers).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { loadCheckpoint, saveCheckpoint } from '../src/core/checkpoint';
import { ADAM_MOMENTS, ADAM_VALUE, ATTENTION_BACKWARD, ATTENTION_FORWARD, GRU_BACKWARD, GRU_FORWARD, LSTM_BACKWARD, LSTM_FORWARD } from '../src/core/webgpu-kernels';
import { AttentionDecoder } from '../src/models/attention';
import { adam } from '../src/core/optimizer';
import { bidirectionalLstm, gru, gruSequence, lstm } from '../src/models/recurrent';
import { buildModel, inputTensor, targetTensor, translate } from '../src/tasks/nmt';
import { generateDates } from '../src/tasks/nmt/dates';
import { seqlab } from './helpers';

const bin = path.join(__dirname, '..', 'bin', 'seqlab');
// asked in a child process, so that this file's own backend stays unchosen until the tests start
const probe = spawnSync(process.execPath, [bin, 'info', '--backend', 'webgpu', '--json'], { encoding: 'utf8', timeout: 120_000 });
const adapter: string | undefined = probe.status === 0 ? JSON.parse(probe.stdout).adapter : undefined;
if (!adapter) {
  const why = (probe.stderr || '').trim().split('\n').filter((l) => l.startsWith('seqlab:')).pop() ?? `exit ${probe.status}`;
  console.warn(`webgpu tests skipped: no WebGPU adapter here (${why}). Without a GPU: eval "$(bash scripts/lavapipe.sh)" && npm test`);
}
const onGpu = adapter ? describe : describe.skip;

/** What a layer computes and every gradient of a weighted sum of it, read back as plain arrays. */
async function layerRun(backend: 'cpu' | 'webgpu', make: () => tf.layers.Layer, shape: [number, number, number]) {
  await initBackend(backend);
  const layer = make();
  const n = shape.reduce((a, b) => a * b);
  const x = tf.tensor3d(Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.7)), shape);
  // every output, flattened into one (the attention decoder has two: states and weights)
  const apply = (input: tf.Tensor) => tf.concat([layer.apply(input) as tf.Tensor | tf.Tensor[]].flat().map((o) => tf.reshape(o, [-1])));
  const y = apply(x);
  const w = tf.tensor(Float32Array.from({ length: y.size }, (_, i) => Math.cos(i * 0.3)), y.shape);
  const f = (input: tf.Tensor) => tf.sum(tf.mul(apply(input), w));
  const { grads } = tf.variableGrads(() => f(x) as tf.Scalar, layer.trainableWeights.map((v) => v.read()));
  const dx = tf.grad(f)(x);
  const out = {
    y: Array.from(await y.data()),
    dx: Array.from(await dx.data()),
    dw: await Promise.all(Object.keys(grads).sort().map(async (k) => Array.from(await grads[k].data()))),
  };
  tf.dispose([x, y, w, dx, ...Object.values(grads)]);
  layer.dispose();
  return out;
}

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

onGpu(`webgpu (${adapter})`, () => {
  test('auto never picks a CPU-emulated adapter; --backend webgpu names the one it runs on', () => {
    const auto = spawnSync(process.execPath, [bin, 'info', '--json'], { encoding: 'utf8', timeout: 120_000 });
    const info = JSON.parse(auto.stdout);
    if (/software|llvmpipe|swiftshader/i.test(adapter!)) {
      expect(info.backend).not.toBe('webgpu');
      expect(info.tried.join('\n')).toMatch(/webgpu: (only a CPU-emulated adapter|no GPU device here)/);
    } else {
      expect(info.backend).toBe('webgpu');
    }
    expect(adapter).toMatch(/\w/);
  });

  test.each([
    ['Lstm', () => lstm({ units: 4, returnSequences: true, seed: 3 })],
    ['BidirectionalLstm', () => bidirectionalLstm({ units: 3, returnSequences: true, seed: 5 })],
    ['Gru', () => gru({ units: 4, returnSequences: true, seed: 7 })],
    ['AttentionDecoder (relu energies)', () => new AttentionDecoder({ steps: 4, units: 5, attentionUnits: 3, seed: 9 })],
    ['AttentionDecoder (linear energies)', () => new AttentionDecoder({ steps: 3, units: 4, attentionUnits: 6, energyActivation: 'linear', seed: 2 })],
  ])('%s: outputs and every gradient equal the cpu backend\'s', async (_name, make) => {
    const want = await layerRun('cpu', make as () => tf.layers.Layer, [2, 6, 5]);
    const got = await layerRun('webgpu', make as () => tf.layers.Layer, [2, 6, 5]);
    expect(maxDiff(got.y, want.y)).toBeLessThan(1e-5);
    expect(maxDiff(got.dx, want.dx)).toBeLessThan(1e-4);
    expect(got.dw.length).toBe(want.dw.length);
    got.dw.forEach((g, k) => expect(maxDiff(g, want.dw[k])).toBeLessThan(1e-4));
  }, 240_000);

  test('gruSequence from a given state: every gradient, the state\'s too, equals the cpu backend\'s', async () => {
    const [T, B, n] = [5, 3, 4];
    const data = (size: number, k: number) => Float32Array.from({ length: size }, (_, i) => 0.5 * Math.sin(i * k + 1));
    const run = async (backend: 'cpu' | 'webgpu') => {
      await initBackend(backend);
      const inputs = [
        tf.tensor3d(data(T * B * 3 * n, 0.3), [T, B, 3 * n]),
        tf.tensor2d(data(n * 3 * n, 0.7), [n, 3 * n]),
        tf.tensor1d(data(3 * n, 1.1)),
        tf.tensor2d(data(B * n, 1.3), [B, n]),
      ];
      const w = tf.tensor3d(data(T * B * n, 0.9), [T, B, n]);
      const f = (p: tf.Tensor, u: tf.Tensor, b: tf.Tensor, h: tf.Tensor) =>
        tf.sum(tf.mul(gruSequence(p as tf.Tensor3D, u as tf.Tensor2D, b as tf.Tensor1D, h as tf.Tensor2D), w));
      const y = gruSequence(inputs[0] as tf.Tensor3D, inputs[1] as tf.Tensor2D, inputs[2] as tf.Tensor1D, inputs[3] as tf.Tensor2D);
      const grads = tf.grads(f as (...xs: tf.Tensor[]) => tf.Tensor)(inputs);
      return { y: Array.from(await y.data()), grads: await Promise.all(grads.map(async (g) => Array.from(await g.data()))) };
    };
    const want = await run('cpu');
    const got = await run('webgpu');
    expect(maxDiff(got.y, want.y)).toBeLessThan(1e-5);
    got.grads.forEach((g, k) => expect(maxDiff(g, want.grads[k])).toBeLessThan(1e-4));
  }, 240_000);

  test.each([
    ['LSTM', () => lstm({ units: 4, returnSequences: true, seed: 3 }), LSTM_FORWARD, LSTM_BACKWARD],
    ['GRU', () => gru({ units: 4, returnSequences: true, seed: 3 }), GRU_FORWARD, GRU_BACKWARD],
    ['attention', () => new AttentionDecoder({ steps: 12, units: 4, attentionUnits: 3, seed: 3 }), ATTENTION_FORWARD, ATTENTION_BACKWARD],
  ])('%s: a sequence is one dispatch forward and one backward (SEQLAB_KERNELS=0: op by op)', async (_name, make, forward, backward) => {
    await initBackend('webgpu');
    const kernelsOf = async () => {
      const layer = (make as () => tf.layers.Layer)();
      const x = tf.randomNormal([2, 12, 5], 0, 1, 'float32', 1);
      layer.apply(x);
      const prof = await tf.profile(() => tf.grad((input: tf.Tensor) => tf.sum([layer.apply(input) as tf.Tensor | tf.Tensor[]].flat()[0]))(x));
      layer.dispose();
      return prof.kernels.map((k) => k.name);
    };
    const fused = await kernelsOf();
    expect(fused.filter((k) => k === forward)).toHaveLength(1);
    expect(fused.filter((k) => k === backward)).toHaveLength(1);
    process.env.SEQLAB_KERNELS = '0';
    try {
      const opByOp = await kernelsOf();
      expect(opByOp).not.toContain(forward);
      expect(opByOp.length).toBeGreaterThan(fused.length + 12 * 10); // ≥ 10 kernels per step saved
    } finally {
      delete process.env.SEQLAB_KERNELS;
    }
  }, 240_000);

  test('Adam: two dispatches per variable, and the values and saved state of tfjs\' Adam on the cpu backend', async () => {
    const run = async (backend: 'cpu' | 'webgpu') => {
      await initBackend(backend);
      const data = (size: number, k: number) => Float32Array.from({ length: size }, (_, i) => Math.sin(i * k + 1));
      const vars = [tf.variable(tf.tensor2d(data(12, 0.7), [3, 4])), tf.variable(tf.tensor1d(data(5, 1.3)))];
      const target = [tf.tensor2d(data(12, 0.2), [3, 4]), tf.tensor1d(data(5, 0.4))];
      const optimizer = backend === 'webgpu' ? adam(0.05) : tf.train.adam(0.05);
      const loss = () => tf.addN(vars.map((v, i) => tf.sum(tf.mul(tf.square(tf.sub(v, target[i])), i + 1)))) as tf.Scalar;
      let kernels: string[] = [];
      for (let step = 0; step < 6; step++) {
        const prof = await tf.profile(() => optimizer.minimize(loss));
        kernels = prof.kernels.map((k) => k.name);
        if (step === 2) await optimizer.getWeights(); // as a checkpoint mid-training does
      }
      const state = await optimizer.getWeights();
      return {
        values: await Promise.all(vars.map(async (v) => Array.from(await v.data()))),
        state: await Promise.all(state.map(async (w) => Array.from(await w.tensor.data()))),
        kernels,
      };
    };
    const want = await run('cpu');
    const got = await run('webgpu');
    expect(got.kernels.filter((k) => k === ADAM_MOMENTS || k === ADAM_VALUE)).toHaveLength(2 * 2);
    got.values.forEach((v, i) => expect(maxDiff(v, want.values[i])).toBeLessThan(1e-5));
    expect(got.state.length).toBe(want.state.length);
    got.state.forEach((w, i) => expect(maxDiff(w, want.state[i])).toBeLessThan(1e-5));
  }, 240_000);

  test('tensors made on the CPU reach the GPU whole through queue.writeBuffer (float, int, bool), and no buffer is created for them', async () => {
    await initBackend('webgpu');
    const backend = tf.backend() as unknown as { queue: { writeBuffer: (...a: unknown[]) => void }; device: { createBuffer: (...a: unknown[]) => unknown } };
    // over 1,000 elements each, or tfjs runs the op on the CPU (WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD)
    const floats = Float32Array.from({ length: 1003 }, (_, i) => Math.sin(i) * 1e3);
    const ints = Int32Array.from({ length: 2001 }, (_, i) => i * 7919 - 100000);
    const bools = Array.from({ length: 1501 }, (_, i) => i % 3 === 0);
    const once = [tf.tensor1d(floats), tf.tensor1d(ints, 'int32'), tf.tensor1d(bools, 'bool')];
    tf.dispose(tf.tidy(() => once.map((t) => tf.reshape(tf.add(t, tf.zerosLike(t)), [-1])))); // sizes the buffer pool
    tf.dispose(once);
    const writes = jest.spyOn(backend.queue, 'writeBuffer');
    const creates = jest.spyOn(backend.device, 'createBuffer');
    const t = [tf.tensor1d(floats), tf.tensor1d(ints, 'int32'), tf.tensor1d(bools, 'bool')];
    // an op on the GPU reads each (uploading it), and its result is read back
    const out = tf.tidy(() => [tf.mul(t[0], 1), tf.mul(t[1], 1), tf.logicalAnd(t[2], t[2])]);
    expect(Array.from(await out[0].data())).toEqual(Array.from(floats));
    expect(Array.from(await out[1].data())).toEqual(Array.from(ints));
    expect(Array.from(await out[2].data())).toEqual(bools.map(Number));
    const uploads = writes.mock.calls.filter((c) => ArrayBuffer.isView(c[2]) && [floats.byteLength, ints.byteLength, bools.length * 4].includes((c[2] as ArrayBufferView).byteLength));
    expect(uploads).toHaveLength(3);
    expect(creates.mock.calls.filter((c) => ((c[0] as { usage: number }).usage & 0x0002) !== 0)).toEqual([]); // no MAP_WRITE staging buffer
    writes.mockRestore();
    creates.mockRestore();
    tf.dispose([...t, ...out]);
  });

  test('one-hot batches made on the GPU equal the ones written on the CPU (short rows are zeros)', async () => {
    const { oneHot } = await import('../src/core/one-hot');
    const { oneHot3d } = await import('../src/core/one-hot');
    await initBackend('webgpu');
    const seqs = [[0, 3, 2, 4], [1, 1], Int32Array.from([4, 0, 0, 2]), []];
    const x = oneHot3d(seqs, 4, 5);
    expect(x.dtype).toBe('float32');
    expect(Array.from(await x.data())).toEqual(Array.from(oneHot(seqs, 4, 5)));
    x.dispose();
  });

  test('the date model trains with the cpu backend\'s losses; its checkpoint answers the same on wasm', async () => {
    const pairs = generateDates(16, 3);
    const losses = async (backend: 'cpu' | 'webgpu') => {
      await initBackend(backend);
      const model = buildModel('course', 1);
      model.compile({ optimizer: adam(0.01), loss: 'categoricalCrossentropy' });
      const x = inputTensor(pairs.map((p) => p.human));
      const y = targetTensor(pairs.map((p) => p.iso));
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await model.trainOnBatch(x, y)) as number);
      tf.dispose([x, y]);
      return { model, out };
    };
    const cpu = await losses('cpu');
    cpu.model.dispose();
    const gpu = await losses('webgpu');
    gpu.out.forEach((l, i) => expect(l).toBeCloseTo(cpu.out[i], 4));
    const inputs = ['25th of June, 2009', '3/4/1999', 'tuesday 1 jan 2030'];
    const onGpuAnswers = (await translate(gpu.model, inputs)).map((t) => t.output);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-webgpu-'));
    await saveCheckpoint(dir, gpu.model, { task: 'nmt', epoch: 1, seed: 1, hyperparameters: {}, vocabularies: {}, history: [], trainSeconds: 0, backend: 'webgpu' });
    await initBackend('wasm');
    const { model } = await loadCheckpoint(dir, 'nmt');
    expect((await translate(model, inputs)).map((t) => t.output)).toEqual(onGpuAnswers);
  }, 240_000);

  test('seqlab train, eval and sample nmt run on it', async () => {
    const ck = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-webgpu-cli-'));
    const common = ['--checkpoint', ck, '--backend', 'webgpu'];
    const train = await seqlab('train', 'nmt', '--epochs', '1', '--examples', '64', '--batch-size', '32', '--arch', 'course', ...common);
    expect([train.code, train.err]).toEqual([0, expect.stringMatching(/backend: webgpu/)]);
    const evaluated = await seqlab('eval', 'nmt', '--examples', '50', ...common);
    expect(evaluated.code).toBe(0);
    expect(evaluated.out).toMatch(/exact match: [\d.]+% \(\d+\/50\)/);
    const sampled = await seqlab('sample', 'nmt', '25th of June, 2009', ...common);
    expect(sampled.code).toBe(0);
    expect(sampled.out).toMatch(/^\d{4}-\d{2}-\d{2}/);
  }, 240_000);
});

(adapter ? test.skip : test)('--backend webgpu where there is no adapter: one line, exit 1, no driver messages', () => {
  const r = spawnSync(process.execPath, [bin, 'train', 'nmt', '--backend', 'webgpu', '--epochs', '1'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status).toBe(1);
  expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^seqlab: backend 'webgpu' is not available here \(webgpu: /)]);
});

test('task code reads tensors asynchronously only (dataSync/arraySync throw on webgpu in Node)', () => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) {
        fs.readFileSync(p, 'utf8').split('\n').forEach((line, i) => {
          if (/\.(dataSync|arraySync|bufferSync)\(/.test(line)) offenders.push(`${path.relative(path.join(__dirname, '..'), p)}:${i + 1}`);
        });
      }
    }
  };
  for (const d of ['src/tasks', 'src/core', 'src/audio', 'src/music']) walk(path.join(__dirname, '..', d));
  expect(offenders).toEqual([]);
});
