import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { gru, gruSequence, gruStep } from '../src/models/recurrent';

/**
 * The GRU (Keras reset_after=true) checked three independent ways: against the same equations
 * stepped one op at a time under tfjs autodiff, against finite differences, and against
 * tf.layers.gru (reset_after=false) where the two layouts compute the same thing.
 */
describe.each(['wasm', 'cpu'] as const)('GRU on %s', (backend) => {
  beforeAll(() => initBackend(backend));
  const [T, B, n] = [6, 3, 4];
  const inputs = () => ({
    projected: tf.randomNormal([T, B, 3 * n], 0, 1, 'float32', 1) as tf.Tensor3D,
    u: tf.randomNormal([n, 3 * n], 0, 0.6, 'float32', 2) as tf.Tensor2D,
    b: tf.randomNormal([3 * n], 0, 0.5, 'float32', 3) as tf.Tensor1D,
    h0: tf.randomNormal([B, n], 0, 0.5, 'float32', 4) as tf.Tensor2D,
  });
  const stepped = (p: tf.Tensor, u: tf.Tensor, b: tf.Tensor, h0: tf.Tensor) => {
    let h = h0;
    const hs = tf.unstack(p).map((xp) => (h = gruStep(xp, h, u, b)));
    return tf.stack(hs);
  };
  const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];

  test('the sequence op computes what the stepped equations compute', () => {
    const { projected, u, b, h0 } = inputs();
    expect(maxDiff(gruSequence(projected, u, b, h0), stepped(projected, u, b, h0))).toBeLessThan(1e-5);
  });

  test('its hand-written backward pass gives the gradients autodiff gives, for every input', () => {
    const { projected, u, b, h0 } = inputs();
    const target = tf.randomNormal([T, B, n], 0, 1, 'float32', 5);
    const f = (op: typeof stepped) => (p: tf.Tensor, uu: tf.Tensor, bb: tf.Tensor, hh: tf.Tensor) => tf.sum(tf.mul(op(p, uu, bb, hh), target));
    const ours = tf.grads(f((p, uu, bb, hh) => gruSequence(p as tf.Tensor3D, uu as tf.Tensor2D, bb as tf.Tensor1D, hh as tf.Tensor2D)))([projected, u, b, h0]);
    const ref = tf.grads(f(stepped))([projected, u, b, h0]);
    ours.forEach((g, k) => {
      expect(g.shape).toEqual(ref[k].shape);
      expect(maxDiff(g, ref[k])).toBeLessThan(1e-4);
    });
  });

  test('and agrees with finite differences', () => {
    const { projected, u, b, h0 } = inputs();
    const target = tf.randomNormal([T, B, n], 0, 1, 'float32', 6);
    const loss = (p: tf.Tensor, uu: tf.Tensor) => tf.sum(tf.mul(gruSequence(p as tf.Tensor3D, uu as tf.Tensor2D, b, h0), target));
    const [gp, gu] = tf.grads(loss)([projected, u]);
    const eps = 1e-2;
    const numeric = (x: tf.Tensor, at: number, other: (v: tf.Tensor) => number) => {
      const v = x.dataSync().slice();
      v[at] += eps;
      const up = other(tf.tensor(v, x.shape));
      v[at] -= 2 * eps;
      const down = other(tf.tensor(v, x.shape));
      return (up - down) / (2 * eps);
    };
    for (const at of [0, 7, 40, 71]) {
      const want = numeric(projected, at, (p) => loss(p, u).dataSync()[0]);
      expect(Math.abs(gp.dataSync()[at] - want)).toBeLessThan(2e-2 * Math.max(1, Math.abs(want)));
    }
    for (const at of [0, 13, 30, 47]) {
      const want = numeric(u, at, (uu) => loss(projected, uu).dataSync()[0]);
      expect(Math.abs(gu.dataSync()[at] - want)).toBeLessThan(2e-2 * Math.max(1, Math.abs(want)));
    }
  });

  test('matches tf.layers.gru (reset_after=false) where the layouts meet: no recurrent candidate weights', () => {
    const x = tf.randomNormal([B, T, 5], 0, 1, 'float32', 7);
    const ours = gru({ units: n, returnSequences: true, seed: 8 });
    ours.apply(x);
    const [k, rk, bias] = ours.getWeights();
    const mask = tf.concat([tf.ones([n, 2 * n]), tf.zeros([n, n])], 1);
    const inputBias = tf.randomNormal([3 * n], 0, 0.5, 'float32', 9);
    ours.setWeights([k, tf.mul(rk, mask), tf.stack([inputBias, tf.zeros([3 * n])])]);
    const ref = tf.layers.gru({ units: n, returnSequences: true, recurrentActivation: 'sigmoid' });
    ref.apply(x);
    ref.setWeights([k, tf.mul(rk, mask), inputBias]);
    expect(bias.shape).toEqual([2, 3 * n]);
    expect(maxDiff(ours.apply(x) as tf.Tensor, ref.apply(x) as tf.Tensor)).toBeLessThan(1e-5);
  });

  test('the layer as one op (projection, recursion, every gradient in the kernels) equals the layer op by op', () => {
    const x = tf.randomNormal([B, T, 5], 0, 1, 'float32', 12);
    const h0 = tf.randomNormal([B, n], 0, 0.5, 'float32', 13);
    const target = tf.randomNormal([B, T, n], 0, 1, 'float32', 14);
    const layer = gru({ units: n, returnSequences: true, seed: 15 });
    layer.apply([x, h0]);
    const [k, rk] = layer.getWeights();
    layer.setWeights([k, rk, tf.randomNormal([2, 3 * n], 0, 0.5, 'float32', 16)]); // both biases non-zero
    const run = () => {
      const f = () => tf.sum(tf.mul(layer.apply([x, h0]) as tf.Tensor, target)) as tf.Scalar;
      const { value, grads } = tf.variableGrads(f, layer.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
      const [dx, dh0] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layer.apply([a, b]) as tf.Tensor, target)))([x, h0]);
      return [value, ...Object.values(grads), dx, dh0];
    };
    const fused = run();
    process.env.SEQLAB_KERNELS = '0';
    let opByOp: tf.Tensor[];
    try {
      opByOp = run();
    } finally {
      delete process.env.SEQLAB_KERNELS;
    }
    expect(fused).toHaveLength(6); // loss, kernel, recurrent kernel, biases, x, h0
    fused.forEach((g, i) => {
      expect(g.shape).toEqual(opByOp[i].shape);
      expect(maxDiff(g, opByOp[i])).toBeLessThan(1e-4);
    });
  });

  test('state in/out: two halves with the state carried equal the whole sequence', () => {
    const x = tf.randomNormal([B, T, 5], 0, 1, 'float32', 10);
    const layer = gru({ units: n, returnSequences: true, seed: 11 });
    const whole = layer.apply(x) as tf.Tensor;
    const first = layer.apply(tf.slice(x, [0, 0, 0], [B, 2, 5])) as tf.Tensor;
    const carried = tf.reshape(tf.slice(first, [0, 1, 0], [B, 1, n]), [B, n]);
    const second = layer.apply([tf.slice(x, [0, 2, 0], [B, T - 2, 5]), carried]) as tf.Tensor;
    expect(maxDiff(tf.concat([first, second], 1), whole)).toBeLessThan(1e-5);
  });
});

// orthogonal initialisation of a 128 x 384 kernel takes ~45 s on the cpu backend: wasm only
describe('GRU size', () => {
  beforeAll(() => initBackend('wasm'));
  test('Keras parameter count: GRU(128) on 196 features has 125,184 weights', () => {
    const layer = gru({ units: 128, returnSequences: true });
    layer.apply(tf.zeros([1, 2, 196]));
    expect(layer.countParams()).toBe(125184);
  });
});
