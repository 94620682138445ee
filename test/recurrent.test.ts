import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { bidirectionalLstm, lstm } from '../src/models/recurrent';

/** Our fused layers must compute exactly what tfjs-layers' LSTM computes with the same weights
 * (with sigmoid gates, as Keras >= 2.3; tfjs-layers defaults to the older hard sigmoid). */
describe.each([
  ['wasm', 'seqlab\'s kernels'],
  ['cpu', 'seqlab\'s kernels'],
  ['wasm', 'op by op (SEQLAB_KERNELS=0)'],
] as const)('recurrent layers on %s, %s', (backend, path) => {
  beforeAll(async () => {
    await initBackend(backend);
    if (path.startsWith('op')) process.env.SEQLAB_KERNELS = '0';
  });
  afterAll(() => {
    delete process.env.SEQLAB_KERNELS;
  });
  const x = () => tf.randomNormal([3, 7, 5], 0, 1, 'float32', 11);

  test.each([true, false])('Lstm matches tf.layers.lstm (returnSequences %s)', (returnSequences) => {
    const ours = lstm({ units: 4, returnSequences, seed: 3 });
    const input = x();
    const got = ours.apply(input) as tf.Tensor;
    const ref = tf.layers.lstm({ units: 4, returnSequences, recurrentActivation: 'sigmoid' });
    ref.apply(input);
    ref.setWeights(ours.getWeights());
    const want = ref.apply(input) as tf.Tensor;
    expect(got.shape).toEqual(want.shape);
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-5);
  });

  test.each([true, false])('BidirectionalLstm matches tf.layers.bidirectional(lstm) (returnSequences %s)', (returnSequences) => {
    const ours = bidirectionalLstm({ units: 4, returnSequences, seed: 5 });
    const input = x();
    const got = ours.apply(input) as tf.Tensor;
    const ref = tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 4, returnSequences, recurrentActivation: 'sigmoid' }) as tf.RNN, mergeMode: 'concat' });
    ref.apply(input);
    ref.setWeights(ours.getWeights());
    const want = ref.apply(input) as tf.Tensor;
    expect(got.shape).toEqual(want.shape);
    expect(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]).toBeLessThan(1e-5);
  });

  test('Lstm.step, state in and out, walks the same states as the whole sequence', () => {
    const ours = lstm({ units: 4, returnSequences: true, seed: 3 });
    const input = x();
    const all = (ours.apply(input) as tf.Tensor).arraySync() as number[][][];
    let state = { h: tf.zeros([3, 4]) as tf.Tensor2D, c: tf.zeros([3, 4]) as tf.Tensor2D };
    for (let t = 0; t < 7; t++) {
      state = ours.step(tf.squeeze(tf.slice(input, [0, t, 0], [3, 1, 5]), [1]) as tf.Tensor2D, state);
      const h = state.h.arraySync();
      for (let b = 0; b < 3; b++) for (let k = 0; k < 4; k++) expect(h[b][k]).toBeCloseTo(all[b][t][k], 5);
    }
  });

  test('weights start as Keras does: forget-gate bias 1, the rest 0', () => {
    const layer = lstm({ units: 3 });
    layer.apply(x());
    const bias = layer.getWeights()[2].arraySync() as number[];
    expect(bias).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  });

  test('gradients of the bidirectional layer match tfjs-layers\'', () => {
    const ours = bidirectionalLstm({ units: 3, returnSequences: true, seed: 2 });
    const input = x();
    ours.apply(input);
    const ref = tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.RNN });
    ref.apply(input);
    ref.setWeights(ours.getWeights());
    const gOurs = tf.grad((v: tf.Tensor) => tf.sum(tf.square(ours.apply(v) as tf.Tensor)))(input);
    const gRef = tf.grad((v: tf.Tensor) => tf.sum(tf.square(ref.apply(v) as tf.Tensor)))(input);
    expect(tf.max(tf.abs(tf.sub(gOurs, gRef))).dataSync()[0]).toBeLessThan(1e-4);
  });

  test.each([
    ['Lstm', () => lstm({ units: 3, returnSequences: true, seed: 4 }), () => tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' })],
    ['Lstm (last state)', () => lstm({ units: 3, seed: 4 }), () => tf.layers.lstm({ units: 3, recurrentActivation: 'sigmoid' })],
    [
      'BidirectionalLstm',
      () => bidirectionalLstm({ units: 3, returnSequences: true, seed: 6 }),
      () => tf.layers.bidirectional({ layer: tf.layers.lstm({ units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }) as tf.RNN }),
    ],
  ] as const)('every weight gradient of %s matches tfjs-layers\'', (_name, makeOurs, makeRef) => {
    const ours = makeOurs();
    const ref = makeRef();
    const input = x();
    ours.apply(input);
    ref.apply(input);
    ref.setWeights(ours.getWeights());
    const target = tf.randomNormal((ours.apply(input) as tf.Tensor).shape, 0, 1, 'float32', 3);
    const loss = (layer: tf.layers.Layer) => () => tf.sum(tf.mul(layer.apply(input) as tf.Tensor, target)) as tf.Scalar;
    const gOurs = tf.variableGrads(loss(ours), ours.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
    const gRef = tf.variableGrads(loss(ref), ref.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val));
    const a = Object.values(gOurs.grads);
    const b = Object.values(gRef.grads);
    expect(a).toHaveLength(b.length);
    a.forEach((g, k) => expect(tf.max(tf.abs(tf.sub(g, b[k]))).dataSync()[0]).toBeLessThan(1e-4));
  });
});
