/**
 * nmt: translate human-written dates ("25th of June, 2009", "tue 10 jul 2007", "6/25/09") into
 * ISO dates (2009-06-25) with the course's Bi-LSTM + attention model, and show where it looks.
 *
 * data (dates.ts) → model (models/attention.ts) → train → eval → sample, each a short function.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { withAttentionOutput } from '../../models/attention';
import { EpochRecord, loadCheckpoint } from '../../core/checkpoint';
import { SeqlabError, UsageError } from '../../core/errors';
import { checkWritableFile, fileError, quoted, readTextFile } from '../../core/files';
import { formatSeconds } from '../../core/progress';
import { oneHot3d } from '../../core/one-hot';
import { deriveSeed } from '../../core/rng';
import { Options, RunContext, Task } from '../../core/task';
import { beginTraining, checkpointSaver, interruption, trainLoop } from '../../core/train';
import { readInputs } from '../../core/inputs';
import { heatmapPng, writeLossChart } from '../../core/plot';
import { ARCHS, ArchName, buildModel, compile } from './model';

export { buildModel } from './model';
import {
  DatePair, decodeIso, encodeHuman, encodeIso, generateDates, HUMAN_VOCAB, MACHINE_VOCAB, normalize, TX, TY,
} from './dates';

// ---------------------------------------------------------------- configuration

/** Everything that defines a training run; stored in the checkpoint. */
export interface NmtConfig {
  arch: ArchName;
  examples: number;
  batchSize: number;
  lr: number;
  /** learning rate at epoch e is lr / (1 + lrDecay · (e - 1)) */
  lrDecay: number;
  validationExamples: number;
}

export const DEFAULTS: NmtConfig = { arch: 'default', examples: 20000, batchSize: 256, lr: 0.01, lrDecay: 0.2, validationExamples: 1000 };

/**
 * Seeds of the data sets, derived by name from the run's seed: every training epoch draws fresh
 * dates, validation and eval have their own.
 */
const trainSeed = (seed: number, epoch: number) => deriveSeed(seed, 'nmt-train-dates', epoch);
const validationSeed = (seed: number) => deriveSeed(seed, 'nmt-validation-dates');
const evalSeed = (seed: number) => deriveSeed(seed, 'nmt-eval-dates');

// ---------------------------------------------------------------- data → tensors

/** One-hot inputs [n, TX, |human vocab|] for a list of human dates. */
export function inputTensor(humans: readonly string[]): tf.Tensor3D {
  return oneHot3d(humans.map(encodeHuman), TX, HUMAN_VOCAB.length);
}

/** One-hot targets [n, TY, |machine vocab|]. */
export function targetTensor(isos: readonly string[]): tf.Tensor3D {
  return oneHot3d(isos.map(encodeIso), TY, MACHINE_VOCAB.length);
}

// ---------------------------------------------------------------- inference

export interface Translation {
  input: string;
  output: string;
  /** product of the chosen characters' probabilities */
  confidence: number;
  /** [TY][TX] attention weights, when asked for */
  attention?: number[][];
}

/** Translates human dates to ISO in batches; with `attention`, also returns the attention maps. */
export function translate(model: tf.LayersModel, humans: readonly string[], attention = false, batchSize = 512): Translation[] {
  const runner = attention ? withAttentionOutput(model) : model;
  const results: Translation[] = [];
  for (let start = 0; start < humans.length; start += batchSize) {
    const chunk = humans.slice(start, start + batchSize);
    const [probs, alphas] = tf.tidy(() => {
      const out = runner.predict(inputTensor(chunk));
      const [p, a] = Array.isArray(out) ? out : [out];
      return [p.arraySync() as number[][][], a?.arraySync() as number[][][] | undefined];
    });
    chunk.forEach((input, i) => {
      const best = probs[i].map((row) => row.indexOf(Math.max(...row)));
      const confidence = probs[i].reduce((p, row, t) => p * row[best[t]], 1);
      results.push({ input, output: decodeIso(best), confidence, ...(alphas ? { attention: alphas[i] } : {}) });
    });
  }
  return results;
}

export interface Accuracy {
  examples: number;
  exactMatch: number;
  perPosition: number[];
  failures: { input: string; expected: string; got: string }[];
}

