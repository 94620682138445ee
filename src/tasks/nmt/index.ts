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
import { packageRoot } from '../../core/paths';
import { deriveSeed as derive, Rng } from '../../core/rng';
import {
  bestValidDate, Convention, CONVENTION_NAMES, CONVENTIONS, DatePair, encodeHuman, encodeIso, generateDates, HUMAN_VOCAB, inputLength, isoInput,
  isValidDate, Kind, KINDS, kindOf, MACHINE_VOCAB, MAX_INPUT, normalize, paddedLength, TY,
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
  /** the convention eval and sample read ambiguous numeric dates by, unless they are given --order */
  order: Convention;
}

export const DEFAULTS: NmtConfig = { arch: 'default', examples: 20000, batchSize: 256, lr: 0.01, lrDecay: 0.2, validationExamples: 1000, order: 'mdy' };

/**
 * Seeds of the data sets, derived by name from the run's seed: every training epoch draws fresh
 * dates, validation and eval have their own.
 */
const trainSeed = (seed: number, epoch: number) => deriveSeed(seed, 'nmt-train-dates', epoch);
const validationSeed = (seed: number) => deriveSeed(seed, 'nmt-validation-dates');
const evalSeed = (seed: number) => deriveSeed(seed, 'nmt-eval-dates');

// ---------------------------------------------------------------- data → tensors

/** The convention of input i: one for all, or one each. */
const conventionAt = (c: Convention | readonly Convention[], i: number) => (typeof c === 'string' ? c : c[i]);

/**
 * One-hot inputs [n, length, |human vocab|]: the convention token, then the characters, padded to
 * `length` (default: what the longest input needs).
 */
export function inputTensor(humans: readonly string[], convention: Convention | readonly Convention[] = 'mdy', length?: number): tf.Tensor3D {
  const L = length ?? paddedLength(Math.min(MAX_INPUT, Math.max(0, ...humans.map(inputLength))));
  return oneHot3d(humans.map((h, i) => encodeHuman(h, conventionAt(convention, i), L)), L, HUMAN_VOCAB.length);
}

/** One-hot targets [n, TY, |machine vocab|]. */
export function targetTensor(isos: readonly string[]): tf.Tensor3D {
  return oneHot3d(isos.map(encodeIso), TY, MACHINE_VOCAB.length);
}

/** Refuses input the model cannot read whole, saying so (never a silent cut). */
export function checkLength(humans: readonly string[]): void {
  for (const h of humans) {
    if (inputLength(h) > MAX_INPUT) throw new UsageError(`${quoted(h)} is longer than the ${MAX_INPUT} characters the date model reads (after folding spaces and dropping commas)`);
  }
}

// ---------------------------------------------------------------- inference

export interface Translation {
  input: string;
  /** the most likely real calendar date (never an impossible one) */
  output: string;
  /** its probability under the model (1 for ISO input, which is answered as it is) */
  confidence: number;
  /** [TY][input positions] attention weights (the convention token first), when asked for */
  attention?: number[][];
}

/**
 * Translates human dates to ISO dates. Inputs are batched by length (each batch padded to what its
 * longest input needs, as in training); each answer is the best valid date under the model's
 * probabilities; a valid ISO date is answered as it is. With `attention`, also the attention maps.
 */
