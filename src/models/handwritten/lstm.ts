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
import { arena, kernels } from '../../core/kernels';

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

/**
 * lstmLoss for training, in float32 on seqlab's SIMD kernels (src/kernels/simd.ts): the four gates
 * as one stacked weight matrix [Wf; Wi; Wc; Wo], so a step's gates are one product of the
 * examples' [a; x] rows with it, a step's da_prev one product of dz with its transpose, and the
 * weight gradient one product over all steps and examples at the end (dz_allᵀ [a; x]_all). The
 * gate arithmetic and the small output layer run in JavaScript on the same memory. Same loss,
 * gradients and predictions as lstmLoss to float32 precision (test/rnn.test.ts); lstmLoss stays
 * the one that reads like the course.
 */
export function lstmLossFast(x: Seq, labels: Int32Array[], a0: Mat, p: LstmParams): { loss: number; grads: LstmParams; yPred: Seq } {
  const k32 = kernels();
  const { m, T } = x;
  const nX = x.n;
  const nA = p.Wf.rows;
  const nY = p.Wy.rows;
  const nC = nA + nX; // columns of [a; x]
  const G = 4 * nA; // stacked gate rows: f, i, c̃, o
  const TM = T * m;
  const [W, WTa, b, cat, gates, dzAll, daPrev, dbK, dW] = arena([G * nC, nA * G, G, TM * nC, TM * G, TM * G, m * nA, G, G * nC]);
  [p.Wf, p.Wi, p.Wc, p.Wo].forEach((w, g) => W.view.set(w.data, g * nA * nC));
  [p.bf, p.bi, p.bc, p.bo].forEach((v, g) => b.view.set(v.data, g * nA));
  for (let r = 0; r < G; r++) for (let k = 0; k < nA; k++) WTa.view[k * G + r] = W.view[r * nC + k];
  const Wy = p.Wy.data;
  const by = p.by.data;
  // [a⟨t-1⟩; x⟨t⟩] as row t·m + j of `cat`, for step t and example j
  const catV = cat.view;
  for (let t = 0; t < T; t++) {
    for (let j = 0; j < m; j++) {
      const row = (t * m + j) * nC;
      for (let i = 0; i < nX; i++) catV[row + nA + i] = x.data[(i * m + j) * T + t];
      if (t === 0) for (let k = 0; k < nA; k++) catV[row + k] = a0.data[k * m + j];
    }
  }
  const gv = gates.view;
  const c = new Float32Array((T + 1) * m * nA); // c⟨0⟩ = 0
  const tc = new Float32Array(TM * nA);
  const aLast = new Float32Array(m * nA);
  const yPred = seqZeros(nY, m, T, 'f32');
  const u = new Float64Array(nY);
  let loss = 0;
  for (let t = 0; t < T; t++) {
    // the gates of every example: [a; x] rows times Wᵀ, plus b
    k32.gemmABt32(cat.ptr + t * m * nC * 4, nC, W.ptr, nC, gates.ptr + t * m * G * 4, G, m, G, nC, b.ptr, false);
    for (let j = 0; j < m; j++) {
      const gi = (t * m + j) * G;
      const s = (t * m + j) * nA;
      const cNow = ((t + 1) * m + j) * nA;
      const aDst = t + 1 < T ? catV : aLast;
      const aOut = t + 1 < T ? ((t + 1) * m + j) * nC : j * nA; // into the next step's [a; x], or aLast
      for (let k = 0; k < nA; k++) {
        const f = (gv[gi + k] = 1 / (1 + Math.exp(-gv[gi + k])));
        const i = (gv[gi + nA + k] = 1 / (1 + Math.exp(-gv[gi + nA + k])));
        const cc = (gv[gi + 2 * nA + k] = Math.tanh(gv[gi + 2 * nA + k]));
        const o = (gv[gi + 3 * nA + k] = 1 / (1 + Math.exp(-gv[gi + 3 * nA + k])));
        const cv = (c[cNow + k] = f * c[s + k] + i * cc);
        const th = (tc[s + k] = Math.tanh(cv));
        aDst[aOut + k] = o * th;
      }
      // ŷ⟨t⟩ = softmax(Wy a⟨t⟩ + by) for this example
      let max = -Infinity;
      for (let q = 0; q < nY; q++) {
        let v = by[q];
        for (let k = 0; k < nA; k++) v += Wy[q * nA + k] * aDst[aOut + k];
        u[q] = v;
        if (v > max) max = v;
      }
      let sum = 0;
      for (let q = 0; q < nY; q++) sum += u[q] = Math.exp(u[q] - max);
      for (let q = 0; q < nY; q++) yPred.data[(q * m + j) * T + t] = u[q] / sum;
      const label = labels[t][j];
      if (label >= 0) loss -= Math.log(yPred.data[(label * m + j) * T + t]);
    }
  }

  // BPTT: dz of every step and example into dzAll; da_prev = dz Wᵀ (its a columns) per step
  const dz = dzAll.view;
  const dp = daPrev.view;
  const dWy = new Float32Array(nY * nA);
  const dby = new Float32Array(nY);
  const da = new Float64Array(nA);
  const dc = new Float64Array(m * nA);
  for (let t = T - 1; t >= 0; t--) {
    for (let j = 0; j < m; j++) {
      const aSrc = t + 1 < T ? catV : aLast;
      const at = t + 1 < T ? ((t + 1) * m + j) * nC : j * nA;
      for (let k = 0; k < nA; k++) da[k] = t === T - 1 ? 0 : dp[j * nA + k];
      const label = labels[t][j];
      if (label >= 0) {
        for (let q = 0; q < nY; q++) {
          const d = yPred.data[(q * m + j) * T + t] - (q === label ? 1 : 0);
          dby[q] += d;
          for (let k = 0; k < nA; k++) {
            dWy[q * nA + k] += d * aSrc[at + k];
            da[k] += Wy[q * nA + k] * d;
          }
        }
      }
      const gi = (t * m + j) * G;
      const s = (t * m + j) * nA;
      for (let k = 0; k < nA; k++) {
        const f = gv[gi + k];
        const i = gv[gi + nA + k];
        const cc = gv[gi + 2 * nA + k];
        const o = gv[gi + 3 * nA + k];
        const th = tc[s + k];
        const d = dc[j * nA + k] + o * (1 - th * th) * da[k];
        dz[gi + k] = d * c[s + k] * f * (1 - f);
        dz[gi + nA + k] = d * cc * i * (1 - i);
        dz[gi + 2 * nA + k] = d * i * (1 - cc * cc);
        dz[gi + 3 * nA + k] = da[k] * th * o * (1 - o);
        dc[j * nA + k] = d * f;
      }
    }
    if (t > 0) k32.gemmABt32(dzAll.ptr + t * m * G * 4, G, WTa.ptr, G, daPrev.ptr, nA, m, nA, G, 0, false);
  }
  // dW = Σ over steps and examples of dz [a; x]ᵀ; db = Σ dz
  k32.gemmAtB32(dzAll.ptr, G, cat.ptr, nC, dW.ptr, nC, G, nC, TM, false);
  k32.colSum32(dzAll.ptr, TM, G, dbK.ptr);
  const db = dbK.view.slice();
  const dWv = dW.view;
  const part = (data: Float32Array, g: number, rows: number, cols: number): Mat => ({ rows, cols, data: data.slice(g * rows * cols, (g + 1) * rows * cols) });
  return {
    loss,
    grads: {
      Wf: part(dWv, 0, nA, nC), Wi: part(dWv, 1, nA, nC), Wc: part(dWv, 2, nA, nC), Wo: part(dWv, 3, nA, nC),
      bf: part(db, 0, nA, 1), bi: part(db, 1, nA, 1), bc: part(db, 2, nA, 1), bo: part(db, 3, nA, 1),
      Wy: { rows: nY, cols: nA, data: dWy }, by: { rows: nY, cols: 1, data: dby },
    },
    yPred,
  };
}
