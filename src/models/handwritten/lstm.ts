/**
 * An LSTM written from its equations, with backpropagation through time, in the course's notation.
 * Gates act on the concatenation [a⟨t-1⟩; x⟨t⟩]:
 *
 *   Γf = σ(Wf [a;x] + bf)   Γi = σ(Wi [a;x] + bi)   c̃ = tanh(Wc [a;x] + bc)   Γo = σ(Wo [a;x] + bo)
 *   c⟨t⟩ = Γf ∗ c⟨t-1⟩ + Γi ∗ c̃      a⟨t⟩ = Γo ∗ tanh(c⟨t⟩)      ŷ⟨t⟩ = softmax(Wy a⟨t⟩ + by)
 */
import {
  addColumn, addInPlace, kindOf, Mat, matmul, matmulTA, matmulTB, rowsOf, Seq, seqZeros, setStep, sigmoidInPlace, softmaxColumns,
  stackRows, stepOf, sumColumns, tanhInPlace, zeros, zerosLike,
} from './matrix';
import { outputBackward } from './rnn';

export interface LstmParams {
  Wf: Mat; // (n_a, n_a + n_x)
  bf: Mat; // (n_a, 1)
  Wi: Mat;
  bi: Mat;
  Wc: Mat;
  bc: Mat;
  Wo: Mat;
  bo: Mat;
  Wy: Mat; // (n_y, n_a)
  by: Mat; // (n_y, 1)
}

export interface LstmCache {
  aNext: Mat;
  cNext: Mat;
  aPrev: Mat;
  cPrev: Mat;
  ft: Mat;
  it: Mat;
  cct: Mat;
  ot: Mat;
  xt: Mat;
  params: LstmParams;
}

function gate(W: Mat, b: Mat, concat: Mat): Mat {
  return addColumn(matmul(W, concat), b);
}

export function lstmCellForward(xt: Mat, aPrev: Mat, cPrev: Mat, p: LstmParams): { aNext: Mat; cNext: Mat; ytPred: Mat; cache: LstmCache } {
  const concat = stackRows(aPrev, xt);
  const ft = sigmoidInPlace(gate(p.Wf, p.bf, concat));
  const it = sigmoidInPlace(gate(p.Wi, p.bi, concat));
  const cct = tanhInPlace(gate(p.Wc, p.bc, concat));
  const ot = sigmoidInPlace(gate(p.Wo, p.bo, concat));
  const cNext = zerosLike(cPrev);
  const aNext = zerosLike(aPrev);
  for (let k = 0; k < cNext.data.length; k++) {
    cNext.data[k] = ft.data[k] * cPrev.data[k] + it.data[k] * cct.data[k];
    aNext.data[k] = ot.data[k] * Math.tanh(cNext.data[k]);
  }
  const ytPred = softmaxColumns(addColumn(matmul(p.Wy, aNext), p.by));
  return { aNext, cNext, ytPred, cache: { aNext, cNext, aPrev, cPrev, ft, it, cct, ot, xt, params: p } };
}

/** Forward over a sequence from a⟨0⟩ = a0 and c⟨0⟩ = 0. */
export function lstmForward(x: Seq, a0: Mat, p: LstmParams): { a: Seq; c: Seq; yPred: Seq; caches: LstmCache[] } {
  const kind = kindOf(a0);
  const nA = p.Wf.rows;
  const a = seqZeros(nA, x.m, x.T, kind);
  const c = seqZeros(nA, x.m, x.T, kind);
  const yPred = seqZeros(p.Wy.rows, x.m, x.T, kind);
  const caches: LstmCache[] = [];
  let aPrev = a0;
  let cPrev = zeros(nA, x.m, kind);
  for (let t = 0; t < x.T; t++) {
    const step = lstmCellForward(stepOf(x, t), aPrev, cPrev, p);
    setStep(a, t, step.aNext);
    setStep(c, t, step.cNext);
    setStep(yPred, t, step.ytPred);
    caches.push(step.cache);
    aPrev = step.aNext;
    cPrev = step.cNext;
  }
  return { a, c, yPred, caches };
}

export interface LstmCellGradients {
  dxt: Mat;
  daPrev: Mat;
  dcPrev: Mat;
  dWf: Mat;
  dWi: Mat;
  dWc: Mat;
  dWo: Mat;
  dbf: Mat;
  dbi: Mat;
  dbc: Mat;
  dbo: Mat;
}

