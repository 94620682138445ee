/**
 * A plain RNN written from its equations, with backpropagation through time, in the course's
 * notation and layout (x: (n_x, m, T_x), a: (n_a, m, T_x), y: (n_y, m, T_y)):
 *
 *   a⟨t⟩ = tanh(Wax x⟨t⟩ + Waa a⟨t-1⟩ + ba)        ŷ⟨t⟩ = softmax(Wya a⟨t⟩ + by)
 */
import {
  addColumn, addInPlace, kindOf, Mat, matmul, matmulTA, matmulTB, Seq, seqZeros, setStep, softmaxColumns, stepOf, sumColumns,
  tanhInPlace, zeros, zerosLike,
} from './matrix';

export interface RnnParams {
  Wax: Mat; // (n_a, n_x)
  Waa: Mat; // (n_a, n_a)
  Wya: Mat; // (n_y, n_a)
  ba: Mat; // (n_a, 1)
  by: Mat; // (n_y, 1)
}

/** What the backward step needs from the forward step. */
export interface RnnCache {
  aNext: Mat;
  aPrev: Mat;
  xt: Mat;
  params: RnnParams;
}

export function rnnCellForward(xt: Mat, aPrev: Mat, p: RnnParams): { aNext: Mat; ytPred: Mat; cache: RnnCache } {
  const aNext = matmul(p.Wax, xt);
  matmul(p.Waa, aPrev, aNext, true);
  tanhInPlace(addColumn(aNext, p.ba));
  const ytPred = softmaxColumns(addColumn(matmul(p.Wya, aNext), p.by));
  return { aNext, ytPred, cache: { aNext, aPrev, xt, params: p } };
}

export function rnnForward(x: Seq, a0: Mat, p: RnnParams): { a: Seq; yPred: Seq; caches: RnnCache[] } {
  const kind = kindOf(a0);
  const a = seqZeros(p.Waa.rows, x.m, x.T, kind);
  const yPred = seqZeros(p.Wya.rows, x.m, x.T, kind);
  const caches: RnnCache[] = [];
  let aPrev = a0;
  for (let t = 0; t < x.T; t++) {
    const { aNext, ytPred, cache } = rnnCellForward(stepOf(x, t), aPrev, p);
    setStep(a, t, aNext);
    setStep(yPred, t, ytPred);
    caches.push(cache);
    aPrev = aNext;
  }
  return { a, yPred, caches };
}

export interface RnnCellGradients {
  dxt: Mat;
  daPrev: Mat;
  dWax: Mat;
  dWaa: Mat;
  dba: Mat;
}

/** Backward through one step, given the gradient of the loss w.r.t. a⟨t⟩. */
export function rnnCellBackward(daNext: Mat, cache: RnnCache): RnnCellGradients {
  const { aNext, aPrev, xt, params } = cache;
  const dtanh = zerosLike(aNext); // (1 - a²) · da
  for (let i = 0; i < dtanh.data.length; i++) dtanh.data[i] = (1 - aNext.data[i] * aNext.data[i]) * daNext.data[i];
  return {
    dxt: matmulTA(params.Wax, dtanh),
    daPrev: matmulTA(params.Waa, dtanh),
    dWax: matmulTB(dtanh, xt),
    dWaa: matmulTB(dtanh, aPrev),
    dba: sumColumns(dtanh),
  };
}

export interface RnnGradients {
  dx: Seq;
  da0: Mat;
  dWax: Mat;
  dWaa: Mat;
  dba: Mat;
}

/** BPTT: `da` (n_a, m, T_x) is the upstream gradient w.r.t. every a⟨t⟩; da_prev flows back through time. */
export function rnnBackward(da: Seq, caches: RnnCache[]): RnnGradients {
  const { params, xt } = caches[0];
  const kind = kindOf(params.Waa);
  const dx = seqZeros(xt.rows, da.m, da.T, kind);
  const dWax = zerosLike(params.Wax);
  const dWaa = zerosLike(params.Waa);
  const dba = zerosLike(params.ba);
  let daPrev = zeros(da.n, da.m, kind);
  for (let t = da.T - 1; t >= 0; t--) {
    const g = rnnCellBackward(addInPlace(stepOf(da, t), daPrev), caches[t]);
    setStep(dx, t, g.dxt);
    addInPlace(dWax, g.dWax);
    addInPlace(dWaa, g.dWaa);
    addInPlace(dba, g.dba);
    daPrev = g.daPrev;
  }
  return { dx, da0: daPrev, dWax, dWaa, dba };
}

/**
 * Summed cross-entropy of the softmax outputs against `labels[t][j]` (class of example j at step t;
 * -1: no target at that step), and the gradient of every parameter.
 */
export function rnnLoss(x: Seq, labels: Int32Array[], a0: Mat, p: RnnParams): { loss: number; grads: RnnParams; yPred: Seq; a: Seq } {
  const { a, yPred, caches } = rnnForward(x, a0, p);
  const out = outputBackward(a, yPred, labels, p.Wya);
  const g = rnnBackward(out.da, caches);
  return { loss: out.loss, grads: { Wax: g.dWax, Waa: g.dWaa, Wya: out.dW, ba: g.dba, by: out.db }, yPred, a };
}

/**
 * The softmax output layer ŷ⟨t⟩ = softmax(W a⟨t⟩ + b) of either cell, backwards: the summed
 * cross-entropy, the gradients of W and b, and the upstream gradient da for BPTT.
 */
export function outputBackward(a: Seq, yPred: Seq, labels: Int32Array[], W: Mat): { loss: number; dW: Mat; db: Mat; da: Seq } {
  const { loss, dy } = softmaxCrossEntropy(yPred, labels);
  const dW = zerosLike(W);
  const db = zeros(W.rows, 1, kindOf(W));
  const da = seqZeros(a.n, a.m, a.T, kindOf(W));
  for (let t = 0; t < a.T; t++) {
    const dyt = stepOf(dy, t);
    matmulTB(dyt, stepOf(a, t), dW, true);
    sumColumns(dyt, db, true);
    setStep(da, t, matmulTA(W, dyt));
  }
  return { loss, dW, db, da };
}

/** Loss Σ −log ŷ[label] and its gradient w.r.t. the softmax's input, ŷ − onehot(label) (0 where label is -1). */
export function softmaxCrossEntropy(yPred: Seq, labels: Int32Array[]): { loss: number; dy: Seq } {
  const { n, m, T } = yPred;
  const dy = seqZeros(n, m, T, yPred.data instanceof Float32Array ? 'f32' : 'f64');
  let loss = 0;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < m; j++) {
      const label = labels[t][j];
      if (label < 0) continue;
      for (let i = 0; i < n; i++) dy.data[(i * m + j) * T + t] = yPred.data[(i * m + j) * T + t];
      loss -= Math.log(yPred.data[(label * m + j) * T + t]);
      dy.data[(label * m + j) * T + t] -= 1;
    }
  }
  return { loss, dy };
}
