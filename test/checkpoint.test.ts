import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/core/backend';
import * as files from '../src/core/files';
import { CHECKPOINT_FORMAT, CheckpointMeta, loadCheckpoint, partnerDir, prepareCheckpointDir, removePartner, saveCheckpoint } from '../src/core/checkpoint';
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
  expect(fs.readdirSync(dir).sort()).toEqual(['model-1.json', 'seqlab.json', 'weights-1.bin']);
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
  expect(fs.readdirSync(dir).sort()).toEqual(['model-2.json', 'seqlab.json', 'weights-2.bin']); // the old generation is gone
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
    fs.rmSync(path.join(dir, 'weights-1.bin'));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/incomplete: weights-1.bin is missing/);
  });
  test('truncated weights', async () => {
    const w = fs.readFileSync(path.join(dir, 'weights-1.bin'));
    fs.writeFileSync(path.join(dir, 'weights-1.bin'), w.subarray(0, 1000));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/corrupt: weights-1.bin has 1000 bytes/);
  });
  test('weights of the right size but other bytes (random, or NaN) fail the SHA-256 check', async () => {
    const file = path.join(dir, 'weights-1.bin');
    const n = fs.statSync(file).size;
    fs.writeFileSync(file, Buffer.from(Array.from({ length: n }, (_, i) => (i * 7919 + 13) % 256)));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/corrupt: weights-1.bin does not match the SHA-256 recorded in seqlab.json/);
    fs.writeFileSync(file, Buffer.from(new Float32Array(n / 4).fill(NaN).buffer));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/does not match the SHA-256/);
  });
  test('non-finite weights are refused even when the checksum agrees', async () => {
    const file = path.join(dir, 'weights-1.bin');
    const w = new Float32Array(fs.readFileSync(file).buffer.slice(0));
    w[5] = Infinity;
    fs.writeFileSync(file, Buffer.from(w.buffer));
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'seqlab.json'), 'utf8'));
    m.files.weightsSha256 = crypto.createHash('sha256').update(Buffer.from(w.buffer)).digest('hex');
    fs.writeFileSync(path.join(dir, 'seqlab.json'), JSON.stringify(m));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/corrupt: weights-1.bin holds a weight that is NaN or infinite \(number 5\)/);
  });
  test('model json that is not JSON', async () => {
    fs.writeFileSync(path.join(dir, 'model-1.json'), '{"modelTop');
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/corrupt: model-1.json is not valid JSON/);
  });
  test('seqlab.json missing or of another task', async () => {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'seqlab.json'), 'utf8'));
    fs.writeFileSync(path.join(dir, 'seqlab.json'), JSON.stringify({ ...m, task: 'dinos' }));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/for task 'dinos', not 'nmt'/);
    fs.rmSync(path.join(dir, 'seqlab.json'));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/incomplete: seqlab.json is missing/);
  });
  test('a model topology that cannot be rebuilt', async () => {
    const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model-1.json'), 'utf8'));
    mj.modelTopology.config.layers[1].class_name = 'NoSuchLayer';
    fs.writeFileSync(path.join(dir, 'model-1.json'), JSON.stringify(mj));
    await expect(loadCheckpoint(dir, 'nmt')).rejects.toThrow(/corrupt: the model .* could not be rebuilt/);
  });
});