export function measure(model: tf.LayersModel, pairs: readonly { human: string; iso: string }[]): Accuracy {
  const got = translate(model, pairs.map((p) => p.human));
  const perPosition = new Array(TY).fill(0);
  let exact = 0;
  const failures: Accuracy['failures'] = [];
  pairs.forEach((p, i) => {
    const out = got[i].output;
    for (let t = 0; t < TY; t++) if (out[t] === p.iso[t]) perPosition[t]++;
    if (out === p.iso) exact++;
    else failures.push({ input: p.human, expected: p.iso, got: out });
  });
  return { examples: pairs.length, exactMatch: exact / pairs.length, perPosition: perPosition.map((c) => c / pairs.length), failures };
}

// ---------------------------------------------------------------- train

function configFrom(options: Options, saved?: NmtConfig): NmtConfig {
  if (saved) return saved; // resuming: the run's own settings
  return {
    arch: (options.arch as ArchName) ?? DEFAULTS.arch,
    examples: (options.examples as number) ?? DEFAULTS.examples,
    batchSize: (options.batchSize as number) ?? DEFAULTS.batchSize,
    lr: (options.lr as number) ?? DEFAULTS.lr,
    lrDecay: DEFAULTS.lrDecay,
    validationExamples: DEFAULTS.validationExamples,
  };
}

async function train(_args: string[], options: Options, ctx: RunContext) {
  const epochs = options.epochs as number;
  const resumed = await beginTraining('nmt', options, ctx, { epochs });
  const meta = resumed.meta;
  const seed = meta?.seed ?? ctx.seed;
  const config = configFrom(options, meta?.hyperparameters as NmtConfig | undefined);
  const model = resumed.model ?? buildModel(config.arch, seed);
  if (!resumed.model) compile(model, config.lr);

  const validation = generateDates(config.validationExamples, validationSeed(seed));
  const batchesPerEpoch = Math.floor(config.examples / config.batchSize);
  if (batchesPerEpoch < 1) throw new UsageError(`--examples (${config.examples}) must be at least --batch-size (${config.batchSize})`);
  ctx.reporter.info(
    `nmt: ${config.examples} fresh dates per epoch, batch ${config.batchSize}, ${epochs} epochs, arch ${config.arch} (${model.countParams()} parameters)`,
  );

  let epochData = { epoch: 0, pairs: [] as DatePair[] };
  const saver = checkpointSaver(ctx, { task: 'nmt', seed, hyperparameters: { ...config }, vocabularies: { human: HUMAN_VOCAB, machine: MACHINE_VOCAB } }, meta);
  const result = await trainLoop({
    model,
    epochs,
    initialEpoch: meta?.epoch ?? 0,
    resumeAt: meta?.interrupted,
    history: meta?.history,
    batchesPerEpoch,
    learningRate: (e) => config.lr / (1 + config.lrDecay * (e - 1)),
    batch(epoch, i) {
      if (epochData.epoch !== epoch) epochData = { epoch, pairs: generateDates(config.examples, trainSeed(seed, epoch)) };
      const chunk = epochData.pairs.slice(i * config.batchSize, (i + 1) * config.batchSize);
      return { xs: inputTensor(chunk.map((p) => p.human)), ys: targetTensor(chunk.map((p) => p.iso)) };
    },
    validate() {
      const acc = measure(model, validation);
      return { val_exact: acc.exactMatch, val_char: acc.perPosition.reduce((a, b) => a + b, 0) / TY };
    },
    save: async (epoch, history, interrupted) => {
      await saver.save(model, epoch, history, { interrupted });
      if (history.length) writeLossCurve(ctx.checkpointDir, history);
    },
    reporter: ctx.reporter,
  });

  const last: EpochRecord | undefined = result.history[result.history.length - 1];
  const summary = {
    status: result.status,
    epochs: result.epoch,
    seconds: +result.seconds.toFixed(1),
    examplesPerSecond: +((result.history.length - (meta?.history.length ?? 0)) * batchesPerEpoch * config.batchSize / Math.max(result.seconds, 1e-9)).toFixed(0),
    valExactMatch: last?.val_exact,
    loss: last?.loss,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    checkpoint: ctx.checkpointDir,
  };
  if (result.status === 'interrupted') throw interruption(result, ctx.checkpointDir, 'nmt', `seqlab train nmt --epochs ${epochs}`, ctx.print);
  ctx.print(
    `trained ${result.epoch} epochs in ${formatSeconds(result.seconds)} on ${ctx.backend.name}` +
      (last ? `: loss ${last.loss.toFixed(4)}, held-out exact match ${(last.val_exact * 100).toFixed(2)}%` : '') +
      ` (${summary.examplesPerSecond} dates/s, peak memory ${summary.peakRssMiB} MiB)`,
  );
  ctx.print(`checkpoint: ${ctx.checkpointDir}`);
  return summary;
}

