/**
 * From a trained model to moments: the probability track of a signal of any length (in windows,
 * so memory stays bounded), detections (threshold + refractory time, as the course's
 * chime_on_activate), and the event-level metrics eval reports.
 */
import * as tf from '@tensorflow/tfjs';
import { readData } from '../../core/read';
import { Segment } from './examples';
import { FrontEnd, LABEL_SECONDS } from './frontend';

export interface Track {
  /** p(activate just ended) for each answer */
  probs: Float32Array;
  /** seconds from the start of the signal of each answer */
  times: Float32Array;
}

/** What scores features: a trained model, or several whose answers are averaged (ensembleOf). */
export type Scorer = Pick<tf.LayersModel, 'predict'>;

/**
 * Models trained apart (other seeds: other synthetic voices) on the same front end as one scorer:
 * the mean of their probabilities at every output step (models on other front ends: mergeTracks).
 */
export function ensembleOf(models: tf.LayersModel[]): Scorer {
  if (models.length === 1) return models[0];
  return { predict: (x) => tf.tidy(() => tf.mean(tf.stack(models.map((m) => m.predict(x) as tf.Tensor)), 0)) };
}

/** One front end's share of a detector: the models that hear it (their probabilities averaged) and their share of the vote (mergeTracks). */
export interface Part {
  model: Scorer;
  fe: FrontEnd;
  /** this part's models / all models */
  weight: number;
  /** how much of this part's evidence against the word counts in the join where the first part is sure of it (Doubt; 1: all) */
  against: number;
}

/** The value of a track at time t, linear between its answers; undefined before its first answer and after its last. */
function trackAt(track: Track, t: number): number | undefined {
  const { times, probs } = track;
  const n = times.length;
  if (!n || t < times[0] - 1e-6 || t > times[n - 1] + 1e-6) return undefined;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid;
    else hi = mid;
  }
  if (hi === lo || times[hi] === times[lo]) return probs[lo];
  const a = Math.min(1, Math.max(0, (t - times[lo]) / (times[hi] - times[lo])));
  return probs[lo] * (1 - a) + probs[hi] * a;
}

const logit = (p: number) => {
  const q = Math.min(1 - 1e-6, Math.max(1e-6, p));
  return Math.log(q / (1 - q));
};

/** Where the first track's answer is above `sure`, each other track k's negative log-odds count `against[k]` of themselves (mergeTracks). */
export interface Doubt {
  sure: number;
  against: readonly number[];
}

/**
 * Tracks of one signal on different time grids (models on different front ends) as one, on the
 * first's grid: each read there (linear between its answers), then the weighted mean of their
 * log-odds (a product of experts: a word one front end is sure is not "activate" is held down more
 * than by a mean of probabilities, one it is sure of lifted more). With `doubt`, where the first
 * track is sure of the word, the others' "no" counts less (Doubt). Where a track has no answer (the
 * embedding's first comes after 0.94 s), the others share its weight.
 */
export function mergeTracks(tracks: readonly Track[], weights: readonly number[], doubt?: Doubt): Track {
  if (tracks.length === 1) return tracks[0];
  const { times } = tracks[0];
  const probs = new Float32Array(times.length);
  for (let j = 0; j < times.length; j++) {
    let z = 0;
    let w = 0;
    const sure = doubt !== undefined && tracks[0].probs[j] > doubt.sure;
    tracks.forEach((tr, k) => {
      const p = k === 0 ? tr.probs[j] : trackAt(tr, times[j]);
      if (p === undefined) return;
      const l = logit(p);
      z += weights[k] * (sure && l < 0 ? l * (doubt.against[k] ?? 1) : l);
      w += weights[k];
    });
    probs[j] = 1 / (1 + Math.exp(-z / w));
  }
  return { probs, times };
}

/**
 * A track's causal moving mean over the last `seconds` (its answers in that span on its grid; fewer
 * at the start): what a joined detector fires on, so one answer's spike does not fire it and one
 * answer's dip does not split a word (microWakeWord averages its last answers the same way).
 */
export function smoothTrack(track: Track, seconds: number): Track {
  const { probs, times } = track;
  const step = times.length > 1 ? times[1] - times[0] : 0;
  const k = step > 0 ? Math.max(1, Math.round(seconds / step)) : 1;
  if (k === 1) return track;
  const out = new Float32Array(probs.length);
  let sum = 0;
  for (let j = 0; j < probs.length; j++) {
    sum += probs[j];
    if (j >= k) sum -= probs[j - k];
    out[j] = sum / Math.min(j + 1, k);
  }
  return { probs: out, times };
}

/** the span of the causal moving mean a joined track fires on (joinTracks) */
export const JOIN_SMOOTHING = 0.2;

/**
 * Where the PCEN model (the first part) is sure of the word (p > PCEN_SURE), its partner's "no" counts
 * half (PARTNER_AGAINST of its negative log-odds; Doubt). On held-out synthetic voices more than a
 * quarter of the activates two pairs missed at ≤ 1 false alarm per hour were scored above 0.9 by the
 * PCEN model and below 0.5 by the partner (trained on no whispering voice, 1,200 examples); on the
 * course's real recordings it changed 4-34 of each of seven pairs' 138,320 joined answers and none of
 * their figures (2026-11-29, README).
 */
