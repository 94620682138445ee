/**
 * What a trigger model hears and on what time grid it answers, for each model kind:
 * - default: 16 kHz audio → mel energies (40 bands, 25 ms windows, 10 ms hop) through PCEN (new
 *   models; a room's level and steady noise divide out) or their log (older checkpoints); the model answers every
 *   40 ms, and its answer j has heard the audio up to outputTime(j); or (`--features embedding`) the
 *   speech embedding (embedding.ts: 96 numbers every 80 ms), answered every 80 ms;
 * - course: 44.1 kHz audio (int16 scale) → the course's spectrogram (5,511 × 101 for 10 s); the
 *   model answers 1,375 times per 10 s (answer j at j·10/1375 s, as the course's insert_ones).
 */
import { LOG_MEL_16K, logMel, melEnergies, pcen } from '../../audio/features';
import { highPass, scaled } from '../../audio/mix';
import { COURSE_SPECGRAM, specgram } from '../../audio/spectrogram';
import { EMBEDDING_DIMS, EMBEDDING_HOP_SECONDS, embeddingTime, speechEmbedding } from './embedding';

export type ModelKind = 'default' | 'course';
/** the default model's features: log-mel energies, or the same energies through PCEN (per-channel energy normalization) */
export type FeatureKind = 'log-mel' | 'pcen' | 'embedding';
export const FEATURE_KINDS: readonly FeatureKind[] = ['log-mel', 'pcen', 'embedding'];
/** what a new default model hears (checkpoints without the field were trained on log-mel) */
export const DEFAULT_FEATURES: FeatureKind = 'pcen';

export interface Features {
  data: Float32Array;
  frames: number;
}

export interface FrontEnd {
  kind: ModelKind;
  sampleRate: number;
  /** features per frame */
  bands: number;
  /** time-major [frames × bands] (the speech embedding runs a model: asynchronous) */
  features(x: Float32Array): Features | Promise<Features>;
  /** input frames per second */
  framesPerSecond: number;
  /** model outputs for an input of `frames` frames */
  outputSteps(frames: number): number;
  /** seconds of audio (from the start of the input) heard when answer j is given */
  outputTime(j: number): number;
  /** input frames per output step (crops start at multiples of it) */
  stride: number;
}

/** The label after an activate: 1 for this long after the word ends (the course's 50 steps of 10/1375 s). */
export const LABEL_SECONDS = 50 * (10 / 1375);

/**
 * The speech embedding's model learns to answer this long after an activate ends (its labels start
 * then: `train --label-delay`), so it has heard what follows the word (activ-ation, activ-ity, a
 * pause) before it says yes. On the course's real recordings (seed 1's clips, 2026-11-28), partners
 * of seeds 1-3 alone at 0.5 found 79.3 / 72.9 / 70.7% with 36 / 29 / 22 false alarms per hour with
 * labels as the word ends, 87.8 / 76.6 / 79.0% with 45 / 24 / 30 with this delay; beside seed 1's
 * PCEN model the pairs' best recall with ≤ 6 per hour went from 87.1 / 79.9 / 83.6% to 87.3 / 84.7
 * / 84.7% (at the default threshold about as before), and held-out voices' FRR at ≤ 1 per hour
 * stayed 7.3% (seed 1; the product's partner, trained by this code: 7.5%). 0.35 s helped seeds 1 and 2 more and hurt seed 3; beside an undelayed PCEN
 * model its answers come late enough to fire twice on one word (README).
 */
export const EMBEDDING_LABEL_DELAY = 0.2;

/**
 * The default model's grid: its Conv1D reads patches of 3 × `stride` frames every `stride` frames
 * (default 4: an answer every 40 ms, each after 120 ms of new frames).
 */