function writeLossCurve(dir: string, history: EpochRecord[]): void {
  writeLossChart(dir, {
    title: 'nmt training',
    xLabel: 'epoch',
    series: [
      { name: 'loss', points: history.map((h) => [h.epoch, h.loss]) },
      { name: 'held-out error (1 - exact match; 0 not shown)', points: history.map((h) => [h.epoch, 1 - h.val_exact]) },
    ],
    logY: true,
  });
}

// ---------------------------------------------------------------- eval

/** Reads `human<TAB>iso` lines; names the line of any that is not. */
export function readDateTsv(file: string): { human: string; iso: string }[] {
  const text = readTextFile(file, 'TSV file');
  const pairs: { human: string; iso: string }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim()) return;
    const cols = line.split('\t');
    const iso = cols[1]?.trim() ?? '';
    if (cols.length < 2 || !cols[0].trim() || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
      throw new SeqlabError(`${file}:${i + 1}: expected 'human date<TAB>YYYY-MM-DD', got ${quoted(line)}`);
    }
    pairs.push({ human: cols[0], iso });
  });
  if (!pairs.length) throw new SeqlabError(`${file} has no date lines`);
  return pairs;
}

async function evaluate(_args: string[], options: Options, ctx: RunContext) {
  const fromFile = options.data ? readDateTsv(options.data as string) : undefined; // the user's file first: its errors before any loading
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'nmt');
  const pairs = fromFile ?? generateDates(options.examples as number, evalSeed(meta.seed));
  const source = options.data ? (options.data as string) : `${pairs.length} freshly generated dates (seed never used in training)`;
  const acc = measure(model, pairs);
  ctx.print(`nmt: ${source}`);
  ctx.print(`exact match: ${(acc.exactMatch * 100).toFixed(2)}% (${Math.round(acc.exactMatch * acc.examples)}/${acc.examples})`);
  ctx.print(`per position: ${acc.perPosition.map((p, t) => `${t}:${(p * 100).toFixed(1)}`).join(' ')}`);
  const byFormat = options.data ? undefined : accuracyByFormat(pairs as DatePair[], acc);
  if (byFormat) {
    const imperfect = byFormat.filter((f) => f.exactMatch < 1);
    if (!imperfect.length) ctx.print(`by format: all ${byFormat.length} formats 100%`);
    else {
      ctx.print(`by format, below 100% (worst first):`);
      for (const f of imperfect) ctx.print(`  ${f.format.padEnd(24)} ${(f.exactMatch * 100).toFixed(1).padStart(5)}%  of ${f.examples}`);
    }
  }
  const show = acc.failures.slice(0, options.failures as number);
  if (show.length) {
    ctx.print(`failures (${acc.failures.length}, first ${show.length}):`);
    for (const f of show) ctx.print(`  ${quoted(f.input, 40).padEnd(34)} expected ${f.expected}  got ${f.got}`);
  }
  return { examples: acc.examples, exactMatch: acc.exactMatch, perPosition: acc.perPosition, byFormat, failures: acc.failures.slice(0, 20), trainedEpochs: meta.epoch };
}

/** Exact match per writing format, worst first. */
function accuracyByFormat(pairs: DatePair[], acc: Accuracy): { format: string; examples: number; exactMatch: number }[] {
  const failed = new Set(acc.failures.map((f) => f.input));
  const counts = new Map<string, { n: number; ok: number }>();
  for (const p of pairs) {
    const c = counts.get(p.format) ?? { n: 0, ok: 0 };
    c.n++;
    if (!failed.has(p.human)) c.ok++;
    counts.set(p.format, c);
  }
  return [...counts].map(([format, c]) => ({ format, examples: c.n, exactMatch: c.ok / c.n })).sort((a, b) => a.exactMatch - b.exactMatch);
}

// ---------------------------------------------------------------- sample

/** File name of the attention map for input k of n: map.png, or map-1.png, map-2.png ... */
function attentionFile(file: string, k: number, n: number): string {
  if (n === 1) return file;
  const ext = path.extname(file) || '.png';
  return `${file.slice(0, file.length - path.extname(file).length)}-${k + 1}${ext}`;
}

