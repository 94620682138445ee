/**
 * The checks behind `seqlab eval rnn`: the hand-written cells reproduce the course's published
 * values from the same seeded NumPy draws, and every parameter gradient of the RNN and LSTM
 * sequence losses agrees with centred finite differences (float64) and with tfjs autodiff (float32).
 */
import * as tf from '@tensorflow/tfjs';
import { NumpyRandom } from '../../core/numpy-random';
import { at, fromArray, Mat, row, Seq, seqAt, seqFromArray, stepOf } from '../../models/handwritten/matrix';
import { lstmCellBackward, lstmCellForward, lstmForward, lstmLoss, LstmParams } from '../../models/handwritten/lstm';
import { rnnBackward, rnnCellForward, rnnForward, rnnLoss, RnnParams } from '../../models/handwritten/rnn';

export interface CheckRow {
  name: string;
  expected: string;
  got: string;
  pass: boolean;
}

const fmt = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toPrecision(9).replace(/\.?0+$/, '') : v.toExponential(2));

/** A published value (or vector) against ours, to within `tol` per element. */
function valueRow(name: string, expected: number[], got: number[], tol = 1e-8): CheckRow {
  const pass = expected.length === got.length && expected.every((e, i) => Math.abs(e - got[i]) <= tol * Math.max(1, Math.abs(e)));
  const show = (v: number[]) => (v.length === 1 ? fmt(v[0]) : `[${v.map(fmt).join(', ')}]`);
  return { name, expected: show(expected), got: show(got), pass };
}

function errorRow(name: string, error: number, limit: number): CheckRow {
  return { name, expected: `< ${limit.toExponential(0)}`, got: error.toExponential(2), pass: error < limit };
}

/** Draws a matrix like np.random.randn(rows, cols). */
const draw = (r: NumpyRandom, rows: number, cols: number) => fromArray(rows, cols, r.randn(rows, cols));

// ------------------------------------------------------------ the course's published values

