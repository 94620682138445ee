/**
 * dinos --model lstm: a character-level language model for any text on tfjs (one-hot characters →
 * LSTM layers with dropout between them → Dense softmax over the vocabulary, predicting the next
 * character at every position of a window). Names are the text joined by '\n', so the newline both
 * ends a name and starts the next: a name is scored and sampled from '\n'.
 *
 * And the hand-written RNN's checkpoint form: the same model as tfjs layers (SimpleRNN + Dense).
 */
import * as tf from '@tensorflow/tfjs';
import { readArray, readData } from '../../core/read';
import { NumpyRandom } from '../../core/numpy-random';
import { oneHot3d } from '../../core/one-hot';
import { stackedLstmClassifier } from '../../models/stacked';
import { CharRnnParams } from '../../models/handwritten/char-rnn';
import { Vocab } from './data';

export interface LstmLmConfig {
  layers: number;
  units: number;
  dropout: number;
  seqLen: number;
}

export function buildLstmLm(vocab: number, cfg: LstmLmConfig, seed: number): tf.LayersModel {
  return stackedLstmClassifier({ inputSize: vocab, classes: vocab, ...cfg, seed, names: { input: 'one_hot_chars', output: 'next_char', model: 'char_lstm' } });
}

/** The text as vocabulary indices: '\n' + names joined by '\n' + '\n'. */
export function textIndices(names: readonly string[], v: Vocab): Int32Array {
  const text = '\n' + names.join('\n') + '\n';
  return Int32Array.from(text, (c) => v.index.get(c) ?? v.newline);
}

/** A batch of windows starting at `starts`: inputs text[s, s+L), targets text[s+1, s+L+1), one-hot. */
export function windowBatch(text: Int32Array, starts: readonly number[], seqLen: number, vocab: number): { xs: tf.Tensor3D; ys: tf.Tensor3D } {
  return {
    xs: oneHot3d(starts.map((s) => text.subarray(s, s + seqLen)), seqLen, vocab),
    ys: oneHot3d(starts.map((s) => text.subarray(s + 1, s + seqLen + 1)), seqLen, vocab),
  };
}

/** Summed −log p of each name's characters and final '\n', given '\n' before it (in batches). */
export async function namesNll(model: tf.LayersModel, names: readonly string[], v: Vocab): Promise<{ nll: number; chars: number }> {
  const V = v.chars.length;
  let nll = 0;
  let chars = 0;
  for (let start = 0; start < names.length; start += 256) {
    const chunk = names.slice(start, start + 256);
    const T = Math.max(...chunk.map((n) => n.length)) + 1;
    const x = new Float32Array(chunk.length * T * V);
    chunk.forEach((n, b) => [...('\n' + n)].forEach((c, t) => (x[(b * T + t) * V + v.index.get(c)!] = 1)));
    const probs = await readArray<number[][][]>(() => model.predict(tf.tensor3d(x, [chunk.length, T, V])) as tf.Tensor);
    chunk.forEach((n, b) => {
      const targets = [...n, '\n'];
      targets.forEach((c, t) => (nll -= Math.log(Math.max(probs[b][t][v.index.get(c)!], 1e-12))));
      chars += targets.length;
    });
  }
  return { nll, chars };
}

/** Samples a name after '\n' (and the prefix): softmax at `temperature` (0: greedy), stop at '\n' or 50 characters. */
export async function sampleLstm(model: tf.LayersModel, v: Vocab, seed: number, temperature: number, prime = ''): Promise<string> {
  const rng = new NumpyRandom(seed >>> 0);
  const V = v.chars.length;
  let text = '\n' + prime;
  for (let n = 0; n < 50; n++) {
    const x = new Float32Array(text.length * V);
    [...text].forEach((c, t) => (x[t * V + v.index.get(c)!] = 1));
    const p = await readData(() => (model.predict(tf.tensor3d(x, [1, text.length, V])) as tf.Tensor).slice([0, text.length - 1, 0], [1, 1, V]));
    let k: number;
    if (temperature <= 0) k = p.indexOf(Math.max(...p));
    else {
      const w = Array.from(p, (q) => Math.pow(Math.max(q, 1e-30), 1 / temperature));
      k = rng.choice(w);
    }
    if (k === v.newline) break;
    text += v.chars[k];
  }
  return text.slice(1);
}

// ---------------------------------------------------------------- the hand-written RNN as tfjs layers

/** SimpleRNN(tanh) + Dense(softmax) computes exactly a⟨t⟩ and ŷ⟨t⟩; its weights are the transposes. */
export function toLayersModel(p: CharRnnParams, vocab: number, nA: number): tf.LayersModel {
  const input = tf.input({ shape: [null, vocab], name: 'one_hot_chars' });
  const a = tf.layers.simpleRNN({ units: nA, returnSequences: true, name: 'rnn' }).apply(input) as tf.SymbolicTensor;
  const y = tf.layers.dense({ units: vocab, activation: 'softmax', name: 'output' }).apply(a) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: y, name: 'dinos_char_rnn' });
  const t = (data: Float64Array, rows: number, cols: number) => tf.tidy(() => tf.transpose(tf.tensor2d(Float32Array.from(data), [rows, cols])));
  model.setWeights([t(p.Wax, nA, vocab), t(p.Waa, nA, nA), tf.tensor1d(Float32Array.from(p.b)), t(p.Wya, vocab, nA), tf.tensor1d(Float32Array.from(p.by))]);
  return model;
}

export async function fromLayersModel(model: tf.LayersModel): Promise<CharRnnParams> {
  const [kernel, recurrent, b, dense, by] = model.getWeights();
  const back = async (w: tf.Tensor, transpose = true) => Float64Array.from(await readData(() => (transpose ? tf.transpose(w) : w.clone())));
  return { Wax: await back(kernel), Waa: await back(recurrent), b: await back(b, false), Wya: await back(dense), by: await back(by, false) };
}
