import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { createAttentionModel, COURSE_SIZES, withAttentionOutput } from '../src/models/attention';
import { buildModel, inputTensor, targetTensor, translate } from '../src/tasks/nmt';
import { generateDates, HUMAN_VOCAB, isValidDate, MACHINE_VOCAB, MAX_INPUT, TY } from '../src/tasks/nmt/dates';
import { Rng } from '../src/core/rng';

beforeAll(() => initBackend('wasm'));

test('the course configuration has the course\'s 52,960 parameters (with its 37-character vocabulary)', () => {
  const model = createAttentionModel({ inputVocabSize: 37, outputVocabSize: 11, inputLength: 30, outputLength: 10, ...COURSE_SIZES });
  expect(model.countParams()).toBe(52960);
});

test('shapes: [batch, any length, vocab] in, [batch, TY, 11] probabilities out, attention [batch, TY, length]', () => {
  const model = buildModel('course', 1);
  expect(model.inputs[0].shape).toEqual([null, null, HUMAN_VOCAB.length]);
  const x = inputTensor(['25th of June, 2009', '6/25/09', '']);
  expect(x.shape).toEqual([3, 24, HUMAN_VOCAB.length]); // the convention token + 18 characters, padded to a multiple of 8
  const [probs, attention] = withAttentionOutput(model).predict(x) as tf.Tensor[];
  expect(probs.shape).toEqual([3, TY, MACHINE_VOCAB.length]);
  expect(attention.shape).toEqual([3, TY, 24]);
  // softmax rows sum to 1
  expect(tf.max(tf.abs(tf.sub(tf.sum(attention, -1), 1))).dataSync()[0]).toBeLessThan(1e-5);
  expect(tf.max(tf.abs(tf.sub(tf.sum(probs, -1), 1))).dataSync()[0]).toBeLessThan(1e-5);
});

test('the same seed builds the same weights', () => {
  const a = buildModel('course', 4).getWeights().map((w) => Array.from(w.dataSync()));
  const b = buildModel('course', 4).getWeights().map((w) => Array.from(w.dataSync()));
  expect(a).toEqual(b);
});

test('a tiny training run lowers the loss', async () => {
  const model = buildModel('course', 2);
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const pairs = generateDates(32, 5);
  const x = inputTensor(pairs.map((p) => p.human));
  const y = targetTensor(pairs.map((p) => p.iso));
  const first = (await model.trainOnBatch(x, y)) as number;
  let last = first;
  for (let i = 0; i < 40; i++) last = (await model.trainOnBatch(x, y)) as number;
  expect(last).toBeLessThan(first * 0.8);
});

test('translate returns one ISO-shaped string per input, with confidence in [0, 1]', async () => {
  const model = buildModel('course', 1);
  const out = await translate(model, ['3 May 1979', 'no date here at all'], { attention: true });
  expect(out).toHaveLength(2);
  for (const r of out) {
    expect(r.output).toMatch(/^[0-9-]{10}$/);
    expect(r.confidence).toBeGreaterThanOrEqual(0);
    expect(r.confidence).toBeLessThanOrEqual(1);
    expect(r.attention).toHaveLength(TY);
  }
});

test('garbage and random strings of any length up to the limit still get a real calendar date, never an impossible one', async () => {
  const model = buildModel('course', 3); // untrained: its raw argmax is anything
  const rng = new Rng(11);
  const chars = ' ./-:0123456789abcdefghijklmnopqrstuvwxyz?!€😀\t';
  const inputs = Array.from({ length: 300 }, () => Array.from({ length: rng.int(0, MAX_INPUT) }, () => rng.pick([...chars])).join(''));
  inputs.push('', '9999-99-99', '2023-02-29', '0000-00-00', '1900-02-29', '99/99/9999', '31st of February 2021');
  const out = await translate(model, inputs);
  expect(out).toHaveLength(inputs.length);
  for (const r of out) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(r.output);
    expect([r.input, m !== null && isValidDate(+m[1], +m[2], +m[3])]).toEqual([r.input, true]);
  }
});

test('input longer than the model reads is an error that says so, not a silent cut', async () => {
  const model = buildModel('course', 1);
  await expect(translate(model, ['1'.repeat(MAX_INPUT + 1)])).rejects.toThrow(/'1{60}…' \(65 characters\) is longer than the 64 characters the date model reads/);
});