function courseValues(): CheckRow[] {
  const rows: CheckRow[] = [];
  // rnn_cell_forward: seed 1; xt, a_prev, Waa, Wax, Wya, ba, by
  let r = new NumpyRandom(1);
  const xt = draw(r, 3, 10);
  const aPrev = draw(r, 5, 10);
  const cellParams: RnnParams = { Waa: draw(r, 5, 5), Wax: draw(r, 5, 3), Wya: draw(r, 2, 5), ba: draw(r, 5, 1), by: draw(r, 2, 1) };
  const cell = rnnCellForward(xt, aPrev, cellParams);
  rows.push(valueRow('rnn_cell_forward a_next[4]', [0.59584544, 0.18141802, 0.61311866, 0.99808218, 0.85016201, 0.99980978, -0.18887155, 0.99815551, 0.6531151, 0.82872037], row(cell.aNext, 4)));
  rows.push(valueRow('rnn_cell_forward yt_pred[1]', [0.9888161, 0.01682021, 0.21140899, 0.36817467, 0.98988387, 0.88945212, 0.36920224, 0.9966312, 0.9982559, 0.17746526], row(cell.ytPred, 1)));

  // rnn_forward: seed 1; x (3,10,4), a0, Waa, Wax, Wya, ba, by
  r = new NumpyRandom(1);
  {
    const x = seqFromArray(3, 10, 4, r.randn(3, 10, 4));
    const a0 = draw(r, 5, 10);
    const p: RnnParams = { Waa: draw(r, 5, 5), Wax: draw(r, 5, 3), Wya: draw(r, 2, 5), ba: draw(r, 5, 1), by: draw(r, 2, 1) };
    const f = rnnForward(x, a0, p);
    rows.push(valueRow('rnn_forward a[4][1]', [-0.99999375, 0.77911235, -0.99861469, -0.99833267], seqAt(f.a, 4, 1)));
    rows.push(valueRow('rnn_forward y_pred[1][3]', [0.79560373, 0.86224861, 0.11118257, 0.81515947], seqAt(f.yPred, 1, 3)));
  }

  // rnn_backward: seed 1; x (3,10,4), a0, Wax, Waa, Wya, ba, by; forward; then da (5,10,4)
  r = new NumpyRandom(1);
  const x = seqFromArray(3, 10, 4, r.randn(3, 10, 4));
  const a0 = draw(r, 5, 10);
  const p: RnnParams = { Wax: draw(r, 5, 3), Waa: draw(r, 5, 5), Wya: draw(r, 2, 5), ba: draw(r, 5, 1), by: draw(r, 2, 1) };
  const fwd = rnnForward(x, a0, p);
  const g = rnnBackward(seqFromArray(5, 10, 4, r.randn(5, 10, 4)), fwd.caches);
  rows.push(valueRow('rnn_backward dx[1][2]', [-2.07101689, -0.59255627, 0.02466855, 0.01483317], seqAt(g.dx, 1, 2)));
  rows.push(valueRow('rnn_backward da0[2][3]', [-0.314942375127], [at(g.da0, 2, 3)]));
  rows.push(valueRow('rnn_backward dWax[3][1]', [11.2641044965], [at(g.dWax, 3, 1)]));
  rows.push(valueRow('rnn_backward dWaa[1][2]', [2.30333312658], [at(g.dWaa, 1, 2)]));
  rows.push(valueRow('rnn_backward dba[4]', [-0.74747722], [at(g.dba, 4, 0)]));

  // lstm_forward: seed 1; x (3,10,7), a0, Wf, bf, Wi, bi, Wo, bo, Wc, bc, Wy, by; c0 = 0
  r = new NumpyRandom(1);
  {
    const x = seqFromArray(3, 10, 7, r.randn(3, 10, 7));
    const a0 = draw(r, 5, 10);
    const p: LstmParams = {
      Wf: draw(r, 5, 8), bf: draw(r, 5, 1), Wi: draw(r, 5, 8), bi: draw(r, 5, 1), Wo: draw(r, 5, 8), bo: draw(r, 5, 1),
      Wc: draw(r, 5, 8), bc: draw(r, 5, 1), Wy: draw(r, 2, 5), by: draw(r, 2, 1),
    };
    const f = lstmForward(x, a0, p);
    rows.push(valueRow('lstm_forward a[4][3][6]', [0.172117767533], [seqAt(f.a, 4, 3)[6]]));
    rows.push(valueRow('lstm_forward y[1][4][3]', [0.95087346185], [seqAt(f.yPred, 1, 4)[3]]));
    rows.push(valueRow('lstm_forward c[1][2][1]', [-0.855544916718], [seqAt(f.c, 1, 2)[1]]));
  }

  // lstm_cell_backward: seed 1; xt, a_prev, c_prev, Wf, bf, Wi, bi, Wo, bo, Wc, bc, Wy, by; forward; da_next, dc_next
  r = new NumpyRandom(1);
  const lx = draw(r, 3, 10);
  const la = draw(r, 5, 10);
  const lc = draw(r, 5, 10);
  const lp: LstmParams = {
    Wf: draw(r, 5, 8), bf: draw(r, 5, 1), Wi: draw(r, 5, 8), bi: draw(r, 5, 1), Wo: draw(r, 5, 8), bo: draw(r, 5, 1),
    Wc: draw(r, 5, 8), bc: draw(r, 5, 1), Wy: draw(r, 2, 5), by: draw(r, 2, 1),
  };
  const lf = lstmCellForward(lx, la, lc, lp);
  const lg = lstmCellBackward(draw(r, 5, 10), draw(r, 5, 10), lf.cache);
  rows.push(valueRow('lstm_cell_backward dxt[1][2]', [3.23055911511], [at(lg.dxt, 1, 2)]));
  rows.push(valueRow('lstm_cell_backward da_prev[2][3]', [-0.0639621419711], [at(lg.daPrev, 2, 3)]));
  rows.push(valueRow('lstm_cell_backward dc_prev[2][3]', [0.797522038797], [at(lg.dcPrev, 2, 3)]));
  rows.push(valueRow('lstm_cell_backward dWf[3][1]', [-0.147954838164], [at(lg.dWf, 3, 1)]));
  rows.push(valueRow('lstm_cell_backward dbo[4]', [0.13893342], [at(lg.dbo, 4, 0)]));
  return rows;
}

// ------------------------------------------------------------ gradient checks

/** A small sequence problem: x (n_x, m, T), a0, a label at every step. */
export function gradientProblem(seed: number, nX = 3, nA = 5, nY = 4, m = 3, T = 4) {
  const r = new NumpyRandom(seed);
  const x = seqFromArray(nX, m, T, r.randn(nX, m, T));
  const a0 = fromArray(nA, m, r.randn(nA, m));
  const labels = Array.from({ length: T }, () => Int32Array.from({ length: m }, () => Math.floor(r.random() * nY)));
  const scaled = (rows: number, cols: number) => fromArray(rows, cols, r.randn(rows, cols).map((v) => v * 0.5));
  const rnn: RnnParams = { Wax: scaled(nA, nX), Waa: scaled(nA, nA), Wya: scaled(nY, nA), ba: scaled(nA, 1), by: scaled(nY, 1) };
  const lstm: LstmParams = {
    Wf: scaled(nA, nA + nX), bf: scaled(nA, 1), Wi: scaled(nA, nA + nX), bi: scaled(nA, 1), Wc: scaled(nA, nA + nX), bc: scaled(nA, 1),
    Wo: scaled(nA, nA + nX), bo: scaled(nA, 1), Wy: scaled(nY, nA), by: scaled(nY, 1),
  };
  return { x, a0, labels, rnn, lstm };
}