export const PCEN_SURE = 0.99;
export const PARTNER_AGAINST = 0.5;

/** Tracks of front ends joined (mergeTracks, with each part's doubt where the first is sure), then their moving mean over JOIN_SMOOTHING: what a joined detector fires on. One front end's track is used as it is. */
export function joinTracks(tracks: readonly Track[], parts: readonly Pick<Part, 'weight' | 'against'>[]): Track {
  if (tracks.length === 1) return tracks[0];
  return smoothTrack(mergeTracks(tracks, parts.map((p) => p.weight), { sure: PCEN_SURE, against: parts.map((p) => p.against) }), JOIN_SMOOTHING);
}

/** Probabilities for equally long feature matrices, in batches. */
export async function scoreFeatures(model: Scorer, features: Float32Array[], frames: number, bands: number, batch = 32): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < features.length; i += batch) {
    const chunk = features.slice(i, i + batch);
    const x = new Float32Array(chunk.length * frames * bands);
    chunk.forEach((f, k) => x.set(f.subarray(0, frames * bands), k * frames * bands));
    const p = await readData(() => model.predict(tf.tensor3d(x, [chunk.length, frames, bands])) as tf.Tensor);
    const steps = p.length / chunk.length;
    chunk.forEach((_, k) => out.push(p.slice(k * steps, (k + 1) * steps)));
  }
  return out;
}

/** How a long signal is cut: windows of `seconds`, each run with `warmup` seconds before it whose answers are dropped. */
interface Windowing {
  seconds: number;
  warmup: number;
  /** pad every window to this many seconds (the course model has a fixed input) */
  padTo?: number;
}

const windowingFor = (fe: FrontEnd): Windowing => (fe.kind === 'course' ? { seconds: 10, warmup: 0, padTo: 10 } : { seconds: 10, warmup: 2 });

/**
 * The probability track of a signal read piece by piece: `read(start, count)` returns samples at
 * the front end's rate (fewer at the end). Memory is one window whatever the length.
 */
export async function scoreStream(
  model: Scorer,
  fe: FrontEnd,
  total: number,
  read: (start: number, count: number) => Float32Array,
  w: Windowing = windowingFor(fe),
  /** each window's features, the time of its first frame, and the time before which its frames are warm-up */
  onFeatures?: (data: Float32Array, frames: number, startSeconds: number, keepFrom: number) => void,
): Promise<Track> {
  const rate = fe.sampleRate;
  const probs: number[] = [];
  const times: number[] = [];
  for (let from = 0; from < total || from === 0; from += w.seconds * rate) {
    const warm = Math.min(from, Math.round(w.warmup * rate));
    let x = read(from - warm, warm + Math.round(w.seconds * rate));
    if (w.padTo && x.length < w.padTo * rate) {
      const padded = new Float32Array(Math.round(w.padTo * rate));
      padded.set(x);
      x = padded;
    }
    const f = await fe.features(x);
    if (f.frames === 0) break;
    onFeatures?.(f.data, f.frames, (from - warm) / rate, from / rate);
    const [p] = await scoreFeatures(model, [f.data], f.frames, fe.bands);
    const end = (Math.min(total, from + w.seconds * rate)) / rate;
    for (let j = 0; j < p.length; j++) {
      const t = (from - warm) / rate + fe.outputTime(j);
      if (t >= from / rate && t < end + 1e-9) {
        probs.push(p[j]);
        times.push(t);
      }
    }
    if (from + w.seconds * rate >= total) break;
  }
  return { probs: Float32Array.from(probs), times: Float32Array.from(times) };
}

export interface Detection {
  /** seconds from the start at which the detector fired */
  time: number;
  /** the highest probability while it was above the threshold */
  score: number;
}

/**
 * Fires when p > threshold and at least `refractory` seconds have passed since the last firing
 * (the course's chime_on_activate: 0.5 and 75 steps ≈ 0.55 s).
 */
export function detect(track: Track, threshold: number, refractory: number): Detection[] {
  const out: Detection[] = [];
  let last = -Infinity;
  for (let j = 0; j < track.probs.length; j++) {
    const p = track.probs[j];
    const t = track.times[j];
    if (p > threshold && t - last >= refractory) {
      out.push({ time: t, score: p });
      last = t;
    } else if (p > threshold && out.length && t - last < refractory) out[out.length - 1].score = Math.max(out[out.length - 1].score, p);
  }
  return out;
}

/** A detection in [end − before, end + after] of a labelled activate's end is a hit (each word matched once). */
export const HIT_WINDOW = { before: 0.3, after: 1.0 };

/**
 * Hits and false alarms of detections against word ends: each detection takes the nearest end
 * whose window holds it and that no detection took yet; a detection with none is a false alarm,
 * unless it falls in the window of one of the `unscored` ends (a word the clip cut short: neither).
 */