export async function translate(
  model: tf.LayersModel,
  humans: readonly string[],
  opts: { convention?: Convention | readonly Convention[]; attention?: boolean; batchSize?: number } = {},
): Promise<Translation[]> {
  checkLength(humans);
  const convention = opts.convention ?? 'mdy';
  const batchSize = opts.batchSize ?? 512;
  const runner = opts.attention ? withAttentionOutput(model) : model;
  const results: Translation[] = new Array(humans.length);
  const byLength = new Map<number, number[]>();
  humans.forEach((h, i) => {
    const L = paddedLength(inputLength(h));
    const group = byLength.get(L);
    if (group) group.push(i);
    else byLength.set(L, [i]);
  });
  // each batch's read is started as soon as it is predicted and awaited a few batches later, so a GPU
  // backend works on the next batches meanwhile instead of waiting for the host at each one
  type Job = { chunk: number[]; probs: Promise<number[][][]>; alphas?: Promise<number[][][]>; tensors: tf.Tensor[] };
  const pending: Job[] = [];
  const finish = async (job: Job) => {
    let probs: number[][][], alphas: number[][][] | undefined;
    try {
      [probs, alphas] = await Promise.all([job.probs, job.alphas]);
    } finally {
      tf.dispose(job.tensors);
    }
    job.chunk.forEach((i, k) => {
      const best = bestValidDate(probs[k].map((row) => row.map((p) => Math.log(Math.max(p, 1e-30)))));
      const iso = isoInput(humans[i]);
      results[i] = {
        input: humans[i],
        output: iso ?? best.iso,
        confidence: iso ? 1 : Math.exp(best.logProb),
        ...(alphas ? { attention: alphas[k] } : {}),
      };
    });
  };
  try {
    for (const [L, indices] of byLength) {
      for (let start = 0; start < indices.length; start += batchSize) {
        const chunk = indices.slice(start, start + batchSize);
        const [p, a] = tf.tidy(() => {
          const x = inputTensor(chunk.map((i) => humans[i]), chunk.map((i) => conventionAt(convention, i)), L);
          const out = runner.predict(x);
          return Array.isArray(out) ? out : [out];
        });
        // read asynchronously: a GPU backend (webgpu) cannot read synchronously in Node
        pending.push({ chunk, probs: p.array() as Promise<number[][][]>, alphas: a?.array() as Promise<number[][][]> | undefined, tensors: a ? [p, a] : [p] });
        if (pending.length >= 4) await finish(pending.shift()!);
      }
    }
    while (pending.length) await finish(pending.shift()!);
  } finally {
    for (const job of pending) {
      job.probs.catch(() => undefined);
      job.alphas?.catch(() => undefined);
      tf.dispose(job.tensors);
    }
  }
  return results;
}

export interface Accuracy {
  examples: number;
  exactMatch: number;
  perPosition: number[];
  /** exact match per kind of writing (kinds with no example left out) */
  byKind: { kind: Kind; examples: number; exactMatch: number }[];
  failures: { input: string; expected: string; got: string; kind: Kind }[];
}

/** Exact match, per position and per kind, of pairs read each by its own convention (or `convention` for all). */
export async function measure(model: tf.LayersModel, pairs: readonly { human: string; iso: string; convention?: Convention }[], convention: Convention = 'mdy'): Promise<Accuracy> {
  const got = await translate(model, pairs.map((p) => p.human), { convention: pairs.map((p) => p.convention ?? convention) });
  const perPosition = new Array(TY).fill(0);
  const kinds = new Map<Kind, { n: number; ok: number }>();
  let exact = 0;
  const failures: Accuracy['failures'] = [];
  pairs.forEach((p, i) => {
    const out = got[i].output;
    const kind = kindOf(p.human);
    const k = kinds.get(kind) ?? { n: 0, ok: 0 };
    k.n++;
    for (let t = 0; t < TY; t++) if (out[t] === p.iso[t]) perPosition[t]++;
    if (out === p.iso) {
      exact++;
      k.ok++;
    } else failures.push({ input: p.human, expected: p.iso, got: out, kind });
    kinds.set(kind, k);
  });
  const byKind = KINDS.filter((k) => kinds.has(k)).map((kind) => ({ kind, examples: kinds.get(kind)!.n, exactMatch: kinds.get(kind)!.ok / kinds.get(kind)!.n }));
  return { examples: pairs.length, exactMatch: exact / pairs.length, perPosition: perPosition.map((c) => c / pairs.length), byKind, failures };
}

/**
 * An epoch's batches: the dates in groups of 32 batches, each group sorted by length and cut into
 * batches (so a batch pads to little more than its own length), then the batches shuffled.
 */
