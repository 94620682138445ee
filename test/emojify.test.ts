import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { accuracyOf, buildV2, oneHotLabels, trainV1 } from '../src/tasks/emojify';
import { DEV, TEST, TRAIN } from '../src/tasks/emojify/corpus';
import { averageVector, csvFields, dropWords, longest, parseEmojiCsv, readEmojiCsv, sentenceVectors, testSet, words } from '../src/tasks/emojify/data';
import { Rng } from '../src/core/rng';
import { makeVectors } from '../src/tasks/emojify/vectors';

/** Tiny made-up 4-d word vectors: one direction per class, so a sentence's class shows in its words. */
const V = makeVectors(
  'test',
  ['love', 'adore', 'ball', 'game', 'funny', 'laugh', 'sad', 'cry', 'food', 'eat', 'you', 'the'],
  Float32Array.from([
    1, 0, 0, 0, 0.9, 0.1, 0, 0, // love, adore
    0, 1, 0, 0, 0.1, 0.9, 0, 0, // ball, game
    0, 0, 1, 0, 0, 0.1, 0.9, 0, // funny, laugh
    0, 0, -1, 0, 0, 0, -0.9, 0.1, // sad, cry
    0, 0, 0, 1, 0.1, 0, 0, 0.9, // food, eat
    0.1, 0.1, 0.1, 0.1, 0, 0, 0, 0, // you, the
  ]),
  4,
);

describe('data', () => {
  test('seqlab\'s own sentences: at least 300 for training over the five classes, and a separate dev set', () => {
    expect(TRAIN.length).toBeGreaterThanOrEqual(300);
    for (let c = 0; c < 5; c++) expect(TRAIN.filter(([, l]) => l === c).length).toBeGreaterThanOrEqual(50);
    const train = new Set(TRAIN.map(([s]) => s));
    expect(DEV.filter(([s]) => train.has(s))).toEqual([]);
    expect(TEST.filter(([s]) => train.has(s) || DEV.some(([d]) => d === s))).toEqual([]);
    expect(TEST).toHaveLength(56);
  });

  test('test sets by name (dev, test) or a CSV file', () => {
    expect(testSet().examples).toHaveLength(DEV.length);
    expect(testSet('test').examples).toHaveLength(56);
    expect(testSet('test').name).toMatch(/56 course-style/);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-')), 'mine.csv');
    fs.writeFileSync(file, 'lets eat,4\n');
    expect(testSet(file)).toEqual({ examples: [{ sentence: 'lets eat', label: 4 }], name: file });
    expect(() => testSet('nosuch.csv')).toThrow(/cannot read test set nosuch.csv: no such file \(seqlab's own sets are dev, test\)/);
  });

  test('word dropout leaves words out at about the rate asked, never all of them, repeatably', () => {
    const sentence = 'one two three four five six seven eight nine ten';
    expect(dropWords(sentence, 0, new Rng(1))).toBe(sentence);
    const rng = new Rng(3);
    let kept = 0;
    for (let i = 0; i < 200; i++) {
      const out = words(dropWords(sentence, 0.2, rng));
      expect(out.every((w) => words(sentence).includes(w))).toBe(true);
      kept += out.length;
    }
    expect(kept / 2000).toBeGreaterThan(0.75);
    expect(kept / 2000).toBeLessThan(0.85);
    expect(dropWords('hello', 0.9, new Rng(1))).toBe('hello'); // a one-word sentence stays
    expect(dropWords(sentence, 0.5, new Rng(7))).toBe(dropWords(sentence, 0.5, new Rng(7)));
  });

  test('course-style CSV: extra columns, quotes, tabs and CRLF', () => {
    const text = 'never talk to me again,3,,\r\nMiss you so much,0,, [0]\r\n"food, glorious food",4\r\nI want to eat\t,4\r\n\r\n';
    expect(parseEmojiCsv(text, 'x.csv')).toEqual([
      { sentence: 'never talk to me again', label: 3 },
      { sentence: 'Miss you so much', label: 0 },
      { sentence: 'food, glorious food', label: 4 },
      { sentence: 'I want to eat', label: 4 },
    ]);
    expect(csvFields('"say ""hi""",2')).toEqual(['say "hi"', '2']);
  });

  test.each([
    ['a label out of range', 'hello,7\n', /x.csv:1: expected 'sentence,label' with a label 0-4/],
    ['no label', 'hello\n', /x.csv:1:/],
    ['a label that is not a number', 'fine,2\nhello,two\n', /x.csv:2:/],
    ['nothing at all', '\n\n', /has no 'sentence,label' lines/],
  ])('rejects %s with the line', (_n, text, message) => {
    expect(() => parseEmojiCsv(text as string, 'x.csv')).toThrow(message as RegExp);
  });

  test('a missing or binary file is a clear error', () => {
    expect(() => readEmojiCsv('/nonexistent.csv')).toThrow(/cannot read CSV file \/nonexistent.csv: no such file or folder \(ENOENT\)/);
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'emo-')), 'bin.csv');
    fs.writeFileSync(f, Buffer.from([1, 0, 2, 0]));
    expect(() => readEmojiCsv(f)).toThrow(/cannot read CSV file .*bin.csv: it is not a text file/);
  });

  test('sentences become word vectors: average (unknown words skipped) and padded sequences (unknown = zeros)', () => {
    expect(words('  I  LOVE you ')).toEqual(['i', 'love', 'you']);
    expect(Array.from(averageVector('love zzz you', V))).toEqual([0.55, 0.05, 0.05, 0.05].map(Math.fround));
    expect(Array.from(averageVector('zzz qqq', V))).toEqual([0, 0, 0, 0]);
    const seq = sentenceVectors(['love zzz ball', 'eat food food food'], V, 3);
    expect(Array.from(seq.subarray(0, 12))).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    // 'eat food food food' cut to 3 words: eat, food, food
    expect(Array.from(seq.subarray(12, 24))).toEqual([0.1, 0, 0, 0.9, 0, 0, 0, 1, 0, 0, 0, 1].map(Math.fround));
    expect(longest([{ sentence: 'a b c', label: 0 }, { sentence: 'a', label: 1 }])).toBe(3);
  });
});

