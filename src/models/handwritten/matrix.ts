/**
 * Small dense matrices on typed arrays for the hand-written networks. Row-major, in the course's
 * layout: a matrix is (features, examples), one column per example. Float64 for exact checks,
 * Float32 where speed matters; results take the kind of their first operand. Functions that write
 * into `out` allocate nothing, so training loops can reuse buffers.
 */
export type Floats = Float64Array | Float32Array;

export interface Mat {
  rows: number;
  cols: number;
  data: Floats;
}

export type Kind = 'f64' | 'f32';

export function zeros(rows: number, cols: number, kind: Kind = 'f64'): Mat {
  return { rows, cols, data: kind === 'f64' ? new Float64Array(rows * cols) : new Float32Array(rows * cols) };
}

export function kindOf(m: Mat): Kind {
  return m.data instanceof Float32Array ? 'f32' : 'f64';
}

export function zerosLike(m: Mat): Mat {
  return zeros(m.rows, m.cols, kindOf(m));
}

export function fromArray(rows: number, cols: number, values: ArrayLike<number>, kind: Kind = 'f64'): Mat {
  if (values.length !== rows * cols) throw new Error(`fromArray: ${values.length} values for ${rows}x${cols}`);
  const m = zeros(rows, cols, kind);
  m.data.set(values);
  return m;
}

/** Element (i, j). */
export const at = (m: Mat, i: number, j: number) => m.data[i * m.cols + j];

/** Row i as a plain array (for printing and checks). */
export const row = (m: Mat, i: number) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols));

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`matrix shapes do not fit: ${what}`);
}

/** out = A B (or out += A B with accumulate). */
export function matmul(a: Mat, b: Mat, out: Mat = zeros(a.rows, b.cols, kindOf(a)), accumulate = false): Mat {
  check(a.cols === b.rows && out.rows === a.rows && out.cols === b.cols, `(${a.rows}x${a.cols})(${b.rows}x${b.cols})`);
  const [n, k, p] = [a.rows, a.cols, b.cols];
  const A = a.data;
  const B = b.data;
  const C = out.data;
  if (!accumulate) C.fill(0);
  for (let i = 0; i < n; i++) {
    const ci = i * p;
    for (let t = 0; t < k; t++) {
      const aik = A[i * k + t];
      if (aik === 0) continue;
      const bt = t * p;
      for (let j = 0; j < p; j++) C[ci + j] += aik * B[bt + j];
    }
  }
  return out;
}

/** out = Aᵀ B (or +=). */
export function matmulTA(a: Mat, b: Mat, out: Mat = zeros(a.cols, b.cols, kindOf(a)), accumulate = false): Mat {
  check(a.rows === b.rows && out.rows === a.cols && out.cols === b.cols, `(${a.rows}x${a.cols})ᵀ(${b.rows}x${b.cols})`);
  const [k, n, p] = [a.rows, a.cols, b.cols];
  const A = a.data;
  const B = b.data;
  const C = out.data;
  if (!accumulate) C.fill(0);
  for (let t = 0; t < k; t++) {
    const bt = t * p;
    for (let i = 0; i < n; i++) {
      const ati = A[t * n + i];
      if (ati === 0) continue;
      const ci = i * p;
      for (let j = 0; j < p; j++) C[ci + j] += ati * B[bt + j];
    }
  }
  return out;
}

/** out = A Bᵀ (or +=). */
export function matmulTB(a: Mat, b: Mat, out: Mat = zeros(a.rows, b.rows, kindOf(a)), accumulate = false): Mat {
  check(a.cols === b.cols && out.rows === a.rows && out.cols === b.rows, `(${a.rows}x${a.cols})(${b.rows}x${b.cols})ᵀ`);
  const [n, k, p] = [a.rows, a.cols, b.rows];
  const A = a.data;
  const B = b.data;
  const C = out.data;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += A[i * k + t] * B[j * k + t];
      C[i * p + j] = accumulate ? C[i * p + j] + s : s;
    }
  }
  return out;
}

/** A += column vector b (rows x 1), broadcast over the columns. In place. */
export function addColumn(a: Mat, b: Mat): Mat {
  check(b.rows === a.rows && b.cols === 1, 'bias column');
  for (let i = 0; i < a.rows; i++) {
    const bi = b.data[i];
    for (let j = 0; j < a.cols; j++) a.data[i * a.cols + j] += bi;
  }
  return a;
}