/** ‖a − b‖ / (‖a‖ + ‖b‖) */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i] - b[i]) ** 2;
    na += a[i] ** 2;
    nb += b[i] ** 2;
  }
  return Math.sqrt(diff) / (Math.sqrt(na) + Math.sqrt(nb) || 1);
}

/** Centred finite differences of loss() w.r.t. every element of `param` (modified and restored in place). */
export function numericalGradient(loss: () => number, param: Mat, eps = 1e-5): Float64Array {
  const g = new Float64Array(param.data.length);
  for (let k = 0; k < g.length; k++) {
    const keep = param.data[k];
    param.data[k] = keep + eps;
    const plus = loss();
    param.data[k] = keep - eps;
    const minus = loss();
    param.data[k] = keep;
    g[k] = (plus - minus) / (2 * eps);
  }
  return g;
}

type Params = Record<string, Mat>;

/** A matrix as a float32 tensor (tfjs takes no Float64Array). */
const toTensor = (m: Mat): tf.Tensor2D => tf.tensor2d(Float32Array.from(m.data), [m.rows, m.cols], 'float32');

/** The same loss as rnnLoss / lstmLoss written with tfjs ops, for autodiff. */
function tfjsLoss(cell: 'rnn' | 'lstm', x: Seq, a0: Mat, labels: Int32Array[], names: string[]) {
  return (...vars: tf.Tensor[]): tf.Scalar => {
    const p = Object.fromEntries(names.map((n, i) => [n, vars[i]])) as Record<string, tf.Tensor2D>;
    let a: tf.Tensor2D = toTensor(a0);
    let c = tf.zerosLike(a) as tf.Tensor2D;
    let loss: tf.Scalar = tf.scalar(0);
    for (let t = 0; t < x.T; t++) {
      const xt = stepOf(x, t);
      const xtT = toTensor(xt);
      let logits: tf.Tensor2D;
      if (cell === 'rnn') {
        a = tf.tanh(tf.add(tf.add(tf.matMul(p.Wax, xtT), tf.matMul(p.Waa, a)), p.ba)) as tf.Tensor2D;
        logits = tf.add(tf.matMul(p.Wya, a), p.by);
      } else {
        const concat = tf.concat([a, xtT], 0);
        const g = (W: tf.Tensor2D, b: tf.Tensor2D) => tf.add(tf.matMul(W, concat), b);
        c = tf.add(tf.mul(tf.sigmoid(g(p.Wf, p.bf)), c), tf.mul(tf.sigmoid(g(p.Wi, p.bi)), tf.tanh(g(p.Wc, p.bc)))) as tf.Tensor2D;
        a = tf.mul(tf.sigmoid(g(p.Wo, p.bo)), tf.tanh(c));
        logits = tf.add(tf.matMul(p.Wy, a), p.by);
      }
      const logProbs = tf.sub(logits, tf.logSumExp(logits, 0, true));
      const target = tf.transpose(tf.oneHot(tf.tensor1d(labels[t], 'int32'), logits.shape[0])); // (n_y, m)
      loss = tf.sub(loss, tf.sum(tf.mul(target, logProbs)));
    }
    return loss;
  };
}

async function gradientChecks(cell: 'rnn' | 'lstm'): Promise<CheckRow[]> {
  const prob = gradientProblem(cell === 'rnn' ? 2 : 3);
  const params: Params = { ...(cell === 'rnn' ? prob.rnn : prob.lstm) };
  const run = () =>
    cell === 'rnn' ? rnnLoss(prob.x, prob.labels, prob.a0, params as unknown as RnnParams) : lstmLoss(prob.x, prob.labels, prob.a0, params as unknown as LstmParams);
  const analytic = run().grads as unknown as Params;
  const names = Object.keys(params);
  const grads = tf.tidy(() => tf.grads(tfjsLoss(cell, prob.x, prob.a0, prob.labels, names))(names.map((n) => toTensor(params[n]))));
  const autodiff = await Promise.all(grads.map((g) => g.data()));
  tf.dispose(grads);
  const rows: CheckRow[] = [];
  names.forEach((name, i) => {
    const numeric = numericalGradient(() => run().loss, params[name]);
    rows.push(errorRow(`${cell} d${name} vs finite differences (f64)`, relativeError(numeric, analytic[name].data), 1e-7));
    rows.push(errorRow(`${cell} d${name} vs tfjs autodiff (f32)`, relativeError(autodiff[i], analytic[name].data), 1e-5));
  });
  return rows;
}

/** Every check, in the order the table shows them. */
export async function runChecks(): Promise<CheckRow[]> {
  return [...courseValues(), ...(await gradientChecks('rnn')), ...(await gradientChecks('lstm'))];
}
