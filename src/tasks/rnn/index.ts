/**
 * rnn: recurrent cells written by hand from their equations (src/models/handwritten/), checked
 * against the course's published values, finite differences and tfjs autodiff (`eval`), and
 * trained with BPTT on a problem that needs memory (`train`): the LSTM remembers across a delay
 * the plain RNN cannot bridge.
 */
import { NumpyRandom } from '../../core/numpy-random';
import { NonFiniteLossError, SeqlabError } from '../../core/errors';
import { formatSeconds } from '../../core/progress';
import { Options, RunContext, Task } from '../../core/task';
import { clipInPlace, fromArray, Mat, zeros } from '../../models/handwritten/matrix';
import { lstmLossFast, LstmParams } from '../../models/handwritten/lstm';
import { rnnLoss, RnnParams } from '../../models/handwritten/rnn';
import { CheckRow, runChecks } from './checks';
import { delayBatch, DelayProblem } from './delay';

// ---------------------------------------------------------------- eval: the checks table

async function evaluate(_args: string[], _options: Options, ctx: RunContext) {
  const rows: CheckRow[] = await runChecks();
  const width = Math.max(...rows.map((r) => r.name.length));
  const cut = (s: string) => (s.length > 44 ? s.slice(0, 41) + '...' : s);
  ctx.print(`${'check'.padEnd(width)}  ${'expected'.padEnd(44)}  ${'got'.padEnd(44)}  result`);
  for (const r of rows) ctx.print(`${r.name.padEnd(width)}  ${cut(r.expected).padEnd(44)}  ${cut(r.got).padEnd(44)}  ${r.pass ? 'pass' : 'FAIL'}`);
  const failed = rows.filter((r) => !r.pass);
  ctx.print(
    `\n${rows.length - failed.length}/${rows.length} checks pass: the course's published rnn_cell_forward, rnn_forward, rnn_backward, ` +
      'lstm_forward and lstm_cell_backward values from the same np.random.seed(1) draws, and every parameter gradient of the RNN and LSTM ' +
      'sequence losses against finite differences (float64) and tfjs autodiff (float32).',
  );
  if (failed.length) {
    ctx.reporter.event('result', { checks: rows, passed: rows.length - failed.length, failed: failed.length });
    throw new SeqlabError(`${failed.length} of ${rows.length} checks failed: ${failed.map((r) => r.name).join(', ')}`);
  }
  return { checks: rows, passed: rows.length, failed: 0 };
}

// ---------------------------------------------------------------- train: the delay problem

type Cell = 'rnn' | 'lstm';
type Params = Record<string, Mat>;

/**
 * Weights ~ N(0, 1/fan_in) (Xavier-like) for both cells, biases zero except the LSTM's forget gate,
 * which starts at `forgetBias` so that the cell begins by remembering (σ(3) ≈ 0.95 per step).
 */
export function initParams(cell: Cell, nX: number, nA: number, nY: number, rng: NumpyRandom, forgetBias = 3): Params {
  const w = (rows: number, cols: number) => fromArray(rows, cols, rng.randn(rows, cols).map((v) => v / Math.sqrt(cols)), 'f32');
  const b = (rows: number, value = 0) => fromArray(rows, 1, new Array(rows).fill(value), 'f32');
  if (cell === 'rnn') return { Wax: w(nA, nX), Waa: w(nA, nA), Wya: w(nY, nA), ba: b(nA), by: b(nY) };
  const g = () => w(nA, nA + nX);
  return { Wf: g(), bf: b(nA, forgetBias), Wi: g(), bi: b(nA), Wc: g(), bc: b(nA), Wo: g(), bo: b(nA), Wy: w(nY, nA), by: b(nY) };
}

function lossAndGrads(cell: Cell, batch: ReturnType<typeof delayBatch>, params: Params, nA: number) {
  const a0 = zeros(nA, batch.x.m, 'f32');
  return cell === 'rnn'
    ? rnnLoss(batch.x, batch.labels, a0, params as unknown as RnnParams)
    : lstmLossFast(batch.x, batch.labels, a0, params as unknown as LstmParams);
}

/** Accuracy of the last step's prediction on a batch. */
function accuracy(yPred: { n: number; m: number; T: number; data: ArrayLike<number> }, signals: Int32Array): number {
  const { n, m, T, data } = yPred;
  let right = 0;
  for (let j = 0; j < m; j++) {
    let best = 0;
    for (let i = 1; i < n; i++) if (data[(i * m + j) * T + T - 1] > data[(best * m + j) * T + T - 1]) best = i;
    if (best === signals[j]) right++;
  }
  return right / m;
}

