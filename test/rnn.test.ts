import { initBackend } from '../src/core/backend';
import { NumpyRandom } from '../src/core/numpy-random';
import { lstmBackward, lstmForward, lstmLoss, lstmLossFast } from '../src/models/handwritten/lstm';
import {
  fromArray, matmul, matmulTA, matmulTB, seqAt, seqFromArray, setStep, softmaxColumns, stepOf, zeros,
} from '../src/models/handwritten/matrix';
import { rnnCellBackward, rnnForward, rnnLoss } from '../src/models/handwritten/rnn';
import { gradientProblem, numericalGradient, relativeError, runChecks } from '../src/tasks/rnn/checks';
import { delayBatch } from '../src/tasks/rnn/delay';
import { initParams } from '../src/tasks/rnn';

describe('NumPy-compatible random numbers', () => {
  test('np.random.seed(1); np.random.randn(5)', () => {
    const r = new NumpyRandom(1);
    const want = [1.62434536, -0.61175641, -0.52817175, -1.07296862, 0.86540763];
    Array.from(r.randn(5)).forEach((v, i) => expect(v).toBeCloseTo(want[i], 8));
  });
  test('np.random.seed(0); rand(3) and randn(3)', () => {
    const r = new NumpyRandom(0);
    expect(Array.from(r.rand(3))).toEqual([0.5488135039273248, 0.7151893663724195, 0.6027633760716439]);
    r.seed(0);
    expect(Array.from(r.randn(3))).toEqual([1.764052345967664, 0.4001572083672233, 0.9787379841057392]);
  });
  test('randn keeps the polar method\'s spare value: one draw of 2 equals two draws of 1', () => {
    const a = new NumpyRandom(5).randn(2);
    const r = new NumpyRandom(5);
    expect([r.gauss(), r.gauss()]).toEqual(Array.from(a));
  });
  test('choice follows p like searchsorted(cdf, u, "right")', () => {
    // with seed 0 the first uniform is 0.5488...: cdf [0.1, 0.3, 0.6, 0.8, 1] → index 2
    expect(new NumpyRandom(0).choice([0.1, 0.2, 0.3, 0.2, 0.2])).toBe(2);
    const r = new NumpyRandom(3);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[r.choice([0.7, 0, 0.3])]++;
    expect(counts[1]).toBe(0);
    expect(counts[0] / 3000).toBeCloseTo(0.7, 1);
  });
  test('a seed outside [0, 2^32) is refused', () => {
    expect(() => new NumpyRandom(-1)).toThrow(RangeError);
    expect(() => new NumpyRandom(1.5)).toThrow(RangeError);
  });
});