/** Backward through one step, given the gradients w.r.t. a⟨t⟩ and c⟨t⟩. */
export function lstmCellBackward(daNext: Mat, dcNext: Mat, cache: LstmCache): LstmCellGradients {
  const { cNext, aPrev, cPrev, ft, it, cct, ot, xt, params: p } = cache;
  const nA = aPrev.rows;
  const [dot, dcct, dit, dft, dcPrev] = [zerosLike(ot), zerosLike(ot), zerosLike(ot), zerosLike(ot), zerosLike(ot)];
  for (let k = 0; k < ot.data.length; k++) {
    const tc = Math.tanh(cNext.data[k]);
    // the gradient reaching c⟨t⟩: directly, and through a⟨t⟩ = Γo tanh(c⟨t⟩)
    const dc = dcNext.data[k] + ot.data[k] * (1 - tc * tc) * daNext.data[k];
    dot.data[k] = daNext.data[k] * tc * ot.data[k] * (1 - ot.data[k]);
    dcct.data[k] = dc * it.data[k] * (1 - cct.data[k] * cct.data[k]);
    dit.data[k] = dc * cct.data[k] * it.data[k] * (1 - it.data[k]);
    dft.data[k] = dc * cPrev.data[k] * ft.data[k] * (1 - ft.data[k]);
    dcPrev.data[k] = dc * ft.data[k];
  }
  const concat = stackRows(aPrev, xt);
  // d[a;x] = Σ over gates of Wᵀ d(gate); its top n_a rows are da_prev, the rest dxt
  const dConcat = matmulTA(p.Wf, dft);
  matmulTA(p.Wi, dit, dConcat, true);
  matmulTA(p.Wc, dcct, dConcat, true);
  matmulTA(p.Wo, dot, dConcat, true);
  return {
    dxt: rowsOf(dConcat, nA, xt.rows),
    daPrev: rowsOf(dConcat, 0, nA),
    dcPrev,
    dWf: matmulTB(dft, concat),
    dWi: matmulTB(dit, concat),
    dWc: matmulTB(dcct, concat),
    dWo: matmulTB(dot, concat),
    dbf: sumColumns(dft),
    dbi: sumColumns(dit),
    dbc: sumColumns(dcct),
    dbo: sumColumns(dot),
  };
}

/** The sequence's gradients: the parameters' summed over steps, dx for every step, da0. */
export type LstmGradients = Omit<LstmCellGradients, 'dxt' | 'daPrev' | 'dcPrev'> & { dx: Seq; da0: Mat };

/** BPTT: `da` is the upstream gradient w.r.t. every a⟨t⟩; da_prev and dc_prev flow back through time. */
export function lstmBackward(da: Seq, caches: LstmCache[]): LstmGradients {
  const { params: p, xt } = caches[0];
  const kind = kindOf(p.Wf);
  const dx = seqZeros(xt.rows, da.m, da.T, kind);
  const sums = { dWf: zerosLike(p.Wf), dWi: zerosLike(p.Wi), dWc: zerosLike(p.Wc), dWo: zerosLike(p.Wo), dbf: zerosLike(p.bf), dbi: zerosLike(p.bi), dbc: zerosLike(p.bc), dbo: zerosLike(p.bo) };
  let daPrev = zeros(da.n, da.m, kind);
  let dcPrev = zeros(da.n, da.m, kind);
  for (let t = da.T - 1; t >= 0; t--) {
    const g = lstmCellBackward(addInPlace(stepOf(da, t), daPrev), dcPrev, caches[t]);
    setStep(dx, t, g.dxt);
    for (const k of Object.keys(sums) as (keyof typeof sums)[]) addInPlace(sums[k], g[k]);
    daPrev = g.daPrev;
    dcPrev = g.dcPrev;
  }
  return { dx, da0: daPrev, ...sums };
}

/** Summed cross-entropy against `labels[t][j]` (-1: no target) and the gradient of every parameter. */
export function lstmLoss(x: Seq, labels: Int32Array[], a0: Mat, p: LstmParams): { loss: number; grads: LstmParams; yPred: Seq } {
  const { a, yPred, caches } = lstmForward(x, a0, p);
  const out = outputBackward(a, yPred, labels, p.Wy);
  const g = lstmBackward(out.da, caches);
  return {
    loss: out.loss,
    grads: { Wf: g.dWf, bf: g.dbf, Wi: g.dWi, bi: g.dbi, Wc: g.dWc, bc: g.dbc, Wo: g.dWo, bo: g.dbo, Wy: out.dW, by: out.db },
    yPred,
  };
}