async function sample(args: string[], options: Options, ctx: RunContext) {
  const inputs = await readInputs(args, 'a date such as "25th of June, 2009"');
  const wantMap = typeof options.attention === 'string';
  if (wantMap) checkWritableFile(options.attention as string, 'attention map');
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'nmt');
  const heldOut = meta.history[meta.history.length - 1]?.val_exact;
  if (heldOut !== undefined && heldOut < 0.9) {
    ctx.reporter.warn(`this model got only ${(heldOut * 100).toFixed(1)}% of held-out dates right after ${meta.epoch} epochs: its answers are unreliable (train longer: seqlab train nmt --epochs 20)`);
  }
  for (const input of inputs) {
    if ([...normalize(input)].length > TX) ctx.reporter.warn(`${quoted(input)} is longer than ${TX} characters; only the first ${TX} are read`);
  }
  const results = translate(model, inputs, wantMap);
  results.forEach((r) => ctx.print(r.output));
  const maps: string[] = [];
  if (wantMap) {
    results.forEach((r, k) => {
      const file = attentionFile(options.attention as string, k, results.length);
      const shown = [...normalize(r.input)].slice(0, TX);
      const png = heatmapPng({
        title: `${[...r.input].slice(0, 40).join('')}  →  ${r.output}`,
        matrix: r.attention!.map((row) => row.slice(0, Math.max(shown.length, 1))),
        rowLabels: [...r.output],
        // what the model saw: a character outside its vocabulary is the unknown token, drawn as '?'
        colLabels: shown.map((c) => (c === ' ' ? '␣' : HUMAN_VOCAB.includes(c) ? c : '?')),
        xLabel: 'input characters',
        yLabel: 'output',
      });
      if (!png) throw new SeqlabError('cannot write PNG: @napi-rs/canvas is not available on this machine');
      try {
        fs.writeFileSync(file, png);
      } catch (err) {
        throw fileError('write attention map', file, err);
      }
      maps.push(file);
      ctx.reporter.info(`attention map: ${file}`);
    });
  }
  return { results: results.map(({ input, output, confidence }) => ({ input, output, confidence: +confidence.toFixed(4) })), attentionMaps: maps };
}

// ---------------------------------------------------------------- the task

export const nmt: Task = {
  name: 'nmt',
  summary: 'human dates ("25th of June, 2009") → ISO 2009-06-25, Bi-LSTM + attention',
  examples: [
    'seqlab train nmt --epochs 20',
    'seqlab eval nmt',
    'seqlab sample nmt "25th of June, 2009" "tue 10 jul 2007"',
    'seqlab sample nmt "6/25/09" --attention map.png',
  ],
  train: {
    help: 'train the date translator on generated dates',
    resumable: true,
    options: [
      { key: 'epochs', flags: '--epochs <n>', help: 'epochs to train (in all, when resuming)', type: 'int', default: 20, min: 1 },
      { key: 'examples', flags: '--examples <n>', help: 'fresh training dates generated per epoch', type: 'int', default: DEFAULTS.examples, min: 1 },
      { key: 'batchSize', flags: '--batch-size <n>', help: 'dates per training step', type: 'int', default: DEFAULTS.batchSize, min: 1 },
      { key: 'lr', flags: '--lr <x>', help: `Adam learning rate (decays as lr / (1 + ${DEFAULTS.lrDecay} (epoch-1)))`, type: 'number', default: DEFAULTS.lr, min: 1e-9 },
      { key: 'arch', flags: '--arch <name>', help: 'model sizes: default, or course (n_a 32, n_s 64)', type: Object.keys(ARCHS), default: DEFAULTS.arch },
    ],
    run: train,
  },
  eval: {
    help: 'exact-match and per-position accuracy on fresh dates or a TSV file',
    options: [
      { key: 'data', flags: '--data <file.tsv>', help: 'lines of "human date<TAB>YYYY-MM-DD" instead of generated dates', type: 'string' },
      { key: 'examples', flags: '--examples <n>', help: 'generated dates to measure on', type: 'int', default: 2000, min: 1 },
      { key: 'failures', flags: '--failures <n>', help: 'failures to list', type: 'int', default: 10, min: 0 },
    ],
    run: evaluate,
  },
  sample: {
    help: 'translate dates given as arguments (or one per line on stdin with -)',
    args: { name: '[dates...]', help: 'human-written dates; - reads them from stdin' },
    options: [{ key: 'attention', flags: '--attention <file.png>', help: 'write the attention map (output × input characters) as PNG', type: 'string' }],
    run: sample,
  },
};
