/**
 * Speed beside the framework a user would pick instead, measured in the same run.
 *
 * The peers are the PyTorch and NumPy versions of seqlab's models in ../shared/peer (or
 * `--peers DIR`), run through its with_openblas.sh with 2 threads. Each comparison alternates
 * seqlab and the peer (`--rounds`, default 2; each side in a fresh process) and reports the
 * median of each side and the ratio: the peer's time over seqlab's, so above 1 means seqlab is
 * faster. Without the peers (no folder, or no python3 with torch/numpy) the seqlab side is still
 * timed and the peer column says why it is missing.
 *
 * Shapes follow the peers: the date model at the course's sizes on 30-character one-hot inputs;
 * 2 × LSTM(128) over 40 steps of a 40-character one-hot, batch 128, predicting from the last step;
 * the course's dinosaur RNN, 35,000 SGD steps on the course's dinos.txt (`--corpus`); the trigger
 * model of trigger_torch.py --variant logmel (1,000 × 40 log-mel → Conv1D(196, 15, stride 2) →
 * BN → GRU(128) × 2 with BN → Dense sigmoid, batch 8; seqlab's patch Conv1D takes 16 frames, a
 * multiple of the stride, for the same 493 steps).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { adam } from '../src/core/optimizer';
import { initBackend } from '../src/core/backend';
import { kernelThreads } from '../src/core/kernels';
import { packageRoot } from '../src/core/paths';

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The peers' folder and whether they can run here; `why` says what is missing. */
export function findPeers(): { dir: string; ok: boolean; why: string } {
  const dir = path.resolve(arg('--peers', path.join(packageRoot(), '..', 'shared', 'peer')));
  if (!fs.existsSync(path.join(dir, 'with_openblas.sh'))) return { dir, ok: false, why: `no peers in ${dir} (--peers DIR)` };
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) return { dir, ok: false, why: 'python3 cannot import torch and numpy (apt-get install -y python3-torch python3-numpy)' };
  return { dir, ok: true, why: '' };
}

