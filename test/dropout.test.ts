import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { Dropout, dropout, dropoutMask } from '../src/models/dropout';

/** Dropout draws a new mask every step, reproducibly from its seed (src/models/dropout.ts). */
describe('dropout', () => {
  beforeAll(() => initBackend('wasm'));
  const x = tf.ones([4, 50, 16]);
  const train = (layer: tf.layers.Layer) => Array.from((layer.apply(x, { training: true }) as tf.Tensor).dataSync());

  test('why seqlab has its own: tf.layers.dropout with a seed drops the same values at every step', () => {
    const theirs = tf.layers.dropout({ rate: 0.5, seed: 3 });
    expect(train(theirs)).toEqual(train(theirs));
  });

  test('a new mask every training step; the same stream from the same seed; another seed, another stream', () => {
    const a = dropout({ rate: 0.3, seed: 7 });
    const b = dropout({ rate: 0.3, seed: 7 });
    const c = dropout({ rate: 0.3, seed: 8 });
    const [a1, a2] = [train(a), train(a)];
    expect(a1).not.toEqual(a2);
    expect(train(b)).toEqual(a1);
    expect(train(b)).toEqual(a2);
    expect(train(c)).not.toEqual(a1);
  });

  test('keeps 1 - rate of the values, scaled by 1 / (1 - rate); the identity at inference', () => {
    const rate = 0.2;
    const mask = dropoutMask(200000, rate, 1, 0);
    const kept = mask.filter((v) => v !== 0);
    // binomial: 200,000 draws at p = 0.8 have a standard deviation of ~179 kept values
    expect(Math.abs(kept.length - 160000)).toBeLessThan(1000);
    expect(new Set(kept)).toEqual(new Set([Math.fround(1 / (1 - rate))]));
    const layer = dropout({ rate, seed: 1 });
    expect(Array.from((layer.apply(x) as tf.Tensor).dataSync())).toEqual(Array.from(x.dataSync()));
  });

  test('the gradient is the mask', () => {
    const layer = dropout({ rate: 0.5, seed: 2 });
    const v = tf.randomNormal([3, 40], 0, 1, 'float32', 1);
    let out: tf.Tensor | undefined;
    const g = tf.grad((t: tf.Tensor) => {
      out = tf.keep(layer.apply(t, { training: true }) as tf.Tensor);
      return tf.sum(out);
    })(v);
    const mask = dropoutMask(120, 0.5, 2, 0);
    expect(Array.from(g.dataSync())).toEqual(Array.from(mask));
    expect(Math.max(...Array.from(tf.abs(tf.sub(out!, tf.mul(v, tf.tensor(mask, [3, 40])))).dataSync()))).toBe(0);
  });

  test('a layer rebuilt from its saved config goes on with the stream where it stopped', () => {
    const layer = dropout({ rate: 0.4, seed: 5 });
    train(layer);
    train(layer);
    const restored = Dropout.fromConfig(Dropout, layer.getConfig()) as Dropout;
    expect(train(restored)).toEqual(train(layer));
    expect(() => dropout({ rate: 1 })).toThrow(/rate must be in \[0, 1\)/);
  });
});
