import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import { CHECKPOINT_FORMAT, CheckpointMeta, loadCheckpoint, saveCheckpoint } from '../src/core/checkpoint';
import { buildModel, inputTensor, targetTensor } from '../src/tasks/nmt';
import { generateDates } from '../src/tasks/nmt/dates';

beforeAll(() => initBackend('wasm'));

const meta = (epoch: number): CheckpointMeta => ({
  format: CHECKPOINT_FORMAT,
  task: 'nmt',
  epoch,
  seed: 1,
  hyperparameters: { arch: 'course' },
  vocabularies: { machine: ['0', '1'] },
  history: [],
  trainSeconds: 0,
  savedAt: new Date().toISOString(),
  backend: 'wasm',
});

function trainedModel() {
  const model = buildModel('course', 3);
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  return model;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-ck-'));
const pairs = generateDates(16, 9);
const x = () => inputTensor(pairs.map((p) => p.human));
const y = () => targetTensor(pairs.map((p) => p.iso));

test('save → load gives the same predictions, metadata and optimizer state', async () => {
  const dir = path.join(tmp(), 'checkpoint');
  const model = trainedModel();
  await model.trainOnBatch(x(), y());
  await saveCheckpoint(dir, model, meta(1));
  expect(fs.readdirSync(dir).sort()).toEqual(['model.json', 'seqlab.json', 'weights.bin']);
  expect(fs.readdirSync(path.dirname(dir))).toEqual(['checkpoint']); // no temp folder left behind

  const { model: loaded, meta: m } = await loadCheckpoint(dir, 'nmt');
  expect(m.epoch).toBe(1);
  const a = (model.predict(x()) as tf.Tensor).dataSync();
  const b = (loaded.predict(x()) as tf.Tensor).dataSync();
  expect(Array.from(b)).toEqual(Array.from(a));

  // the restored Adam state makes the next step identical to the original's
  const la = await model.trainOnBatch(x(), y());
  const lb = await loaded.trainOnBatch(x(), y());
  expect(lb).toBeCloseTo(la as number, 5);
  const wa = (model.predict(x()) as tf.Tensor).dataSync();
  const wb = (loaded.predict(x()) as tf.Tensor).dataSync();
  wa.forEach((v, i) => expect(wb[i]).toBeCloseTo(v, 5));
});

test('saving again replaces the checkpoint whole', async () => {
  const dir = path.join(tmp(), 'checkpoint');
  const model = trainedModel();
  await saveCheckpoint(dir, model, meta(1));
  await saveCheckpoint(dir, model, meta(2));
  expect((await loadCheckpoint(dir, 'nmt')).meta.epoch).toBe(2);
  expect(fs.readdirSync(path.dirname(dir))).toEqual(['checkpoint']);
});

describe('damaged checkpoints give one clear message', () => {
  let dir: string;
  beforeEach(async () => {
    dir = path.join(tmp(), 'checkpoint');
    await saveCheckpoint(dir, trainedModel(), meta(1));
  });

  test('missing folder', async () => {
    await expect(loadCheckpoint(path.join(dir, 'nope'), 'nmt')).rejects.toThrow(/no checkpoint at .*train one first with 'seqlab train nmt'/);
  });
  test('missing weights', async () => {
    fs.rmSync(path.join(dir, 'weights.bin'));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/incomplete: weights.bin is missing/);
  });
  test('truncated weights', async () => {
    const w = fs.readFileSync(path.join(dir, 'weights.bin'));
    fs.writeFileSync(path.join(dir, 'weights.bin'), w.subarray(0, 1000));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/corrupt: weights.bin has 1000 bytes/);
  });
  test('model.json that is not JSON', async () => {
    fs.writeFileSync(path.join(dir, 'model.json'), '{"modelTop');
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/corrupt: model.json is not valid JSON/);
  });
  test('seqlab.json missing or of another task', async () => {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'seqlab.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'seqlab.json'), JSON.stringify({ ...m, task: 'dinos' }));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/for task 'dinos', not 'nmt'/);
    fs.rmSync(path.join(dir, 'seqlab.json'));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/incomplete: seqlab.json is missing/);
  });
  test('a model topology that cannot be rebuilt', async () => {
    const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    mj.modelTopology.config.layers[1].class_name = 'NoSuchLayer';
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(mj));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/corrupt: the model .* could not be rebuilt/);
  });
});