describe('matrix helpers', () => {
  const A = fromArray(2, 3, [1, 2, 3, 4, 5, 6]);
  const B = fromArray(3, 2, [7, 8, 9, 10, 11, 12]);
  test('products', () => {
    expect(Array.from(matmul(A, B).data)).toEqual([58, 64, 139, 154]);
    expect(Array.from(matmulTA(A, fromArray(2, 1, [1, 1])).data)).toEqual([5, 7, 9]);
    expect(Array.from(matmulTB(A, A).data)).toEqual([14, 32, 32, 77]);
  });
  test('softmax by column', () => {
    const s = softmaxColumns(fromArray(2, 2, [0, 1000, 0, 1000]));
    expect(Array.from(s.data)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
  test('sequences use NumPy\'s C order (n, m, T)', () => {
    const s = seqFromArray(2, 2, 3, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(seqAt(s, 1, 0)).toEqual([6, 7, 8]);
    expect(Array.from(stepOf(s, 2).data)).toEqual([2, 5, 8, 11]);
    setStep(s, 0, fromArray(2, 2, [-1, -2, -3, -4]));
    expect(seqAt(s, 1, 1)).toEqual([-4, 10, 11]);
  });
});

describe('hand-written cells reproduce the course and agree with finite differences and autodiff', () => {
  let rows: Awaited<ReturnType<typeof runChecks>> = [];
  beforeAll(async () => {
    await initBackend('cpu');
    rows = await runChecks();
  });
  test('every row of the table passes', () => {
    expect(rows.length).toBeGreaterThan(30);
    // the names of the rows that fail, with what they expected and got
    expect(rows.filter((r) => !r.pass)).toEqual([]);
  });
  test('the table covers every forward and backward function', () => {
    for (const fn of ['rnn_cell_forward', 'rnn_forward', 'rnn_backward', 'lstm_forward', 'lstm_cell_backward']) {
      expect(rows.some((r) => r.name.startsWith(fn))).toBe(true);
    }
    expect(rows.filter((r) => r.name.includes('finite differences'))).toHaveLength(15); // 5 RNN + 10 LSTM parameters
  });
});

describe('backward functions on their own', () => {
  test('rnn_cell_backward: da_prev matches a finite difference of a linear function of a_next', () => {
    const { x, a0, rnn } = gradientProblem(7);
    const xt = stepOf(x, 0);
    const weights = fromArray(a0.rows, a0.cols, new NumpyRandom(8).randn(a0.rows, a0.cols));
    const f = () => {
      const { a } = rnnForward(seqFromArray(x.n, x.m, 1, xt.data), a0, rnn);
      let s = 0;
      for (let k = 0; k < weights.data.length; k++) s += weights.data[k] * stepOf(a, 0).data[k];
      return s;
    };
    const { caches } = rnnForward(seqFromArray(x.n, x.m, 1, xt.data), a0, rnn);
    const g = rnnCellBackward(weights, caches[0]);
    expect(relativeError(numericalGradient(f, a0), g.daPrev.data)).toBeLessThan(1e-8);
  });
  test('lstm_backward: da0 matches finite differences of the sequence loss', () => {
    const { x, a0, labels, lstm } = gradientProblem(9);
    const loss = () => lstmLoss(x, labels, a0, lstm).loss;
    const { a, caches } = lstmForward(x, a0, lstm);
    // upstream gradient of the loss w.r.t. every a⟨t⟩, as lstmLoss computes it
    const { yPred } = lstmLoss(x, labels, a0, lstm);
    const da = seqFromArray(a.n, a.m, a.T, new Float64Array(a.n * a.m * a.T));
    for (let t = 0; t < x.T; t++) {
      const dy = stepOf(yPred, t);
      for (let j = 0; j < x.m; j++) dy.data[labels[t][j] * x.m + j] -= 1;
      setStep(da, t, matmulTA(lstm.Wy, dy));
    }
    const g = lstmBackward(da, caches);
    expect(relativeError(numericalGradient(loss, a0), g.da0.data)).toBeLessThan(1e-7);
  });
});

describe('the delay problem', () => {
  test('one signal at step 0, distractors after, a label only at the end', () => {
    const b = delayBatch({ symbols: 4, distractors: 3, delay: 5 }, 6, new NumpyRandom(1), 'f64');
    expect([b.x.n, b.x.m, b.x.T]).toEqual([7, 6, 6]);
    for (let j = 0; j < 6; j++) {
      const first = Array.from({ length: 7 }, (_, i) => seqAt(b.x, i, j)[0]);
      expect(first.indexOf(1)).toBe(b.signals[j]);
      for (let t = 1; t < 6; t++) {
        const col = Array.from({ length: 7 }, (_, i) => seqAt(b.x, i, j)[t]);
        expect(col.indexOf(1)).toBeGreaterThanOrEqual(4); // a distractor
        expect(col.reduce((s, v) => s + v, 0)).toBe(1);
      }
    }
    expect(Array.from(b.labels[5])).toEqual(Array.from(b.signals));
    expect(b.labels.slice(0, 5).every((l) => l.every((v) => v === -1))).toBe(true);
  });

  test('a few SGD steps of the hand-written LSTM lower the loss on a short delay', () => {
    const rng = new NumpyRandom(2);
    const problem = { symbols: 4, distractors: 4, delay: 3 };
    const params = initParams('lstm', 8, 8, 4, rng);
    const batch = delayBatch(problem, 16, rng);
    const a0 = zeros(8, 16, 'f32');
    const first = lstmLoss(batch.x, batch.labels, a0, params as never).loss;
    let last = first;
    for (let i = 0; i < 60; i++) {
      const { loss, grads } = lstmLoss(batch.x, batch.labels, a0, params as never);
      last = loss;
      for (const [k, g] of Object.entries(grads)) for (let e = 0; e < g.data.length; e++) params[k].data[e] -= 0.1 * g.data[e];
    }
    expect(last).toBeLessThan(first * 0.5);
  });

  test('the training LSTM (SIMD kernels, stacked gates) gives lstmLoss\'s loss, every gradient and the predictions', () => {
    for (const kind of ['f64', 'f32'] as const) {
      const rng = new NumpyRandom(6);
      const b = delayBatch({ symbols: 3, distractors: 4, delay: 6 }, 5, rng, kind);
      b.labels[2][1] = 0; // a label mid-sequence too
      b.labels[4][3] = 2;
      const p = initParams('lstm', 7, 6, 3, rng, 1);
      const params = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, fromArray(v.rows, v.cols, v.data, kind)]));
      const a0 = fromArray(6, 5, Array.from({ length: 30 }, (_, i) => Math.sin(i) * 0.5), kind);
      const want = lstmLoss(b.x, b.labels, a0, params as never);
      const got = lstmLossFast(b.x, b.labels, a0, params as never);
      const tol = 2e-5; // float32 arithmetic, against lstmLoss in float64 and in float32
      expect(Math.abs(got.loss - want.loss) / want.loss).toBeLessThan(tol);
      expect(Object.keys(got.grads).sort()).toEqual(Object.keys(want.grads).sort());
      for (const [k, g] of Object.entries(want.grads) as [string, { data: ArrayLike<number> }][]) {
        const h = (got.grads as unknown as Record<string, { data: ArrayLike<number> }>)[k];
        const scale = Math.max(...Array.from(g.data, Math.abs));
        expect(scale).toBeGreaterThan(0);
        for (let e = 0; e < g.data.length; e++) expect(Math.abs(h.data[e] - g.data[e]) / scale).toBeLessThan(tol * 10);
      }
      for (let e = 0; e < want.yPred.data.length; e++) expect(Math.abs(got.yPred.data[e] - want.yPred.data[e])).toBeLessThan(tol);
    }
  });

  test('the RNN loss is summed only where there are labels', () => {
    const b = delayBatch({ symbols: 2, distractors: 2, delay: 2 }, 3, new NumpyRandom(4), 'f64');
    const p = initParams('rnn', 4, 3, 2, new NumpyRandom(5));
    const f64 = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, fromArray(v.rows, v.cols, v.data)]));
    const { loss, yPred } = rnnLoss(b.x, b.labels, zeros(3, 3), f64 as never);
    let want = 0;
    for (let j = 0; j < 3; j++) want -= Math.log(seqAt(yPred, b.signals[j], j)[2]);
    expect(loss).toBeCloseTo(want, 12);
  });
});
