import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';

/** Runs f on cpu and on (patched) wasm and returns both results as nested arrays. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<[unknown, unknown]> {
  const results: unknown[] = [];
  for (const backend of ['cpu', 'wasm'] as const) {
    await initBackend(backend);
    tf.randomNormal([1]); // same seeded draws on both backends below
    results.push(
      tf.tidy(() => {
        const out = f();
        return Array.isArray(out) ? out.map((t) => t.arraySync()) : out.arraySync();
      }),
    );
  }
  return results as [unknown, unknown];
}

const data = (shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i) * 3), shape);

describe('wasm kernel replacements give the cpu backend\'s results', () => {
  test.each([
    ['contiguous rows', [6, 5], [2, 0], [3, 5]],
    ['columns', [6, 5], [0, 1], [6, 3]],
    ['3-D middle', [3, 4, 5], [1, 1, 2], [2, 2, 3]],
    ['4-D', [2, 3, 4, 5], [1, 0, 1, 0], [1, 3, 2, 5]],
  ])('slice %s', async (_name, shape, begin, size) => {
    const [cpu, wasm] = await onBoth(() => tf.slice(data(shape as number[]), begin as number[], size as number[]));
    expect(wasm).toEqual(cpu);
  });

  test('split (SplitV) and unstack (Unpack) along several axes', async () => {
    const [cpu, wasm] = await onBoth(() => [
      ...tf.split(data([4, 6, 8]), 4, 2),
      ...tf.split(data([4, 6, 8]), [1, 2, 3], 1),
      ...tf.unstack(data([3, 4, 5]), 0),
      ...tf.unstack(data([3, 4, 5]), 1),
    ]);
    expect(wasm).toEqual(cpu);
  });

  test('reverse along one and two axes', async () => {
    const [cpu, wasm] = await onBoth(() => [tf.reverse(data([3, 4, 5]), 1), tf.reverse(data([3, 4, 5]), [0, 2]), tf.reverse(data([7]), 0)]);
    expect(wasm).toEqual(cpu);
  });

  test('tile along every combination of axes, and of a single row or element', async () => {
    const [cpu, wasm] = await onBoth(() => [
      tf.tile(data([3, 4, 5]), [2, 1, 3]),
      tf.tile(data([3, 4, 5]), [1, 3, 1]),
      tf.tile(data([2, 3]), [4, 2]),
      tf.tile(data([1, 1, 5]), [8, 7, 1]),
      tf.tile(data([6]), [3]),
      tf.tile(data([2, 2, 2, 2]), [2, 1, 2, 1]),
      tf.tile(tf.tensor([[1, 2], [3, 4]], undefined, 'int32'), [2, 3]),
    ]);
    expect(wasm).toEqual(cpu);
  });

  test('matMul, transposed or not, at shapes with edges in every direction (seqlab\'s kernels), batched too', async () => {
    const [cpu, wasm] = await onBoth(() => [
      tf.matMul(data([5, 3]), data([5, 4]), true, false),
      tf.matMul(data([3, 5]), data([4, 5]), false, true),
      tf.matMul(data([5, 3]), data([4, 5]), true, true),
      tf.matMul(data([13, 7]), data([7, 19])),
      tf.matMul(data([300, 9]), data([300, 10]), true, false), // K over several chunks
      tf.matMul(data([6, 140]), data([11, 140]), false, true),
      tf.matMul(data([1, 6, 5]), data([1, 5, 9])),
      tf.matMul(data([2, 3, 5]), data([2, 5, 4])),
    ]);
    const flat = (x: unknown) => (x as number[]).flat(3) as number[];
    expect(flat(wasm)).toHaveLength(flat(cpu).length);
    flat(wasm).forEach((v, i) => expect(Math.abs(v - flat(cpu)[i])).toBeLessThan(1e-3 * Math.max(1, Math.abs(flat(cpu)[i]))));
  });

  test('sum over leading axes (seqlab\'s column sums) and over others', async () => {
    const [cpu, wasm] = await onBoth(() => [
      tf.sum(data([37, 7]), 0),
      tf.sum(data([4, 5, 6]), [0, 1]),
      tf.sum(data([4, 5, 6]), [1, 0], true),
      tf.sum(data([4, 5, 6]), 1),
      tf.sum(data([4, 5, 6])),
    ]);
    const flat = (x: unknown) => (x as number[]).flat(3) as number[];
    expect(flat(wasm)).toHaveLength(flat(cpu).length);
    flat(wasm).forEach((v, i) => expect(v).toBeCloseTo(flat(cpu)[i], 3));
  });

  test('gradients through the replaced kernels match', async () => {
    const [cpu, wasm] = await onBoth(() =>
      tf.grad((x: tf.Tensor) => {
        const parts = tf.unstack(tf.reverse(x, 1), 1);
        const [a, b] = tf.split(parts[2], 2, 1);
        return tf.sum(tf.matMul(a, b, true, false)).add(tf.sum(tf.slice(x, [0, 1, 0], [2, 2, 4])));
      })(data([3, 4, 4])),
    );
    const flat = (x: unknown) => (x as number[][][]).flat(2);
    flat(wasm).forEach((v, i) => expect(v).toBeCloseTo(flat(cpu)[i], 4));
  });
});