/** Runs a peer script with OpenBLAS and 2 threads; returns its JSON result. */
function runPeer(dir: string, script: string, args: string[]): Record<string, unknown> {
  const run = spawnSync(path.join(dir, 'with_openblas.sh'), ['/usr/bin/python3', script, '--threads', '2', ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`peer ${script} failed: ${run.stderr.trim().split('\n').pop()}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

/** Runs this script's child mode `mode` in a fresh process; returns its JSON result. */
function runChild(mode: string, args: string[]): Record<string, unknown> {
  const run = spawnSync(process.execPath, [__filename.replace(/peers\.js$/, 'bench.js'), '--child-speed', mode, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`seqlab ${mode} failed: ${run.stderr.trim().split('\n').pop()}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!);
}

interface Side {
  label: string;
  /** one measurement: milliseconds (per step, or for the whole run) and peak RSS in MiB */
  measure(): { ms: number; peakRssMiB?: number };
}

/** Alternates the two sides `rounds` times; prints one row with the medians and the ratio. */
function compare(what: string, unit: string, perSecond: (ms: number) => string, seqlab: Side, peer: Side | string): void {
  const rounds = Number(arg('--rounds', '2'));
  const ours: number[] = [];
  const theirs: number[] = [];
  let rss = 0;
  let peerRss = 0;
  for (let r = 0; r < rounds; r++) {
    const s = seqlab.measure();
    ours.push(s.ms);
    rss = Math.max(rss, s.peakRssMiB ?? 0);
    if (typeof peer !== 'string') {
      const p = peer.measure();
      theirs.push(p.ms);
      peerRss = Math.max(peerRss, p.peakRssMiB ?? 0);
    }
  }
  const a = median(ours);
  const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
  const ourCol = `${fmt(a)} (${perSecond(a)}; ${ours.map(fmt).join(', ')}${rss ? `; peak RSS ${rss} MiB` : ''})`;
  if (typeof peer === 'string') {
    console.log(`${what.padEnd(34)} seqlab ${unit}: ${ourCol}   peer: ${peer}`);
    return;
  }
  const b = median(theirs);
  console.log(`${what.padEnd(34)} seqlab ${unit}: ${ourCol}`);
  console.log(`${''.padEnd(34)} ${peer.label}: ${fmt(b)} (${perSecond(b)}; ${theirs.map(fmt).join(', ')}${peerRss ? `; peak RSS ${Math.round(peerRss)} MiB` : ''})   ratio ${(b / a).toFixed(2)}×`);
}

const perStep = (examples: number) => (ms: number) => `${((examples * 1000) / ms).toFixed(0)} examples/s`;

/** nmt: the course-size date model's train step beside nmt_torch.py, at batch 100 and 256. */
export function nmtBesidePeer(): void {
  const peers = findPeers();
  const steps = arg('--steps', '10');
  console.log(`\nbeside PyTorch (nmt_torch.py: the course's sizes, Tx 30, 2 threads; seqlab: wasm, ${kernelThreads()} thread${kernelThreads() > 1 ? 's' : ''} in its kernels), medians of ${arg('--rounds', '2')} interleaved runs`);
  for (const batch of arg('--batch-sizes', '100,256').split(',').map(Number)) {
    compare(
      `nmt train step, batch ${batch}`,
      'ms/step',
      perStep(batch),
      { label: 'seqlab', measure: () => { const r = runChild('nmt-course', [String(batch), steps]); return { ms: r.ms as number, peakRssMiB: r.peakRssMiB as number }; } },
      peers.ok
        ? { label: 'PyTorch', measure: () => { const r = runPeer(peers.dir, 'nmt_torch.py', ['--batches', String(batch), '--steps', '20']); return { ms: ((r.runs as { median_ms: number }[])[0]).median_ms }; } }
        : peers.why,
    );
  }
}

/** dinos: the hand-written RNN (whole command) beside NumPy; the char LSTM's train step beside PyTorch. */
export function dinosBesidePeer(): void {
  const peers = findPeers();
  const corpus = path.resolve(arg('--corpus', path.join(packageRoot(), '..', 'shared', 'datasets', 'course', 'dinos.txt')));
  const bin = path.join(packageRoot(), 'bin', 'seqlab');
  const rounds = arg('--rounds', '2');
  console.log(`dinos beside the peers (medians of ${rounds} interleaved runs; seqlab: ${kernelThreads()} thread${kernelThreads() > 1 ? 's' : ''} in its kernels, peers: 2 threads + OpenBLAS)`);
  const haveCorpus = fs.existsSync(corpus);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-bench-dinos-'));
  compare(
    'dinos rnn: 35,000 SGD steps',
    'whole command',
    (ms) => `${((35000 * 1000) / ms).toFixed(0)} steps/s`,
    {
      label: 'seqlab',
      measure: () => {
        const t = performance.now();
        const run = spawnSync(process.execPath, [bin, 'train', 'dinos', '--checkpoint', path.join(tmp, 'ck'), '--quiet', ...(haveCorpus ? ['--corpus', corpus] : [])], { encoding: 'utf8' });
        if (run.status !== 0) throw new Error(`seqlab train dinos failed: ${run.stderr.trim()}`);
        return { ms: performance.now() - t };
      },
    },
    peers.ok && haveCorpus
      ? { label: 'NumPy  ', measure: () => { const t = performance.now(); runPeer(peers.dir, 'dinos_numpy.py', ['--data', corpus]); return { ms: performance.now() - t }; } }
      : peers.ok ? `the course's dinos.txt is not at ${corpus} (--corpus FILE)` : peers.why,
  );
  fs.rmSync(tmp, { recursive: true, force: true });
  compare(
    'dinos lstm: 2×LSTM(128) train step',
    'ms/step',
    perStep(128),
    { label: 'seqlab', measure: () => { const r = runChild('charlstm', [arg('--steps', '10')]); return { ms: r.ms as number, peakRssMiB: r.peakRssMiB as number }; } },
    peers.ok ? { label: 'PyTorch', measure: () => ({ ms: runPeer(peers.dir, 'charlstm_torch.py', ['--steps', '30']).median_ms as number }) } : peers.why,
  );
}

/**
 * rnn: `seqlab train rnn` (its SIMD LSTM, and the plain RNN) beside the course-style JavaScript
 * LSTM (lstmLoss, what train rnn ran before) on the same batches, in the same run.
 */
export function rnnSpeeds(): void {
  const bin = path.join(packageRoot(), 'bin', 'seqlab');
  const steps = arg('--steps', '1000');
  console.log(`rnn: seconds per 1,000 training steps (delay 50, batch 32, 16 units; medians of ${arg('--rounds', '2')} interleaved runs)`);
  const train = (cell: string) => () => {
    const run = spawnSync(process.execPath, [bin, 'train', 'rnn', '--cell', cell, '--steps', steps, '--json', '--quiet'], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`seqlab train rnn failed: ${run.stderr.trim()}`);
    return { ms: JSON.parse(run.stdout.trim().split('\n').pop()!).msPer1000Steps as number };
  };
  compare(
    'rnn --cell lstm (SIMD kernels)',
    's/1,000 steps',
    (ms) => `${((1000 * 1000) / ms).toFixed(0)} steps/s`,
    { label: 'seqlab', measure: train('lstm') },
    { label: 'lstmLoss (course-style JS)', measure: () => ({ ms: runChild('rnn-reference', ['40']).ms as number }) },
  );
  compare('rnn --cell rnn (JavaScript)', 's/1,000 steps', (ms) => `${((1000 * 1000) / ms).toFixed(0)} steps/s`, { label: 'seqlab', measure: train('rnn') }, 'no peer');
}

/** trigger: the train step at trigger_torch.py --variant logmel's shapes. */
export function triggerBesidePeer(): void {
  const peers = findPeers();
  console.log(`\nbeside PyTorch (trigger_torch.py --variant logmel: 1,000 × 40 log-mel, Conv1D(196, 15, stride 2), GRU(128) × 2, batch 8; seqlab: ${kernelThreads()} thread${kernelThreads() > 1 ? 's' : ''} in its kernels; medians of ${arg('--rounds', '2')} interleaved runs)`);
  compare(
    'trigger train step (logmel shapes)',
    'ms/step',
    perStep(8),
    { label: 'seqlab', measure: () => { const r = runChild('trigger-logmel', [arg('--steps', '5')]); return { ms: r.ms as number, peakRssMiB: r.peakRssMiB as number }; } },
    peers.ok ? { label: 'PyTorch', measure: () => { const r = runPeer(peers.dir, 'trigger_torch.py', ['--variant', 'logmel', '--steps', '10']); return { ms: r.median_ms as number, peakRssMiB: r.peak_rss_mb as number }; } } : peers.why,
  );
}

async function timeTrainSteps(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, steps: number): Promise<{ ms: number; peakRssMiB: number }> {
  for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    await model.trainOnBatch(x, y);
    times.push(performance.now() - t);
  }
  return { ms: median(times), peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) };
}

