/**
 * The date translator's model: the course's Bi-LSTM + attention (src/models/attention.ts) at named
 * sizes, reading inputs of any length (the convention token, then the characters).
 */
import * as tf from '@tensorflow/tfjs';
import { adam } from '../../core/optimizer';
import { createAttentionModel, COURSE_SIZES } from '../../models/attention';
import { HUMAN_VOCAB, MACHINE_VOCAB, TY } from './dates';

/**
 * Model sizes by name: `course` is the course's exact configuration; `default` is 1.5 times as
 * wide, for the many more ways of writing a date that seqlab reads.
 */
export const ARCHS = {
  course: COURSE_SIZES,
  default: { encoderUnits: 48, decoderUnits: 96, attentionUnits: 16, energyActivation: 'linear' },
} as const;
export type ArchName = keyof typeof ARCHS;

export function buildModel(arch: ArchName, seed: number): tf.LayersModel {
  return createAttentionModel({
    inputVocabSize: HUMAN_VOCAB.length,
    outputVocabSize: MACHINE_VOCAB.length,
    inputLength: null, // any length: each batch is padded to its longest input (dates.ts paddedLength)
    outputLength: TY,
    ...ARCHS[arch],
    seed,
  });
}

export function compile(model: tf.LayersModel, lr: number): void {
  model.compile({ optimizer: adam(lr), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}
