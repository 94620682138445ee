import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NumpyRandom } from '../src/core/numpy-random';
import { CharRnn, initCharRnn, PARAM_NAMES } from '../src/models/handwritten/char-rnn';
import { decode, encodeName, readNames, split, vocabulary } from '../src/tasks/dinos/data';
import { relativeError } from '../src/tasks/rnn/checks';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dinos-'));

describe('data', () => {
  test('the embedded corpus: 1,325 lower-case names (wc -l says 1,324: no newline at the end)', () => {
    const { names } = readNames();
    expect(names).toHaveLength(1325);
    expect(names.every((n) => n === n.toLowerCase() && n.length > 0)).toBe(true);
  });
  test('vocabulary: newline first, then the characters sorted; names as X and Y', () => {
    const v = vocabulary(['bca', 'ab']);
    expect(v.chars).toEqual(['\n', 'a', 'b', 'c']);
    expect(encodeName('cab', v)).toEqual({ X: [-1, 3, 1, 2], Y: [3, 1, 2, 0] });
    expect(decode([2, 1, 0], v)).toBe('ba\n');
  });
  test('split: the course\'s shuffle (np.random.seed(0)), the last part held out', () => {
    const names = Array.from({ length: 10 }, (_, i) => `n${i}`);
    expect(split(names, 0).train).toEqual([2, 8, 4, 9, 1, 6, 7, 3, 0, 5].map((i) => `n${i}`));
    expect(split(names, 0.2)).toEqual({ train: [2, 8, 4, 9, 1, 6, 7, 3].map((i) => `n${i}`), held: ['n0', 'n5'] });
  });
  test.each([
    ['an empty corpus', '\n\n  \n', /has no names/],
    ['a binary file', '\u0000\u0001abc', /is not a text file/],
  ])('%s is a clear error', (_n, text, message) => {
    const f = path.join(dir, 'corpus.txt');
    fs.writeFileSync(f, text as string);
    expect(() => readNames(f)).toThrow(message as RegExp);
  });
  test('a missing corpus file', () => {
    expect(() => readNames(path.join(dir, 'none.txt'))).toThrow(/cannot read .*none.txt: no such file/);
  });
});

describe('the hand-written char-RNN', () => {
  const v = vocabulary(['abc', 'cab', 'bb']);
  const name = encodeName('cab', v);
  const fresh = () => {
    const p = initCharRnn(5, v.chars.length, 3);
    const r = new NumpyRandom(4);
    for (const k of PARAM_NAMES) p[k] = p[k].map(() => r.gauss() * 0.5); // not tiny, so gradients are not
    return new CharRnn(p);
  };

  test('one SGD step\'s gradients match finite differences', () => {
    const rnn = fresh();
    const a0 = Float64Array.from({ length: 5 }, (_, i) => (i - 2) * 0.1);
    rnn.forward(name.X, name.Y, a0);
    rnn.backward(name.X, name.Y, a0);
    for (const k of PARAM_NAMES) {
      const p = rnn.p[k];
      const numeric = p.map((_, i) => {
        const keep = p[i];
        p[i] = keep + 1e-5;
        const plus = rnn.forward(name.X, name.Y, a0);
        p[i] = keep - 1e-5;
        const minus = rnn.forward(name.X, name.Y, a0);
        p[i] = keep;
        return (plus - minus) / 2e-5;
      });
      expect(relativeError(numeric, rnn.grads[k])).toBeLessThan(1e-7);
    }
  });

  test('optimize clips every gradient element, steps by -lr·g, and carries the last hidden state', () => {
    const rnn = fresh();
    const before = Float64Array.from(rnn.p.Waa);
    const aPrev = new Float64Array(5);
    rnn.optimize(name.X, name.Y, aPrev, 0.1, 0.01);
    for (const k of PARAM_NAMES) for (const g of rnn.grads[k]) expect(Math.abs(g)).toBeLessThanOrEqual(0.01);
    rnn.p.Waa.forEach((w, i) => expect(w).toBeCloseTo(before[i] - 0.1 * rnn.grads.Waa[i], 12));
    expect(aPrev.some((x) => x !== 0)).toBe(true);
  });

  test('optimize (one call into the SIMD kernels) is forward, backward, clip and an SGD step as written in JavaScript', () => {
    const rnn = fresh();
    const ref = fresh();
    const aPrev = Float64Array.from({ length: 5 }, (_, i) => (i - 2) * 0.1);
    const aRef = Float64Array.from(aPrev);
    for (let step = 0; step < 3; step++) {
      const loss = rnn.optimize(name.X, name.Y, aPrev, 0.05, 0.5);
      const want = ref.forward(name.X, name.Y, aRef);
      ref.backward(name.X, name.Y, aRef);
      const last = Float64Array.from((ref as unknown as { a: Float64Array[] }).a[name.X.length - 1]); // the state carried on
      for (const k of PARAM_NAMES) {
        ref.grads[k].forEach((g, i) => (ref.grads[k][i] = Math.max(-0.5, Math.min(0.5, g))));
        ref.p[k].forEach((w, i) => (ref.p[k][i] = w - 0.05 * ref.grads[k][i]));
      }
      aRef.set(last);
      expect(loss).toBeCloseTo(want, 10);
      aPrev.forEach((x, i) => expect(x).toBeCloseTo(aRef[i], 12));
      for (const k of PARAM_NAMES) {
        rnn.p[k].forEach((w, i) => expect(w).toBeCloseTo(ref.p[k][i], 12));
        rnn.grads[k].forEach((g, i) => expect(g).toBeCloseTo(ref.grads[k][i], 10));
      }
    }
  });

  test('sampling: reproducible with a seed, greedy at temperature 0, ends with newline, continues a prefix', () => {
    const rnn = fresh();
    const s1 = rnn.sample(v.newline, 7);
    expect(rnn.sample(v.newline, 7)).toEqual(s1);
    expect(s1[s1.length - 1]).toBe(v.newline);
    expect(s1.length).toBeLessThanOrEqual(51);
    const seeds = new Set(Array.from({ length: 8 }, (_, k) => decode(rnn.sample(v.newline, k), v)));
    expect(seeds.size).toBeGreaterThan(1);
    const greedy = rnn.sample(v.newline, 1, { temperature: 0 });
    expect(rnn.sample(v.newline, 99, { temperature: 0 })).toEqual(greedy); // no randomness at all
    // greedy = the most likely character at every step
    const a = new Float64Array(5);
    const next = new Float64Array(5);
    const y = new Float64Array(v.chars.length);
    rnn.step(-1, a, next, y);
    expect(greedy[0]).toBe(y.indexOf(Math.max(...y)));
    // a prime is fed first: with it, the first sampled character differs from the unprimed greedy one in general,
    // and sampling is the same as stepping through the prefix by hand
    const primed = rnn.sample(v.newline, 1, { temperature: 0, prime: [v.index.get('c')!, v.index.get('a')!] });
    const a1 = new Float64Array(5);
    const a2 = new Float64Array(5);
    rnn.step(-1, new Float64Array(5), a1, y);
    rnn.step(v.index.get('c')!, a1, a2, y);
    rnn.step(v.index.get('a')!, a2, a1, y);
    expect(primed[0]).toBe(y.indexOf(Math.max(...y)));
  });
});
