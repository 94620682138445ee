/**
 * trigger's models.
 * - default: PCEN (or log-mel) [T, 40] → BatchNorm (learns the features' scale) → Conv1D(128, 120 ms, stride
 *   40 ms) as patches + one matMul (trains on wasm) → ReLU → Dropout → GRU(128) → Dropout →
 *   GRU(128) → Dropout → Dense(1, sigmoid) at every step. Causal: answer j hears nothing after
 *   outputTime(j), so it can run on a stream. On the speech embedding (`--features embedding`,
 *   EMBEDDING_MODEL): [T, 96] every 80 ms → BatchNorm → Conv1D(128, 3 steps, stride 1) → ReLU → GRU(64)
 *   → sigmoid, dropout 0.3.
 * - course: the course's model exactly (Conv1D 196/15/4 → BN → ReLU → Dropout 0.8 → GRU(128) →
 *   Dropout → BN → GRU(128) → Dropout → BN → Dropout → TimeDistributed Dense sigmoid) on
 *   5,511 × 101 spectrograms: 523,329 weights, GRUs with Keras' reset_after layout.
 */
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../core/optimizer';
import { dropout } from '../../models/dropout';
import { gru } from '../../models/recurrent';
import { conv1d } from '../../models/patches';
import { DEFAULT_STRIDE, ModelKind } from './frontend';

export interface DefaultModelConfig {
  /** frames per answer (the Conv1D's stride; its kernel is 3 strides) */
  stride: number;
  filters: number;
  units: number;
  dropout: number;
  /** features per input frame (40 mel bands; 96 for the speech embedding) */
  bands?: number;
  /** GRU layers (default 2) */
  grus?: number;
}

export const DEFAULT_MODEL: DefaultModelConfig = { stride: DEFAULT_STRIDE, filters: 128, units: 128, dropout: 0.2 };
/** on the speech embedding (already a high-level description of the sound): one GRU(64), more dropout */
export const EMBEDDING_MODEL: DefaultModelConfig = { stride: 1, filters: 128, units: 64, dropout: 0.3, bands: 96, grus: 1 };

export function buildTriggerModel(kind: ModelKind, seed: number, cfg: DefaultModelConfig = DEFAULT_MODEL): tf.LayersModel {
  return kind === 'course' ? buildCourseModel(seed) : buildDefaultModel(seed, cfg);
}

function buildDefaultModel(seed: number, cfg: DefaultModelConfig): tf.LayersModel {
  const input = tf.input({ shape: [null, cfg.bands ?? 40], name: cfg.bands && cfg.bands !== 40 ? 'features' : 'log_mel' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;
  let x = apply(tf.layers.batchNormalization({ name: 'input_norm' }), input);
  x = apply(conv1d({ filters: cfg.filters, kernelSize: 3 * cfg.stride, strides: cfg.stride, seed, name: 'conv' }), x);
  x = apply(tf.layers.reLU(), x);
  x = apply(dropout({ rate: cfg.dropout, seed: seed + 1 }), x);
  x = apply(gru({ units: cfg.units, returnSequences: true, seed: seed + 10, name: 'gru_1' }), x);
  x = apply(dropout({ rate: cfg.dropout, seed: seed + 2 }), x);
  if ((cfg.grus ?? 2) > 1) {
    x = apply(gru({ units: cfg.units, returnSequences: true, seed: seed + 20, name: 'gru_2' }), x);
    x = apply(dropout({ rate: cfg.dropout, seed: seed + 3 }), x);
  }
  const y = apply(conv1d({ filters: 1, kernelSize: 1, activation: 'sigmoid', seed: seed + 30, name: 'activate' }), x);
  return tf.model({ inputs: input, outputs: y, name: 'trigger' });
}

function buildCourseModel(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [5511, 101], name: 'spectrogram' });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) => layer.apply(x) as tf.SymbolicTensor;
  const bn = () => tf.layers.batchNormalization({ momentum: 0.99, epsilon: 1e-3 });
  const drop = (k: number) => dropout({ rate: 0.8, seed: seed + k });
  let x = apply(tf.layers.conv1d({ filters: 196, kernelSize: 15, strides: 4, kernelInitializer: tf.initializers.glorotUniform({ seed }) }), input);
  x = apply(bn(), x);
  x = apply(tf.layers.reLU(), x);
  x = apply(drop(1), x);
  x = apply(gru({ units: 128, returnSequences: true, seed: seed + 10 }), x);
  x = apply(drop(2), x);
  x = apply(bn(), x);
  x = apply(gru({ units: 128, returnSequences: true, seed: seed + 20 }), x);
  x = apply(drop(3), x);
  x = apply(bn(), x);
  x = apply(drop(4), x);
  const y = apply(tf.layers.timeDistributed({ layer: tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 30 }) }) }), x);
  return tf.model({ inputs: input, outputs: y, name: 'trigger_course' });
}

export function compileTriggerModel(model: tf.LayersModel, lr: number): void {
  model.compile({ optimizer: adam(lr), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
}
