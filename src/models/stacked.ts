/**
 * Stacked LSTMs that classify every step: inputs [batch, steps, inputSize] → LSTM layers from the
 * recurrent seam, each followed by dropout → a softmax over `classes` at every step. The shape of
 * dinos' character model and jazz's event model.
 */
import * as tf from '@tensorflow/tfjs';
import { dropout } from './dropout';
import { lstm } from './recurrent';

export interface StackedLstmSpec {
  inputSize: number;
  classes: number;
  layers: number;
  units: number;
  dropout: number;
  seed: number;
  /** the input layer's, the softmax layer's and the model's names */
  names: { input: string; output: string; model: string };
}

export function stackedLstmClassifier(spec: StackedLstmSpec): tf.LayersModel {
  const input = tf.input({ shape: [null, spec.inputSize], name: spec.names.input });
  let x: tf.SymbolicTensor = input;
  for (let l = 0; l < spec.layers; l++) {
    x = lstm({ units: spec.units, returnSequences: true, seed: spec.seed + 10 * l, name: `lstm_${l + 1}` }).apply(x) as tf.SymbolicTensor;
    if (spec.dropout > 0) x = dropout({ rate: spec.dropout, seed: spec.seed + 10 * l + 5 }).apply(x) as tf.SymbolicTensor;
  }
  const y = tf.layers.dense({ units: spec.classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: spec.seed + 99 }), name: spec.names.output }).apply(x);
  return tf.model({ inputs: input, outputs: y as tf.SymbolicTensor, name: spec.names.model });
}