export function lengthBuckets(pairs: readonly DatePair[], batchSize: number, seed: number): DatePair[][] {
  const batches: DatePair[][] = [];
  const group = batchSize * 32;
  for (let g = 0; g < pairs.length; g += group) {
    // each length once (not once per comparison), then a stable sort by it
    const sorted = pairs
      .slice(g, g + group)
      .map((p) => ({ p, length: inputLength(p.human) }))
      .sort((a, b) => a.length - b.length)
      .map((e) => e.p);
    for (let b = 0; b + batchSize <= sorted.length; b += batchSize) batches.push(sorted.slice(b, b + batchSize));
  }
  return new Rng(seed).shuffle(batches);
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
    // held out after each epoch: 1,000 dates, or a quarter of a small epoch (at least 100)
    validationExamples: Math.min(DEFAULTS.validationExamples, Math.max(100, Math.floor(((options.examples as number) ?? DEFAULTS.examples) / 4))),
    order: (options.order as Convention) ?? DEFAULTS.order,
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
    `nmt: ${config.examples} fresh dates per epoch, batch ${config.batchSize}, ${epochs} epochs, arch ${config.arch} (${model.countParams()} parameters); ` +
      `ambiguous numeric dates read as ${CONVENTION_NAMES[config.order]} by default (--order)`,
  );

  let epochData = { epoch: 0, batches: [] as DatePair[][] };
  const saver = checkpointSaver(ctx, { task: 'nmt', seed, hyperparameters: { ...config }, vocabularies: { human: HUMAN_VOCAB, machine: MACHINE_VOCAB } }, meta);
  const result = await trainLoop({
    model,
    epochs,
    resumed: meta,
    batchesPerEpoch,
    learningRate: (e) => config.lr / (1 + config.lrDecay * (e - 1)),
    batch(epoch, i) {
      if (epochData.epoch !== epoch) {
        const pairs = generateDates(config.examples, trainSeed(seed, epoch));
        epochData = { epoch, batches: lengthBuckets(pairs, config.batchSize, derive(seed, 'nmt-batch-order', epoch)) };
      }
      const chunk = epochData.batches[i];
      return { xs: inputTensor(chunk.map((p) => p.human), chunk.map((p) => p.convention)), ys: targetTensor(chunk.map((p) => p.iso)) };
    },
    async validate() {
      const acc = await measure(model, validation);
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

/** seqlab's own held-out set of real-world date strings, written by hand (not by the generator): `--data real`. */
export const REAL_WORLD_TSV = 'src/tasks/nmt/real-world.tsv';

/** Reads `human<TAB>iso` lines (# starts a comment line); names the line of any that is not. */
export function readDateTsv(file: string): { human: string; iso: string }[] {
  const text = readTextFile(file, 'TSV file');
  const pairs: { human: string; iso: string }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || line.startsWith('#')) return;
    const cols = line.split('\t');
    const iso = cols[1]?.trim() ?? '';
    if (cols.length < 2 || !cols[0].trim() || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) {
      throw new SeqlabError(`${file}:${i + 1}: expected 'human date<TAB>YYYY-MM-DD', got ${quoted(line)}`);
    }
    const [y, m, d] = iso.split('-').map(Number);
    if (!isValidDate(y, m, d)) throw new SeqlabError(`${file}:${i + 1}: ${iso} is not a real calendar date`);
    pairs.push({ human: cols[0], iso });
  });
  if (!pairs.length) throw new SeqlabError(`${file} has no date lines`);
  return pairs;
}

/** The convention a command reads by: --order, else the checkpoint's. */
const orderOf = (options: Options, config: Partial<NmtConfig>): Convention => (options.order as Convention | undefined) ?? config.order ?? 'mdy';