/** out (rows x 1) = the sum of each row of A (or +=). */
export function sumColumns(a: Mat, out: Mat = zeros(a.rows, 1, kindOf(a)), accumulate = false): Mat {
  for (let i = 0; i < a.rows; i++) {
    let s = 0;
    for (let j = 0; j < a.cols; j++) s += a.data[i * a.cols + j];
    out.data[i] = accumulate ? out.data[i] + s : s;
  }
  return out;
}

export function tanhInPlace(a: Mat): Mat {
  for (let i = 0; i < a.data.length; i++) a.data[i] = Math.tanh(a.data[i]);
  return a;
}

export function sigmoidInPlace(a: Mat): Mat {
  for (let i = 0; i < a.data.length; i++) a.data[i] = 1 / (1 + Math.exp(-a.data[i]));
  return a;
}

/** Softmax down each column (each example), stabilised by the column maximum. In place. */
export function softmaxColumns(a: Mat): Mat {
  const { rows, cols, data } = a;
  for (let j = 0; j < cols; j++) {
    let max = -Infinity;
    for (let i = 0; i < rows; i++) max = Math.max(max, data[i * cols + j]);
    let sum = 0;
    for (let i = 0; i < rows; i++) sum += data[i * cols + j] = Math.exp(data[i * cols + j] - max);
    for (let i = 0; i < rows; i++) data[i * cols + j] /= sum;
  }
  return a;
}

/** A += B (same shape). */
export function addInPlace(a: Mat, b: Mat): Mat {
  check(a.rows === b.rows && a.cols === b.cols, 'add');
  for (let i = 0; i < a.data.length; i++) a.data[i] += b.data[i];
  return a;
}

/** Rows [from, from + count) of A as a new matrix. */
export function rowsOf(a: Mat, from: number, count: number): Mat {
  return { rows: count, cols: a.cols, data: a.data.slice(from * a.cols, (from + count) * a.cols) };
}

/** [A; B]: A stacked on top of B (same number of columns). */
export function stackRows(a: Mat, b: Mat, out: Mat = zeros(a.rows + b.rows, a.cols, kindOf(a))): Mat {
  check(a.cols === b.cols && out.rows === a.rows + b.rows && out.cols === a.cols, 'stack rows');
  out.data.set(a.data, 0);
  out.data.set(b.data, a.data.length);
  return out;
}

/** Each element clipped to [-limit, limit]. In place. */
export function clipInPlace(a: Mat, limit: number): Mat {
  for (let i = 0; i < a.data.length; i++) a.data[i] = Math.max(-limit, Math.min(limit, a.data[i]));
  return a;
}

/**
 * A sequence of matrices, the course's (features, examples, steps) array: element (i, j, t) is
 * data[(i * examples + j) * steps + t], NumPy's C order, so `np.random.randn(n, m, T)` fills it alike.
 */
export interface Seq {
  n: number;
  m: number;
  T: number;
  data: Floats;
}

export function seqZeros(n: number, m: number, T: number, kind: Kind = 'f64'): Seq {
  const len = n * m * T;
  return { n, m, T, data: kind === 'f64' ? new Float64Array(len) : new Float32Array(len) };
}

export function seqFromArray(n: number, m: number, T: number, values: ArrayLike<number>, kind: Kind = 'f64'): Seq {
  const s = seqZeros(n, m, T, kind);
  s.data.set(values);
  return s;
}

/** Step t as an (n, m) matrix (a copy). */
export function stepOf(s: Seq, t: number, out: Mat = zeros(s.n, s.m, s.data instanceof Float32Array ? 'f32' : 'f64')): Mat {
  const { n, m, T, data } = s;
  for (let k = 0; k < n * m; k++) out.data[k] = data[k * T + t];
  return out;
}

/** Writes an (n, m) matrix into step t. */
export function setStep(s: Seq, t: number, v: Mat): void {
  const { n, m, T, data } = s;
  for (let k = 0; k < n * m; k++) data[k * T + t] = v.data[k];
}

/** Element (i, j, :) as a plain array: what NumPy prints for x[i][j]. */
export function seqAt(s: Seq, i: number, j: number): number[] {
  const start = (i * s.m + j) * s.T;
  return Array.from(s.data.subarray(start, start + s.T));
}