function defaultFrontEnd(stride: number, kind: FeatureKind, highPassHz: number): FrontEnd {
  const { hop, window, sampleRate } = LOG_MEL_16K;
  return {
    kind: 'default',
    sampleRate,
    bands: LOG_MEL_16K.bands,
    features: (audio) => {
      const x = highPassHz > 0 ? highPass(audio, sampleRate, highPassHz) : audio;
      if (kind === 'log-mel') {
        const { data, frames } = logMel(x, LOG_MEL_16K);
        return { data, frames };
      }
      const { data, frames, bands } = melEnergies(x, LOG_MEL_16K);
      return { data: pcen(data, frames, bands), frames };
    },
    outputSteps: (frames) => Math.max(0, Math.floor(frames / stride) - 2),
    outputTime: (j) => ((stride * (j + 3) - 1) * hop + window) / sampleRate,
    stride,
    framesPerSecond: sampleRate / hop,
  };
}

/**
 * The speech embedding (embedding.ts): 96 numbers every 80 ms. The default model reads it with
 * stride 1: its Conv1D sees 3 embeddings (240 ms of steps, each window 0.78 s of audio).
 */
const EMBEDDING_FRONT_END: FrontEnd = {
  kind: 'default',
  sampleRate: 16000,
  bands: EMBEDDING_DIMS,
  features: (x) => speechEmbedding(x),
  outputSteps: (frames) => Math.max(0, frames - 2),
  outputTime: (j) => embeddingTime(j + 2),
  stride: 1,
  framesPerSecond: 1 / EMBEDDING_HOP_SECONDS,
};

/** The default model's stride in 10 ms frames. */
export const DEFAULT_STRIDE = 4;

const COURSE_FRONT_END: FrontEnd = {
  kind: 'course',
  sampleRate: 44100,
  bands: 101,
  // the course reads int16 samples unscaled
  features: (x) => {
    const { data, frames } = specgram(scaled(x, 32768), COURSE_SPECGRAM);
    return { data, frames };
  },
  outputSteps: (frames) => Math.max(0, Math.floor((frames - 15) / 4) + 1),
  outputTime: (j) => (j * 10) / 1375,
  stride: 4,
  framesPerSecond: 5511 / 10, // the course's specgram of 10 s at 44.1 kHz
};

/**
 * `stride`, `features` and `highPassHz`: the default model's, from its checkpoint.
 *
 * `highPassHz` (`train --high-pass`; 0: none): a mel model that hears its audio high-passed (Butterworth, order 4), in
 * training, eval and detect alike (the checkpoint's `highPassHz`; absent: none). eSpeak NG's words are
 * high-passed at 50 Hz as they are made (speech.ts), so below that a training clip holds only its
 * background's noise, while a real take may carry rumble under the word (4 of the course's 10
 * activates: 13-27% of their power). Not the default: at 50 Hz (2026-11-29, each beside the default
 * pair's own partner) seed 1 went 7.1 → 6.7% held-out at ≤ 1 false alarm per hour (five draws) and
 * 80.6% / 4 → 82.3% / 3 per hour on the course's real recordings at 0.16, seed 2 7.3 → 9.1% and
 * 85.4% / 4 → 82.2% / 2 (README).
 */
export function frontEnd(kind: ModelKind, stride = DEFAULT_STRIDE, features: FeatureKind = DEFAULT_FEATURES, highPassHz = 0): FrontEnd {
  if (kind === 'course') return COURSE_FRONT_END;
  return features === 'embedding' ? EMBEDDING_FRONT_END : defaultFrontEnd(stride, features, highPassHz);
}

/**
 * The label track for `steps` answers: 1 where an activate ended more than `delay` and at most
 * `delay` + LABEL_SECONDS before (the course's: delay 0, the label starts as the word ends).
 */
export function labelTrack(fe: FrontEnd, ends: readonly number[], steps: number, offsetSeconds = 0, delay = 0): Float32Array {
  const y = new Float32Array(steps);
  for (let j = 0; j < steps; j++) {
    const t = fe.outputTime(j) + offsetSeconds;
    if (ends.some((e) => t > e + delay && t <= e + delay + LABEL_SECONDS)) y[j] = 1;
  }
  return y;
}
