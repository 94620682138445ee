import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { NonFiniteLossError } from '../src/core/errors';
import { formatSeconds, Reporter } from '../src/core/progress';
import { StepValues, trainLoop, trainStep } from '../src/core/train';

beforeAll(() => initBackend('wasm'));

function tinyModel() {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'zeros' })] });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
  return model;
}
const batch = (bad = false) => ({ xs: tf.tensor2d([[1, 2], [3, bad ? NaN : 4]]), ys: tf.tensor2d([[1], [2]]) });

test('runs the epochs, validates, saves after each, and lowers the loss', async () => {
  const saves: number[] = [];
  const lrs: number[] = [];
  const model = tinyModel();
  const result = await trainLoop({
    model,
    epochs: 4,
    batchesPerEpoch: 3,
    batch: () => batch(),
    learningRate: (e) => {
      lrs.push(e);
      return 0.02 / e;
    },
    validate: () => ({ val_metric: 0.5 }),
    save: async (epoch) => {
      saves.push(epoch);
    },
    reporter: new Reporter('quiet'),
  });
  expect(result.status).toBe('done');
  expect(saves).toEqual([1, 2, 3, 4]);
  expect(lrs).toEqual([1, 2, 3, 4]);
  expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
  expect(result.history[3].loss).toBeLessThan(result.history[0].loss);
  expect(result.history[0].val_metric).toBe(0.5);
  expect(tf.memory().numTensors).toBeLessThan(50); // batches are disposed
});

test('averageLast: the final weights are the mean of the last epochs\' weights, validated and saved', async () => {
  const model = tinyModel();
  const seen: number[][] = []; // the weights each validation saw
  const saves: number[][] = [];
  const before = tf.memory().numTensors;
  const result = await trainLoop({
    model,
    epochs: 4,
    batchesPerEpoch: 2,
    batch: () => batch(),
    validate: () => {
      const w = Array.from(model.getWeights()[0].dataSync());
      seen.push(w);
      return { w0: w[0] };
    },
    save: async () => {
      saves.push(Array.from(model.getWeights()[0].dataSync()));
    },
    averageLast: 2,
    reporter: new Reporter('quiet'),
  });
  expect(seen).toHaveLength(5); // epochs 1-4, then the average
  const mean = seen[2].map((w, i) => (w + seen[3][i]) / 2);
  expect(seen[3]).not.toEqual(seen[2]);
  seen[4].forEach((w, i) => expect(w).toBeCloseTo(mean[i], 4));
  expect(saves).toHaveLength(4); // epochs 1-3, then the averaged model as epoch 4
  saves[3].forEach((w, i) => expect(w).toBeCloseTo(mean[i], 4));
  expect(result.averaged).toEqual({ w0: seen[4][0] });
  expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2); // only the model's own weights may be new
});