async function evaluate(_args: string[], options: Options, ctx: RunContext) {
  const dataFile = options.data === 'real' ? path.join(packageRoot(), REAL_WORLD_TSV) : (options.data as string | undefined);
  const fromFile = dataFile ? readDateTsv(dataFile) : undefined; // the user's file first: its errors before any loading
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'nmt');
  const order = orderOf(options, meta.hyperparameters as Partial<NmtConfig>);
  const pairs = fromFile ?? generateDates(options.examples as number, evalSeed(meta.seed), options.order as Convention | undefined);
  const source = options.data === 'real' ? `seqlab's ${pairs.length} real-world date strings (${REAL_WORLD_TSV})` : dataFile ?? `${pairs.length} freshly generated dates (seed never used in training${options.order ? '' : ', all three conventions'})`;
  const acc = await measure(model, pairs, order);
  ctx.print(`nmt: ${source}; ambiguous numeric dates read as ${CONVENTION_NAMES[order]}`);
  ctx.print(`exact match: ${(acc.exactMatch * 100).toFixed(2)}% (${Math.round(acc.exactMatch * acc.examples)}/${acc.examples})`);
  ctx.print(`per position: ${acc.perPosition.map((p, t) => `${t}:${(p * 100).toFixed(1)}`).join(' ')}`);
  ctx.print('by kind of writing:');
  for (const k of acc.byKind) ctx.print(`  ${k.kind.padEnd(11)} ${(k.exactMatch * 100).toFixed(1).padStart(5)}%  of ${k.examples}`);
  const show = acc.failures.slice(0, options.failures as number);
  if (show.length) {
    ctx.print(`failures (${acc.failures.length}, first ${show.length}):`);
    for (const f of show) ctx.print(`  ${quoted(f.input, 40).padEnd(44)} expected ${f.expected}  got ${f.got}`);
  }
  return { examples: acc.examples, exactMatch: acc.exactMatch, perPosition: acc.perPosition, byKind: acc.byKind, order, failures: acc.failures.slice(0, 20), trainedEpochs: meta.epoch };
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
  checkLength(inputs);
  const wantMap = typeof options.attention === 'string';
  if (wantMap) checkWritableFile(options.attention as string, 'attention map');
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'nmt');
  const order = orderOf(options, meta.hyperparameters as Partial<NmtConfig>);
  ctx.reporter.info(`reading ambiguous numeric dates as ${CONVENTION_NAMES[order]} (${options.order ? '--order' : 'the default; --order mdy|dmy|ymd to change'})`);
  const heldOut = meta.history[meta.history.length - 1]?.val_exact;
  if (heldOut !== undefined && heldOut < 0.9) {
    ctx.reporter.warn(`this model got only ${(heldOut * 100).toFixed(1)}% of held-out dates right after ${meta.epoch} epochs: its answers are unreliable (train longer: seqlab train nmt --epochs 20)`);
  }
  const results = await translate(model, inputs, { convention: order, attention: wantMap });
  // where another convention reads the input otherwise, say so beside the answer
  const others: { c: Convention; r: Translation[] }[] = [];
  for (const c of CONVENTIONS.filter((c) => c !== order)) others.push({ c, r: await translate(model, inputs, { convention: c }) });
  const readings = results.map((r, i) => {
    const differ = others.filter((o) => o.r[i].output !== r.output).map((o) => `${o.c}: ${o.r[i].output}`);
    return differ.length ? `  (read as ${order}; ${differ.join(', ')})` : '';
  });
  results.forEach((r, i) => ctx.print(r.output + readings[i]));
  const maps: string[] = [];
  if (wantMap) {
    results.forEach((r, k) => {
      const file = attentionFile(options.attention as string, k, results.length);
      const shown = [...normalize(r.input)];
      const png = heatmapPng({
        title: `${[...r.input].slice(0, 40).join('')}  →  ${r.output}`,
        matrix: r.attention!.map((row) => row.slice(0, shown.length + 1)),
        rowLabels: [...r.output],
        // the convention token, then what the model saw: a character outside its vocabulary is the unknown token, drawn as '?'
        colLabels: [order, ...shown.map((c) => (c === ' ' ? '␣' : HUMAN_VOCAB.includes(c) ? c : '?'))],
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
  return {
    order,
    results: results.map(({ input, output, confidence }, i) => ({ input, output, confidence: +confidence.toFixed(4), ...(readings[i] ? { otherReadings: Object.fromEntries(others.map((o) => [o.c, o.r[i].output])) } : {}) })),
    attentionMaps: maps,
  };
}

// ---------------------------------------------------------------- the task

const ORDER = { key: 'order', flags: '--order <c>', help: 'read ambiguous numeric dates (3/8/1999) as mdy, dmy or ymd (default: the checkpoint\'s, mdy)', type: CONVENTIONS } as const;

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
      { key: 'order', flags: '--order <c>', help: 'how eval and sample read ambiguous numeric dates by default: mdy (en_US), dmy or ymd (the model learns all three)', type: CONVENTIONS, default: DEFAULTS.order },
    ],
    run: train,
  },
  eval: {
    help: 'exact-match and per-position accuracy on fresh dates or a TSV file',
    options: [
      { key: 'data', flags: '--data <file.tsv>', help: 'lines of "human date<TAB>YYYY-MM-DD" instead of generated dates; real: seqlab\'s hand-written real-world set', type: 'string' },
      ORDER,
      { key: 'examples', flags: '--examples <n>', help: 'generated dates to measure on', type: 'int', default: 2000, min: 1 },
      { key: 'failures', flags: '--failures <n>', help: 'failures to list', type: 'int', default: 10, min: 0 },
    ],
    run: evaluate,
  },
  sample: {
    help: 'translate dates given as arguments (or one per line on stdin with -)',
    args: { name: '[dates...]', help: 'human-written dates; - reads them from stdin' },
    options: [{ key: 'attention', flags: '--attention <file.png>', help: 'write the attention map (output × input characters) as PNG', type: 'string' }, ORDER],
    run: sample,
  },
};
