/**
 * emojify's two models: v1 (the average of the word vectors → softmax, trained by hand with
 * per-example SGD as the course does) and v2 (frozen vectors → stacked LSTM → softmax, tfjs).
 */
import * as tf from '@tensorflow/tfjs';
import { NumpyRandom } from '../../core/numpy-random';
import { dropout } from '../../models/dropout';
import { lstm } from '../../models/recurrent';
import { CLASSES } from './data';

/** v2: frozen word vectors in, LSTM(128) → Dropout(0.5) → LSTM(128) → Dropout(0.5) → Dense(5) softmax. */
export function buildV2(maxLen: number, dims: number, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [maxLen, dims], name: 'word_vectors' });
  let x = lstm({ units: 128, returnSequences: true, seed, name: 'lstm_1' }).apply(input) as tf.SymbolicTensor;
  x = dropout({ rate: 0.5, seed: seed + 1 }).apply(x) as tf.SymbolicTensor;
  x = lstm({ units: 128, seed: seed + 2, name: 'lstm_2' }).apply(x) as tf.SymbolicTensor;
  x = dropout({ rate: 0.5, seed: seed + 3 }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 4 }) }).apply(x);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor, name: 'emojify_v2' });
}

/** v1 as a model: averaged vector → Dense(5) softmax (its weights are trained by hand, below). */
export function buildV1(dims: number): tf.LayersModel {
  const input = tf.input({ shape: [dims], name: 'average_vector' });
  const out = tf.layers.dense({ units: CLASSES, activation: 'softmax', name: 'softmax' }).apply(input);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor, name: 'emojify_v1' });
}

/**
 * The course's V1 training, by hand: W ~ randn(5, d)/√d, b = 0, then for every epoch and every
 * sentence one SGD step on the cross-entropy of softmax(W avg + b). Returns W and b and the loss per epoch.
 */
export function trainV1(xs: Float32Array[], labels: number[], dims: number, epochs: number, lr: number, seed: number) {
  const rng = new NumpyRandom(seed);
  const W = Float32Array.from(rng.randn(CLASSES, dims), (v) => v / Math.sqrt(dims));
  const b = new Float32Array(CLASSES);
  const a = new Float64Array(CLASSES);
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    let loss = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i];
      let max = -Infinity;
      for (let c = 0; c < CLASSES; c++) {
        let z = b[c];
        for (let k = 0; k < dims; k++) z += W[c * dims + k] * x[k];
        a[c] = z;
        max = Math.max(max, z);
      }
      let sum = 0;
      for (let c = 0; c < CLASSES; c++) sum += a[c] = Math.exp(a[c] - max);
      for (let c = 0; c < CLASSES; c++) a[c] /= sum;
      loss -= Math.log(a[labels[i]]);
      for (let c = 0; c < CLASSES; c++) {
        const dz = a[c] - (c === labels[i] ? 1 : 0);
        for (let k = 0; k < dims; k++) W[c * dims + k] -= lr * dz * x[k];
        b[c] -= lr * dz;
      }
    }
    losses.push(loss / xs.length);
  }
  return { W, b, losses };
}

