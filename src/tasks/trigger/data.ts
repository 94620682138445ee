/**
 * trigger's training batches: random crops of the example sets (sets.ts), augmented, and the
 * hard negatives mined with the model as trained so far.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../core/rng';
import { Segment } from './examples';
import { FrontEnd, LABEL_SECONDS, labelTrack } from './frontend';
import { scoreFeatures } from './score';
import { FeatureSet } from './sets';

/** Negative-only examples a model fired on, each with the time of its highest answer. */
export interface HardNegatives {
  features: Float32Array[];
  /** seconds: where the model's answer peaked */
  at: number[];
}

/**
 * Hard-negative mining: `candidates` (new examples without the word), scored by the model as
 * trained so far; the `keep` share it scored highest come back, with where each peaked.
 */
export async function mineHardNegatives(model: tf.LayersModel, fe: FrontEnd, candidates: FeatureSet, keep: number): Promise<HardNegatives & { peaks: number[] }> {
  const count = candidates.features.length;
  const probs = await scoreFeatures(model, candidates.features, candidates.frames, candidates.bands);
  const peaks = probs.map((p) => {
    let j = 0;
    for (let i = 1; i < p.length; i++) if (p[i] > p[j]) j = i;
    return { p: p[j], t: fe.outputTime(j) };
  });
  const order = peaks.map((_, k) => k).sort((a, b) => peaks[b].p - peaks[a].p).slice(0, Math.max(1, Math.round(count * keep)));
  return { features: order.map((k) => candidates.features[k]), at: order.map((k) => peaks[k].t), peaks: order.map((k) => peaks[k].p) };
}

export interface CropAugment {
  /** SpecAugment: half the crops lose a stretch of up to this many bands */
  maskBands?: number;
  /** vocal tract length: half the crops have their bands stretched or squeezed by up to this share (0.1: ±10%) */
  warp?: number;
  /** mined hard negatives and the share of crops cut from them */
  hard?: { set: HardNegatives; share: number };
  /** not an augmentation: the labels start this long after each activate ends (labelTrack's delay) */
  labelDelay?: number;
}

/** The bands of one frame read at `factor` times their index (linear between bands, the top band held): a longer or shorter vocal tract. */
function warpFrame(x: Float32Array, at: number, bands: number, factor: number, scratch: Float32Array): void {
  for (let b = 0; b < bands; b++) {
    const src = Math.min(bands - 1, b * factor);
    const lo = Math.floor(src);
    const f = src - lo;
    scratch[b] = lo + 1 < bands ? x[at + lo] * (1 - f) + x[at + lo + 1] * f : x[at + lo];
  }
  x.set(scratch.subarray(0, bands), at);
}

/**
 * A batch of random crops of `cropFrames` frames (whole examples when cropFrames ≥ frames) with
 * their labels; a crop never starts inside an activate or its label window (the model could not
 * know about a word it did not hear). Augmented as `augment` says (CropAugment).
 * Depends on `seed` alone.
 */
export function cropBatch(fe: FrontEnd, set: FeatureSet, cropFrames: number, batchSize: number, seed: number, augment: CropAugment = {}): { xs: tf.Tensor3D; ys: tf.Tensor3D } {
  const { maskBands = 0, warp = 0, hard, labelDelay = 0 } = augment;
  const scratch = new Float32Array(set.bands);
  const rng = new Rng(seed);
  const T = Math.min(cropFrames, set.frames);
  const steps = fe.outputSteps(T);
  const secondsPerFrame = (fe.outputTime(1) - fe.outputTime(0)) / fe.stride;
  const x = new Float32Array(batchSize * T * set.bands);
  const y = new Float32Array(batchSize * steps);
  const lastStart = Math.floor((set.frames - T) / fe.stride);
  for (let b = 0; b < batchSize; b++) {
    let crop: Float32Array;
    let words: Segment[] = [];
    let start = 0;
    if (hard?.set.features.length && rng.chance(hard.share)) {
      // a mined negative, cropped so that where the model fired lies in the crop's second half
      const k = rng.int(0, hard.set.features.length - 1);
      const peak = hard.set.at[k] / secondsPerFrame;
      start = fe.stride * Math.max(0, Math.min(lastStart, Math.round((peak - T * (0.5 + 0.45 * rng.random())) / fe.stride)));
      crop = hard.set.features[k].subarray(start * set.bands, (start + T) * set.bands);
    } else {
      const k = rng.int(0, set.features.length - 1);
      words = set.activates[k];
      for (let attempt = 0; attempt < 8; attempt++) {
        start = fe.stride * rng.int(0, lastStart);
        const t = start * secondsPerFrame;
        if (!words.some((w) => t > w.start && t <= w.end + labelDelay + LABEL_SECONDS)) break;
      }
      crop = set.features[k].subarray(start * set.bands, (start + T) * set.bands);
    }
    x.set(crop, b * T * set.bands);
    if (warp > 0 && rng.chance(0.5)) {
      const factor = 1 + warp * (2 * rng.random() - 1);
      for (let t = 0; t < T; t++) warpFrame(x, (b * T + t) * set.bands, set.bands, factor, scratch);
    }
    if (maskBands > 0 && rng.chance(0.5)) {
      const width = rng.int(1, maskBands);
      const from = rng.int(0, set.bands - width);
      let floor = Infinity;
      for (const v of crop) floor = Math.min(floor, v);
      for (let t = 0; t < T; t++) x.fill(floor, b * T * set.bands + t * set.bands + from, b * T * set.bands + t * set.bands + from + width);
    }
    y.set(labelTrack(fe, words.map((w) => w.end), steps, start * secondsPerFrame, labelDelay), b * steps);
  }
  return { xs: tf.tensor3d(x, [batchSize, T, set.bands]), ys: tf.tensor3d(y, [batchSize, steps, 1]) };
}