/** The child side of a comparison: builds seqlab's model at the peer's shapes and times train steps (median). */
export async function speedChild(mode: string, args: string[]): Promise<Record<string, unknown>> {
  await initBackend('wasm');
  if (mode === 'nmt-course') {
    const [batch, steps] = args.map(Number);
    const { createAttentionModel, COURSE_SIZES } = await import('../src/models/attention');
    const model = createAttentionModel({ inputVocabSize: 37, outputVocabSize: 11, inputLength: 30, outputLength: 10, ...COURSE_SIZES, seed: 1 });
    model.compile({ optimizer: adam(0.005), loss: 'categoricalCrossentropy' });
    const x = tf.oneHot(tf.randomUniformInt([batch, 30], 0, 37), 37).toFloat();
    const y = tf.oneHot(tf.randomUniformInt([batch, 10], 0, 11), 11).toFloat();
    return timeTrainSteps(model, x, y, steps);
  }
  if (mode === 'charlstm') {
    const [steps] = args.map(Number);
    const { lstm } = await import('../src/models/recurrent');
    const input = tf.input({ shape: [40, 40] });
    const h = lstm({ units: 128, returnSequences: true, seed: 1 }).apply(input) as tf.SymbolicTensor;
    const last = lstm({ units: 128, seed: 2 }).apply(h) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 40, activation: 'softmax' }).apply(last) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    model.compile({ optimizer: adam(1e-3), loss: 'categoricalCrossentropy' });
    const x = tf.oneHot(tf.randomUniformInt([128, 40], 0, 40), 40).toFloat();
    const y = tf.oneHot(tf.randomUniformInt([128], 0, 40), 40).toFloat();
    return timeTrainSteps(model, x, y, steps);
  }
  if (mode === 'trigger-logmel') {
    const [steps] = args.map(Number);
    const { gru } = await import('../src/models/recurrent');
    const { conv1d } = await import('../src/models/patches');
    const input = tf.input({ shape: [1000, 40] });
    const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;
    const bn = () => tf.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 });
    const { dropout } = await import('../src/models/dropout');
    let drops = 0;
    const drop = () => dropout({ rate: 0.8, seed: ++drops });
    // kernel 16, not 15: the patch Conv1D wants a multiple of the stride; the same 493 steps
    let x = apply(conv1d({ filters: 196, kernelSize: 16, strides: 2, seed: 1, name: 'conv' }), input);
    x = apply(drop(), apply(tf.layers.reLU(), apply(bn(), x)));
    x = apply(bn(), apply(drop(), apply(gru({ units: 128, returnSequences: true, seed: 10 }), x)));
    x = apply(drop(), apply(bn(), apply(drop(), apply(gru({ units: 128, returnSequences: true, seed: 20 }), x))));
    const out = apply(tf.layers.dense({ units: 1, activation: 'sigmoid' }), x);
    const model = tf.model({ inputs: input, outputs: out });
    model.compile({ optimizer: adam(1e-4), loss: 'binaryCrossentropy' });
    const xs = tf.randomNormal([8, 1000, 40]);
    const ys = tf.cast(tf.less(tf.randomUniform([8, out.shape[1]!, 1]), 0.1), 'float32');
    return timeTrainSteps(model, xs, ys, steps);
  }
  if (mode === 'rnn-reference') {
    // the course-style LSTM (lstmLoss) on train rnn's batches: ms per 1,000 steps
    const [steps] = args.map(Number);
    const { NumpyRandom } = await import('../src/core/numpy-random');
    const { delayBatch } = await import('../src/tasks/rnn/delay');
    const { initParams } = await import('../src/tasks/rnn');
    const { lstmLoss } = await import('../src/models/handwritten/lstm');
    const { zeros } = await import('../src/models/handwritten/matrix');
    const rng = new NumpyRandom(1);
    const params = initParams('lstm', 8, 16, 4, rng);
    const t = performance.now();
    for (let i = 0; i < steps; i++) {
      const b = delayBatch({ symbols: 4, distractors: 4, delay: 50 }, 32, rng);
      lstmLoss(b.x, b.labels, zeros(16, 32, 'f32'), params as never);
    }
    return { ms: ((performance.now() - t) / steps) * 1000 };
  }
  throw new Error(`unknown speed child '${mode}'`);
}
