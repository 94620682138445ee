/**
 * A sequence problem that needs memory: the first step shows one of `symbols` signal symbols, then
 * `delay` steps of random distractor symbols follow, and at the last step the network must name the
 * signal it saw. Only the last step has a target, so the gradient must cross `delay` steps: what a
 * plain RNN cannot do for long delays (vanishing gradients) and an LSTM can.
 */
import { NumpyRandom } from '../../core/numpy-random';
import { Kind, Seq, seqZeros } from '../../models/handwritten/matrix';

export interface DelayProblem {
  symbols: number;
  distractors: number;
  delay: number;
}

export interface DelayBatch {
  /** one-hot inputs (symbols + distractors, m, delay + 1) */
  x: Seq;
  /** labels[t][j]: the signal at the last step, -1 (no target) before it */
  labels: Int32Array[];
  /** the signal of each example */
  signals: Int32Array;
}

export function delayBatch(problem: DelayProblem, m: number, rng: NumpyRandom, kind: Kind = 'f32'): DelayBatch {
  const { symbols, distractors, delay } = problem;
  const T = delay + 1;
  const nX = symbols + distractors;
  const x = seqZeros(nX, m, T, kind);
  const signals = new Int32Array(m);
  const set = (i: number, j: number, t: number) => (x.data[(i * m + j) * T + t] = 1);
  for (let j = 0; j < m; j++) {
    signals[j] = Math.floor(rng.random() * symbols);
    set(signals[j], j, 0);
    for (let t = 1; t < T; t++) set(symbols + Math.floor(rng.random() * distractors), j, t);
  }
  const labels = Array.from({ length: T }, (_, t) => (t === T - 1 ? signals.slice() : new Int32Array(m).fill(-1)));
  return { x, labels, signals };
}
