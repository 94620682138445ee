/**
 * trigger's data sets: 10 s examples mixed from the word pool (examples.ts) and turned into
 * features once (frontend.ts), then random crops of them as training batches.
 */
import * as tf from '@tensorflow/tfjs';
import { resample } from '../../audio/resample';
import { Reporter } from '../../core/progress';
import { deriveSeed, Rng } from '../../core/rng';
import { makeExample, Recipe, Segment } from './examples';
import { FrontEnd, LABEL_SECONDS, labelTrack } from './frontend';
import { SAMPLE_RATE, SpeechPool } from './pool';

export interface FeatureSet {
  /** per example: time-major features [frames × bands] */
  features: Float32Array[];
  frames: number;
  bands: number;
  /** per example: where each activate is (s) */
  activates: Segment[][];
  /** per example: where each other word is */
  negatives: Segment[][];
}

/** The audio as the front end wants it (16 kHz is the pool's rate; the course model reads 44.1 kHz). */
function atFrontEndRate(fe: FrontEnd, audio: Float32Array): Float32Array {
  return fe.sampleRate === SAMPLE_RATE ? audio : resample(audio, SAMPLE_RATE, fe.sampleRate);
}

/** Features of `count` examples of `recipe` (made one at a time: the audio is not kept). */
export function featureSet(fe: FrontEnd, pool: SpeechPool, recipe: Recipe, count: number, seed: number, name: string, reporter?: Reporter): FeatureSet {
  reporter?.startPhase(name, count);
  const features: Float32Array[] = [];
  const activates: Segment[][] = [];
  const negatives: Segment[][] = [];
  let frames = 0;
  for (let i = 0; i < count; i++) {
    const e = makeExample(pool, recipe, new Rng(deriveSeed(seed, name, i)));
    const f = fe.features(atFrontEndRate(fe, e.audio));
    features.push(f.data);
    activates.push(e.activates);
    negatives.push(e.negatives);
    frames = f.frames;
    if (i % 16 === 15) reporter?.batch(i + 1, {});
  }
  reporter?.abort();
  return { features, frames, bands: fe.bands, activates, negatives };
}

/**
 * A batch of random crops of `cropFrames` frames (whole examples when cropFrames ≥ frames) with
 * their labels; a crop never starts inside an activate or its label window (the model could not
 * know about a word it did not hear). With `maskBands`, half the crops lose a random stretch of up
 * to that many bands (SpecAugment's frequency mask: a microphone or room that drops a band).
 * Depends on `seed` alone.
 */
export function cropBatch(fe: FrontEnd, set: FeatureSet, cropFrames: number, batchSize: number, seed: number, maskBands = 0): { xs: tf.Tensor3D; ys: tf.Tensor3D } {
  const rng = new Rng(seed);
  const T = Math.min(cropFrames, set.frames);
  const steps = fe.outputSteps(T);
  const secondsPerFrame = (fe.outputTime(1) - fe.outputTime(0)) / fe.stride;
  const x = new Float32Array(batchSize * T * set.bands);
  const y = new Float32Array(batchSize * steps);
  for (let b = 0; b < batchSize; b++) {
    const k = rng.int(0, set.features.length - 1);
    const words = set.activates[k];
    let start = 0;
    for (let attempt = 0; attempt < 8; attempt++) {
      start = fe.stride * rng.int(0, Math.floor((set.frames - T) / fe.stride));
      const t = start * secondsPerFrame;
      if (!words.some((w) => t > w.start && t <= w.end + LABEL_SECONDS)) break;
    }
    const crop = set.features[k].subarray(start * set.bands, (start + T) * set.bands);
    x.set(crop, b * T * set.bands);
    if (maskBands > 0 && rng.chance(0.5)) {
      const width = rng.int(1, maskBands);
      const from = rng.int(0, set.bands - width);
      let floor = Infinity;
      for (const v of crop) floor = Math.min(floor, v);
      for (let t = 0; t < T; t++) x.fill(floor, b * T * set.bands + t * set.bands + from, b * T * set.bands + t * set.bands + from + width);
    }
    y.set(labelTrack(fe, words.map((w) => w.end), steps, start * secondsPerFrame), b * steps);
  }
  return { xs: tf.tensor3d(x, [batchSize, T, set.bands]), ys: tf.tensor3d(y, [batchSize, steps, 1]) };
}