async function train(_args: string[], options: Options, ctx: RunContext) {
  const cell = options.cell as Cell;
  const problem: DelayProblem = { symbols: 4, distractors: 4, delay: options.delay as number };
  const steps = options.steps as number;
  const m = options.batchSize as number;
  const nA = options.hidden as number;
  const lr = options.lr as number;
  const clip = options.clip as number;
  const rng = new NumpyRandom(ctx.seed);
  const params = initParams(cell, problem.symbols + problem.distractors, nA, problem.symbols, rng, options.forgetBias as number);
  const test = delayBatch(problem, 1000, new NumpyRandom(ctx.seed + 1_000_003));
  const every = Math.max(1, Math.floor(steps / 10));
  ctx.reporter.info(
    `rnn: hand-written ${cell.toUpperCase()} (${nA} units), remember 1 of ${problem.symbols} symbols across ${problem.delay} distractor steps; ` +
      `SGD lr ${lr}, clip ${clip}, batch ${m}, ${steps} steps` + (cell === 'lstm' ? `, forget-gate bias ${options.forgetBias}` : ''),
  );
  const start = performance.now();
  ctx.reporter.startPhase(`steps 1-${Math.min(every, steps)}`, Math.min(every, steps));
  let trainMs = 0; // SGD steps only, without the evaluations
  let smoothed = Math.log(problem.symbols);
  const history: { step: number; loss: number; testAccuracy: number }[] = [];
  for (let step = 1; step <= steps; step++) {
    const stepStart = performance.now();
    const batch = delayBatch(problem, m, rng);
    const { loss, grads } = lossAndGrads(cell, batch, params, nA);
    if (!Number.isFinite(loss)) throw new NonFiniteLossError(`step ${step}`);
    smoothed = 0.95 * smoothed + 0.05 * (loss / m);
    for (const [name, g] of Object.entries(grads as unknown as Params)) {
      clipInPlace(g, clip);
      const p = params[name].data;
      for (let k = 0; k < p.length; k++) p[k] -= (lr / m) * g.data[k];
    }
    trainMs += performance.now() - stepStart;
    if (step % 10 === 0) ctx.reporter.batch(((step - 1) % every) + 1, { loss: smoothed });
    if (step % every === 0 || step === steps) {
      const t = lossAndGrads(cell, test, params, nA);
      const acc = accuracy(t.yPred, test.signals);
      history.push({ step, loss: +smoothed.toFixed(4), testAccuracy: acc });
      ctx.reporter.report(
        `step ${String(step).padStart(6)}  loss ${smoothed.toFixed(4)}  test accuracy ${(acc * 100).toFixed(1)}%`,
        'progress',
        { step, loss: smoothed, testAccuracy: acc },
        { label: `steps ${step + 1}-${Math.min(step + every, steps)}`, total: Math.min(every, steps - step) },
      );
    }
  }
  const seconds = (performance.now() - start) / 1000;
  const msPer1000Steps = Math.round((trainMs / steps) * 1000);
  const final = history[history.length - 1];
  ctx.print(
    `${cell.toUpperCase()} after ${steps} steps (${formatSeconds(seconds)} in all; ${(msPer1000Steps / 1000).toFixed(1)} s per 1,000 training steps): ` +
      `test accuracy ${(final.testAccuracy * 100).toFixed(1)}% (chance ${(100 / problem.symbols).toFixed(0)}%) at delay ${problem.delay}`,
  );
  return { cell, delay: problem.delay, steps, seconds: +seconds.toFixed(2), msPer1000Steps, testAccuracy: final.testAccuracy, history };
}

export const rnn: Task = {
  name: 'rnn',
  summary: 'RNN and LSTM cells forward and backward (BPTT) by hand, checked against the course, finite differences and autodiff',
  examples: ['seqlab eval rnn', 'seqlab train rnn --cell lstm', 'seqlab train rnn --cell rnn', 'seqlab train rnn --cell rnn --delay 10'],
  eval: {
    help: 'run every check (course values, gradient checks) and print the table',
    usesCheckpoint: false,
    run: evaluate,
  },
  train: {
    help: 'train a hand-written RNN or LSTM with BPTT on a problem that needs memory (it saves no checkpoint)',
    usesCheckpoint: false,
    options: [
      { key: 'cell', flags: '--cell <cell>', help: 'rnn or lstm', type: ['rnn', 'lstm'], default: 'lstm' },
      { key: 'delay', flags: '--delay <n>', help: 'distractor steps between the symbol and the question', type: 'int', default: 50, min: 1, max: 1000 },
      { key: 'steps', flags: '--steps <n>', help: 'SGD steps', type: 'int', default: 3000, min: 1 },
      { key: 'hidden', flags: '--hidden <n>', help: 'hidden units n_a', type: 'int', default: 16, min: 1 },
      { key: 'batchSize', flags: '--batch-size <n>', help: 'sequences per step', type: 'int', default: 32, min: 1 },
      { key: 'lr', flags: '--lr <x>', help: 'SGD learning rate', type: 'number', default: 0.1, min: 1e-9 },
      { key: 'clip', flags: '--clip <x>', help: 'clip every gradient element to [-x, x]', type: 'number', default: 5, min: 0 },
      { key: 'forgetBias', flags: '--forget-bias <x>', help: 'initial LSTM forget-gate bias', type: 'number', default: 3 },
    ],
    run: train,
  },
};