test('resumes from a completed epoch', async () => {
  const seen: number[] = [];
  const result = await trainLoop({
    model: tinyModel(),
    epochs: 3,
    initialEpoch: 2,
    history: [{ epoch: 1, seconds: 1, loss: 1 }, { epoch: 2, seconds: 1, loss: 0.5 }],
    batchesPerEpoch: 2,
    batch: (e) => {
      seen.push(e);
      return batch();
    },
    save: async () => {},
    reporter: new Reporter('quiet'),
  });
  expect(seen).toEqual([3, 3]);
  expect(result.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
});

test('a NaN loss stops training with a clear error and saves nothing', async () => {
  const saves: number[] = [];
  const run = trainLoop({
    model: tinyModel(),
    epochs: 3,
    batchesPerEpoch: 2,
    batch: (e, i) => batch(e === 2 && i === 1),
    save: async (epoch) => {
      saves.push(epoch);
    },
    reporter: new Reporter('quiet'),
  });
  await expect(run).rejects.toThrow(NonFiniteLossError);
  await expect(run).rejects.toThrow(/NaN\/Infinity at epoch 2, batch 2.*last good checkpoint is kept/);
  expect(saves).toEqual([1]);
});

test('Ctrl-C saves a resumable checkpoint after the current batch', async () => {
  const saves: { epoch: number; interrupted?: { epoch: number; batch: number } }[] = [];
  const result = await trainLoop({
    model: tinyModel(),
    epochs: 5,
    batchesPerEpoch: 4,
    batch: (e, i) => {
      if (e === 2 && i === 1) process.emit('SIGINT', 'SIGINT'); // the real signal is tested on the CLI (cli.test.ts)
      return batch();
    },
    save: async (epoch, _h, interrupted) => {
      saves.push({ epoch, interrupted });
    },
    reporter: new Reporter('quiet'),
  });
  expect(result.status).toBe('interrupted');
  expect(result.epoch).toBe(1);
  expect(saves).toMatchObject([{ epoch: 1, interrupted: undefined }, { epoch: 1, interrupted: { epoch: 2, batch: 2 } }]);
  expect(saves[1].interrupted!.sums).toHaveLength(1); // the epoch's running loss so far, for the resumed run
  expect(process.listenerCount('SIGINT')).toBe(0); // the handler is removed afterwards
});

test('a run resumed part-way through an epoch trains only the batches it had not, and keeps the epoch loss whole', async () => {
  const seen: string[] = [];
  const result = await trainLoop({
    model: tinyModel(),
    epochs: 2,
    initialEpoch: 1,
    resumeAt: { epoch: 2, batch: 3, sums: [300] },
    batchesPerEpoch: 4,
    batch: (e, i) => {
      seen.push(`${e}.${i}`);
      return batch();
    },
    save: async () => {},
    reporter: new Reporter('quiet'),
  });
  expect(seen).toEqual(['2.3']);
  expect(result.history.map((h) => h.epoch)).toEqual([2]);
  expect(result.history[0].loss).toBeGreaterThan(300 / 4); // the three earlier batches' sum counts
});

test('beforeEpoch runs before each epoch\'s batches, from the epoch a resumed run starts at', async () => {
  const calls: string[] = [];
  await trainLoop({
    model: tinyModel(),
    epochs: 3,
    initialEpoch: 1,
    batchesPerEpoch: 2,
    beforeEpoch: async (epoch) => {
      await new Promise((r) => setTimeout(r, 1));
      calls.push(`before ${epoch}`);
    },
    batch: (epoch, i) => {
      calls.push(`batch ${epoch}.${i}`);
      return batch();
    },
    save: async () => undefined,
    reporter: new Reporter('quiet'),
  });
  expect(calls).toEqual(['before 2', 'batch 2.0', 'batch 2.1', 'before 3', 'batch 3.0', 'batch 3.1']);
});

test('durations read as a person writes them: no "1m60s" when the seconds round up', () => {
  expect(formatSeconds(4.26)).toBe('4.3s');
  expect(formatSeconds(9.96)).toBe('10s');
  expect(formatSeconds(59.6)).toBe('1m00s');
  expect(formatSeconds(119.6)).toBe('2m00s');
  expect(formatSeconds(125)).toBe('2m05s');
  expect(formatSeconds(3599.7)).toBe('1h00m');
  expect(formatSeconds(3725)).toBe('1h02m');
  expect(formatSeconds(NaN)).toBe('?');
});

test('trainStep trains as trainOnBatch does: the same loss and metrics, the same weights after', async () => {
  const make = () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2], activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })] });
    model.compile({ optimizer: tf.train.adam(0.05), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    return model;
  };
  const [a, b] = [make(), make()];
  const xs = tf.tensor2d([[1, 2], [3, -1], [0.5, 0.2]]);
  const ys = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  for (let i = 0; i < 3; i++) {
    const expected = (await a.trainOnBatch(xs, ys)) as number[];
    const out = await trainStep(b, xs, ys);
    const got = await Promise.all(out.map(async (t) => (await t.data())[0]));
    tf.dispose(out);
    expect(got).toHaveLength(2);
    got.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 6));
  }
  const [wa, wb] = [a.getWeights(), b.getWeights()];
  for (let k = 0; k < wa.length; k++) expect(Array.from(await wb[k].data())).toEqual(Array.from(await wa[k].data()));
  tf.dispose([xs, ys]);
});

test('StepValues returns every step once, in order, a group behind when grouped, and frees what it took', async () => {
  const before = tf.memory().numTensors;
  const values = new StepValues(3);
  const returned: number[][] = [];
  const seen: number[] = [];
  for (let i = 0; i < 7; i++) {
    const rows = await values.add(i, [tf.scalar(i), tf.scalar(10 * i)]);
    returned.push(rows.map((r) => r.index));
    for (const r of rows) {
      seen.push(r.index);
      expect(r.values).toEqual([r.index, 10 * r.index]);
    }
  }
  // groups 0-2 and 3-5 are read when complete; the first is returned when the second is complete
  expect(returned).toEqual([[], [], [], [], [], [0, 1, 2], []]);
  const rest = await values.drain();
  expect(rest.map((r) => r.index)).toEqual([3, 4, 5, 6]);
  expect(rest[3].values).toEqual([6, 60]);
  values.dispose();
  expect(tf.memory().numTensors).toBe(before);
  // one at a time (the CPU backends' default): each step is returned as it is added
  const single = new StepValues(1);
  expect((await single.add(0, [tf.scalar(5)])).map((r) => r.values)).toEqual([[5]]);
  expect(await single.drain()).toEqual([]);
  expect(tf.memory().numTensors).toBe(before);
});
