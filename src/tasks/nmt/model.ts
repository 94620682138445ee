/** The date translator's model: the course's Bi-LSTM + attention (src/models/attention.ts) at named sizes. */
import * as tf from '@tensorflow/tfjs';
import { createAttentionModel, COURSE_SIZES } from '../../models/attention';
import { HUMAN_VOCAB, MACHINE_VOCAB, TX, TY } from './dates';

/** Model sizes by name: `course` is the course's exact configuration. */
export const ARCHS = {
  course: COURSE_SIZES,
  default: COURSE_SIZES,
} as const;
export type ArchName = keyof typeof ARCHS;

export function buildModel(arch: ArchName, seed: number): tf.LayersModel {
  return createAttentionModel({
    inputVocabSize: HUMAN_VOCAB.length,
    outputVocabSize: MACHINE_VOCAB.length,
    inputLength: TX,
    outputLength: TY,
    ...ARCHS[arch],
    seed,
  });
}

export function compile(model: tf.LayersModel, lr: number): void {
  model.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}