describe('a save never loses anything', () => {
  test("a folder holding a user's files is refused before training, and the files stay", () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'thesis.txt'), 'x');
    fs.mkdirSync(path.join(dir, 'chapters'));
    expect(() => prepareCheckpointDir(dir, 'nmt')).toThrow(/holds files that are not a seqlab checkpoint \((thesis.txt, chapters\/|chapters\/, thesis.txt)\)/);
    expect(fs.readdirSync(dir).sort()).toEqual(['chapters', 'thesis.txt']);
    // a tfjs model of the user's own (model.json without seqlab.json) is not seqlab's either
    const other = tmp();
    fs.writeFileSync(path.join(other, 'model.json'), '{}');
    expect(() => prepareCheckpointDir(other, 'nmt')).toThrow(/not a seqlab checkpoint \(model.json\)/);
  });

  test("another task's checkpoint is replaced only when asked", async () => {
    const dir = path.join(tmp(), 'checkpoint');
    await saveCheckpoint(dir, trainedModel(), { ...meta(1), task: 'dinos' });
    expect(() => prepareCheckpointDir(dir, 'nmt')).toThrow(/holds a checkpoint of task 'dinos': give --overwrite/);
    expect(prepareCheckpointDir(dir, 'nmt', { overwrite: true })?.task).toBe('dinos');
    expect(prepareCheckpointDir(dir, 'dinos')?.epoch).toBe(1); // its own task: fine
  });

  test("a partner checkpoint in a sub-folder is the checkpoint's own; a sub-folder of anything else is not, and stays", async () => {
    const dir = path.join(tmp(), 'checkpoint');
    await saveCheckpoint(dir, trainedModel(), meta(1));
    await saveCheckpoint(partnerDir(dir, 'embedding'), trainedModel(), meta(2));
    expect(prepareCheckpointDir(dir, 'nmt')?.epoch).toBe(1);
    // another task's checkpoint in the sub-folder is not this one's partner
    await saveCheckpoint(partnerDir(dir, 'other'), trainedModel(), { ...meta(1), task: 'dinos' });
    expect(() => prepareCheckpointDir(dir, 'nmt')).toThrow(/not a seqlab checkpoint \(other\/\)/);
    fs.rmSync(partnerDir(dir, 'other'), { recursive: true });
    // a user's file inside the partner's folder: the folder is not seqlab's, and removing the partner refuses
    fs.writeFileSync(path.join(partnerDir(dir, 'embedding'), 'notes.txt'), 'mine');
    expect(() => prepareCheckpointDir(dir, 'nmt')).toThrow(/not a seqlab checkpoint \(embedding\/\)/);
    expect(() => removePartner(dir, 'embedding')).toThrow(/holds files that are not a seqlab checkpoint/);
    expect(fs.readFileSync(path.join(partnerDir(dir, 'embedding'), 'notes.txt'), 'utf8')).toBe('mine');
    fs.rmSync(path.join(partnerDir(dir, 'embedding'), 'notes.txt'));
    // removing the partner removes its folder, and only it
    expect(removePartner(dir, 'embedding')).toBe(true);
    expect(removePartner(dir, 'embedding')).toBe(false);
    expect(fs.readdirSync(dir).sort()).toEqual(['model-1.json', 'seqlab.json', 'weights-1.bin']);
    expect((await loadCheckpoint(dir, 'nmt')).meta.epoch).toBe(1);
  });

  test('a file where the folder should be, or a path through a file, is named before any work', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'f'), '');
    expect(() => prepareCheckpointDir(path.join(dir, 'f'), 'nmt')).toThrow(/cannot use .*f as a checkpoint folder: it is a file/);
    expect(() => prepareCheckpointDir(path.join(dir, 'f', 'ck'), 'nmt')).toThrow(/cannot use checkpoint folder .*f\/ck: a part of the path is a file, not a folder \(ENOTDIR\)/);
  });

  test("files a user puts in the folder during training survive the next save", async () => {
    const dir = path.join(tmp(), 'checkpoint');
    const model = trainedModel();
    await saveCheckpoint(dir, model, meta(1));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    await saveCheckpoint(dir, model, meta(2));
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
  });

  test('a save that fails part-way (full disk, crash before the commit) leaves the old checkpoint whole; the next save clears the debris', async () => {
    const dir = path.join(tmp(), 'checkpoint');
    const model = trainedModel();
    await saveCheckpoint(dir, model, meta(1));
    const write = jest.spyOn(files, 'writeFileSynced').mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
    });
    await expect(saveCheckpoint(dir, model, meta(2))).rejects.toThrow(/cannot save the checkpoint in .*: no space left on the device \(ENOSPC\); the previous checkpoint, if any, is kept/);
    write.mockRestore();
    expect((await loadCheckpoint(dir, 'nmt')).meta.epoch).toBe(1);
    expect(fs.readdirSync(dir).sort()).toEqual(['model-1.json', 'seqlab.json', 'weights-1.bin']);

    // killed after writing the new files but before the commit: debris of a dead process
    fs.writeFileSync(path.join(dir, 'weights-2.bin'), 'half');
    fs.writeFileSync(path.join(dir, '.seqlab.json.tmp-999999'), '{');
    fs.mkdirSync(`${dir}.old-999999`); // left by seqlab 0.1's rename-based save
    fs.writeFileSync(path.join(`${dir}.old-999999`, 'seqlab.json'), '{}');
    expect((await loadCheckpoint(dir, 'nmt')).meta.epoch).toBe(1); // a reader still finds the old one
    await saveCheckpoint(dir, model, meta(2));
    expect((await loadCheckpoint(dir, 'nmt')).meta.epoch).toBe(2);
    expect(fs.readdirSync(dir).sort()).toEqual(['model-3.json', 'seqlab.json', 'weights-3.bin']);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['checkpoint']);
  });

  test('checkpoints written before checksums (model.json + weights.bin) still load', async () => {
    const dir = path.join(tmp(), 'checkpoint');
    await saveCheckpoint(dir, trainedModel(), meta(1));
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'seqlab.json'), 'utf8'));
    const mj = JSON.parse(fs.readFileSync(path.join(dir, 'model-1.json'), 'utf8'));
    mj.weightsManifest[0].paths = ['weights.bin'];
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(mj));
    fs.renameSync(path.join(dir, 'weights-1.bin'), path.join(dir, 'weights.bin'));
    fs.rmSync(path.join(dir, 'model-1.json'));
    delete m.files;
    fs.writeFileSync(path.join(dir, 'seqlab.json'), JSON.stringify(m));
    expect((await loadCheckpoint(dir, 'nmt')).meta.epoch).toBe(1);
  });
});