const tiny = [
  ['love you', 0], ['adore you', 0], ['the ball game', 1], ['game ball', 1], ['funny laugh', 2], ['laugh funny you', 2],
  ['sad cry', 3], ['cry the sad', 3], ['eat food', 4], ['food eat you', 4],
].map(([sentence, label]) => ({ sentence: sentence as string, label: label as number }));

test('v1 (by hand) learns the tiny set and beats chance', () => {
  const { W, b, losses } = trainV1(tiny.map((e) => averageVector(e.sentence, V)), tiny.map((e) => e.label), 4, 200, 0.1, 1);
  expect(losses[losses.length - 1]).toBeLessThan(losses[0]);
  const probs = tiny.map((e) => {
    const x = averageVector(e.sentence, V);
    return [0, 1, 2, 3, 4].map((c) => b[c] + [0, 1, 2, 3].reduce((s, k) => s + W[c * 4 + k] * x[k], 0));
  });
  expect(accuracyOf(probs, tiny)).toBeGreaterThan(0.6);
});

test('v2 (stacked LSTM) trains on the tiny set and beats chance', async () => {
  await initBackend('wasm');
  const model = buildV2(3, 4, 1);
  model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
  const x = tf.tensor3d(sentenceVectors(tiny.map((e) => e.sentence), V, 3), [tiny.length, 3, 4]);
  const y = tf.oneHot(tf.tensor1d(tiny.map((e) => e.label), 'int32'), 5);
  for (let i = 0; i < 40; i++) await model.trainOnBatch(x, y);
  const probs = (model.predict(x) as tf.Tensor).arraySync() as number[][];
  expect(accuracyOf(probs, tiny)).toBeGreaterThan(0.4);
  expect(model.countParams()).toBe(4 * (128 * (4 + 128) + 128) + 4 * (128 * (128 + 128) + 128) + 128 * 5 + 5);
});

test('labels become one-hot rows without leaving tensors behind', () => {
  const before = tf.memory().numTensors;
  const y = oneHotLabels([{ sentence: 'x', label: 3 }, { sentence: 'y', label: 0 }]);
  expect(y.arraySync()).toEqual([[0, 0, 0, 1, 0], [1, 0, 0, 0, 0]]);
  y.dispose();
  expect(tf.memory().numTensors).toBe(before);
});