export function matchEvents(found: readonly Detection[], ends: readonly number[], unscored: readonly number[] = []): { hits: number; falseAlarms: number } {
  const used = new Set<number>();
  const near = (t: number, e: number) => t >= e - HIT_WINDOW.before && t <= e + HIT_WINDOW.after;
  let falseAlarms = 0;
  for (const d of found) {
    let k = -1;
    ends.forEach((e, i) => {
      if (used.has(i) || !near(d.time, e)) return;
      if (k < 0 || Math.abs(d.time - e) < Math.abs(d.time - ends[k])) k = i;
    });
    if (k >= 0) used.add(k);
    else if (!unscored.some((e) => near(d.time, e))) falseAlarms++;
  }
  return { hits: used.size, falseAlarms };
}

/**
 * A clip's activates split into those scored and those that end within LABEL_SECONDS of the
 * clip's end: the model answers after a word ends, and the clip stops before it could.
 */
export function scoredEnds(ends: readonly number[], seconds: number): { scored: number[]; cutShort: number[] } {
  return { scored: ends.filter((e) => e <= seconds - LABEL_SECONDS), cutShort: ends.filter((e) => e > seconds - LABEL_SECONDS) };
}

/** Frame-level figures (the course's accuracy, beside the all-zeros model's) at a threshold. */
export function frameMetrics(probs: readonly Float32Array[], labels: readonly Float32Array[], threshold = 0.5) {
  let n = 0, correct = 0, positives = 0, tp = 0, fp = 0, fn = 0, loss = 0;
  probs.forEach((p, k) => {
    const y = labels[k];
    for (let j = 0; j < y.length; j++) {
      const on = p[j] > threshold;
      const q = Math.min(1 - 1e-7, Math.max(1e-7, p[j]));
      loss -= y[j] ? Math.log(q) : Math.log(1 - q);
      n++;
      if (y[j]) positives++;
      if (on === (y[j] === 1)) correct++;
      if (on && y[j]) tp++;
      else if (on) fp++;
      else if (y[j]) fn++;
    }
  });
  return { loss: loss / n, accuracy: correct / n, zerosAccuracy: 1 - positives / n, f1: tp ? (2 * tp) / (2 * tp + fp + fn) : 0 };
}

export interface Scored {
  /** per clip: its track, the ends of its activates, and (synthetic clips) its other words */
  clips: { track: Track; ends: number[]; seconds: number; words?: Segment[] }[];
}

/** 0.02 ... 0.94 every 0.02, then finer where the false alarms thin out: 0.95 ... 0.995 every 0.005, 0.996 ... 0.999 */
const THRESHOLDS = [
  ...Array.from({ length: 47 }, (_, i) => (i + 1) / 50),
  ...Array.from({ length: 10 }, (_, i) => +(0.95 + i * 0.005).toFixed(3)),
  0.996, 0.997, 0.998, 0.999,
];

/**
 * The grid, plus just above each of the highest scores the negatives reached (4 decimals, rounded
 * up): at the top end the false alarms per hour change at those scores, which a grid steps over.
 */
function thresholdsFor(negatives: Scored, refractory: number): number[] {
  const top = negatives.clips.flatMap((c) => detect(c.track, 0.9, refractory).map((d) => d.score)).sort((a, b) => b - a).slice(0, 32);
  return [...new Set([...THRESHOLDS, ...top.map((p) => Math.ceil(p * 1e4) / 1e4).filter((t) => t < 1)])].sort((a, b) => a - b);
}

/** FRR and false alarms per hour at each threshold; `negatives` are the clips with no activate at all. */
export function sweep(positives: Scored, negatives: Scored, refractory: number) {
  const hours = negatives.clips.reduce((s, c) => s + c.seconds, 0) / 3600;
  const split = positives.clips.map((c) => scoredEnds(c.ends, c.seconds));
  const words = split.reduce((s, c) => s + c.scored.length, 0);
  const cutShort = split.reduce((s, c) => s + c.cutShort.length, 0);
  return thresholdsFor(negatives, refractory).map((threshold) => {
    let hits = 0, faPositive = 0, faNegative = 0;
    for (const [k, c] of positives.clips.entries()) {
      const m = matchEvents(detect(c.track, threshold, refractory), split[k].scored, split[k].cutShort);
      hits += m.hits;
      faPositive += m.falseAlarms;
    }
    for (const c of negatives.clips) faNegative += detect(c.track, threshold, refractory).length;
    return { threshold, frr: words ? 1 - hits / words : NaN, faPerHour: hours ? faNegative / hours : NaN, falseAlarmsInPositives: faPositive, hits, words, cutShort };
  });
}

/** The lowest false-reject rate with at most `fa` false alarms per hour (and its threshold). */
export function frrAt(points: ReturnType<typeof sweep>, fa: number) {
  const ok = points.filter((p) => p.faPerHour <= fa);
  if (!ok.length) return { frr: 1, threshold: null };
  const best = ok.reduce((a, b) => (b.frr < a.frr || (b.frr === a.frr && b.threshold < a.threshold) ? b : a));
  return { frr: best.frr, threshold: best.threshold };
}

