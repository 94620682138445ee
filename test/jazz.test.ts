import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseMidi } from 'midi-file';
import { Rng } from '../src/core/rng';
import { generateCorpus } from '../src/music/corpus';
import { readMidi, writeMidi } from '../src/music/midi';
import { chordsFromPart, leadFromMidi, progression, splitPieces, windowBatch, sequences } from '../src/tasks/jazz/data';
import { EVENTS, INPUT_SIZE } from '../src/music/events';
import { seqlab } from './helpers';
import { initBackend } from '../src/core/backend';
import { NumpyRandom } from '../src/core/numpy-random';
import * as tf from '@tensorflow/tfjs';
import { buildCourseModel, COURSE, courseWindows, sampleTokens } from '../src/tasks/jazz/course';
import { buildJazzModel, sampleEvents } from '../src/tasks/jazz/model';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-jazz-'));

/** A lead sheet as a user's MIDI file: chords as three-note stacks on one track, the melody on another. */
function userMidi(file: string, seed: number, longest = false) {
  const pieces = generateCorpus(longest ? 7 : 1, new Rng(seed));
  const lead = pieces.reduce((a, b) => (b.bars > a.bars ? b : a));
  const chords = lead.chords.flatMap((s) => s.chord.pitches.slice(0, 4).map((pc) => ({ pitch: 48 + pc, start: s.start, duration: s.duration, velocity: 60 })));
  fs.writeFileSync(file, writeMidi({ tempo: 120, timeSignature: [4, 4], parts: [{ name: 'Piano', channel: 0, program: 0, notes: chords }, { name: 'Sax', channel: 1, program: 66, notes: lead.melody }] }));
  return lead;
}

describe('jazz data', () => {
  test('a user\'s MIDI file: melody and chord tracks found, chords recognised from the stacks', () => {
    const file = path.join(dir, 'tune.mid');
    const lead = userMidi(file, 5);
    const got = leadFromMidi(file, { melody: 'auto', chords: 'auto' });
    expect(got.name).toContain('melody: track 1 Sax');
    expect(got.name).toContain('chords: track 0 Piano');
    expect(got.melody.map((n) => n.pitch % 12)).toEqual(lead.melody.map((n) => n.pitch % 12));
    // every written chord is read back at its place (a repeated chord merges with the one before)
    for (const s of lead.chords) {
      const read = got.chords.find((c) => c.start <= s.start && c.start + c.duration >= s.start + s.duration);
      expect(read?.chord.pitches.slice().sort()).toEqual(s.chord.pitches.slice(0, 4).sort());
    }
  });

  test('chords every two beats from what sounds then', () => {
    const spans = chordsFromPart([60, 64, 67].map((p) => ({ pitch: p, start: 0, duration: 4, velocity: 80 })).concat([62, 65, 69, 72].map((p) => ({ pitch: p, start: 4, duration: 2, velocity: 80 }))), 8);
    expect(spans.map((s) => [s.chord.symbol, s.start, s.duration])).toEqual([['C', 0, 4], ['Dm7', 4, 2]]);
  });

  test('progressions: a bar per symbol, or chords sharing a bar between bar lines, repeated to fill', () => {
    expect(progression('Dm7 G7 Cmaj7', 4).map((s) => [s.chord.symbol, s.start, s.duration])).toEqual([['Dm7', 0, 4], ['G7', 4, 4], ['Cmaj7', 8, 4], ['Dm7', 12, 4]]);
    expect(progression('Dm7 G7 | Cmaj7 |', 2).map((s) => [s.chord.symbol, s.start, s.duration])).toEqual([['Dm7', 0, 2], ['G7', 2, 2], ['Cmaj7', 4, 4]]);
  });

  test('held-out pieces are whole pieces; windows start on bar lines with their targets one step ahead', () => {
    const pieces = Array.from({ length: 20 }, (_, i) => i);
    const { train, held } = splitPieces(pieces);
    expect(held).toEqual([9, 19]);
    expect(train.some((p) => held.includes(p))).toBe(false);
    const [lead] = generateCorpus(1, new Rng(2));
    const seqs = sequences(lead, true);
    expect(seqs.length).toBeGreaterThanOrEqual(6); // the keys the melody fits
    const { xs, ys } = windowBatch(seqs, 32, 4, 7);
    const x = xs.arraySync() as number[][][];
    const y = ys.arraySync() as number[][][];
    for (let b = 0; b < 4; b++) for (let t = 1; t < 32; t++) {
      // the event read at t is the target of t - 1
      expect(x[b][t].slice(0, EVENTS)).toEqual(y[b][t - 1]);
      expect(x[b][t]).toHaveLength(INPUT_SIZE);
    }
  });
});

describe('jazz --arch course', () => {
  test('the course\'s windows: starts from NumPy\'s RNG (seed 0), a zero first input, targets one step ahead', () => {
    const values = Array.from({ length: 12 }, (_, i) => `C,0.250,<P${i},m-2>`);
    const tokens = Array.from({ length: 100 }, (_, i) => values[(i * 7) % 12]);
    const { x, y, starts } = courseWindows(tokens, values);
    const rng = new NumpyRandom(0);
    expect(starts).toEqual(Array.from({ length: COURSE.m }, () => rng.interval(100 - COURSE.tx - 1)));
    const V = values.length;
    const at = (a: Float32Array, i: number, t: number) => Array.from(a.subarray((i * COURSE.tx + t) * V, (i * COURSE.tx + t + 1) * V));
    for (const i of [0, 17, 59]) {
      expect(at(x, i, 0).every((v) => v === 0)).toBe(true);
      for (let t = 1; t < COURSE.tx; t++) {
        expect(at(x, i, t)[values.indexOf(tokens[starts[i] + t])]).toBe(1);
        expect(at(y, i, t - 1)).toEqual(at(x, i, t));
      }
      expect(at(y, i, COURSE.tx - 1).every((v) => v === 0)).toBe(true);
    }
  });

  test('djmodel has the course\'s parameter counts: 45,530 at 90 values, 41,678 at 78; the default model its 248,614', async () => {
    await initBackend('wasm');
    expect(buildCourseModel(90, 1).countParams()).toBe(45530);
    expect(buildCourseModel(78, 1).countParams()).toBe(41678);
    // 2 x LSTM(128) on 90 inputs: 4·128·(90+128+1) + 4·128·(128+128+1), softmax over 38 events: 128·38 + 38
    const model = buildJazzModel({ layers: 2, units: 128, dropout: 0.3 }, 1);
    expect(model.countParams()).toBe(248614);
    expect(model.outputs[0].shape).toEqual([null, null, EVENTS]);
  });

  test('sampling one step at a time leaves no tensors behind (either arch)', async () => {
    await initBackend('wasm');
    const events = buildJazzModel({ layers: 2, units: 8, dropout: 0.3 }, 1);
    const course = buildCourseModel(12, 1);
    const values = Array.from({ length: 12 }, (_, i) => `C,0.250,<P${i + 1},m-2>`);
    const before = tf.memory().numTensors;
    expect((await sampleEvents(events, progression('Dm7 G7', 2), 32, 3, 1, 1)).map((e) => e.length)).toEqual([32, 32, 32]);
    expect(await sampleTokens(course, values, 20, 1, 1)).toHaveLength(20);
    expect(tf.memory().numTensors).toBe(before);
  });

  test('trains on a MIDI solo (loss falls), samples MIDI, and eval says there is no held-out set', async () => {
    const file = path.join(dir, 'solo.mid');
    userMidi(file, 21, true);
    const ckc = path.join(dir, 'ck-course');
    const t = await seqlab('train', 'jazz', '--arch', 'course', '--midi', file, '--epochs', '4', '--checkpoint', ckc, '--json');
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const r = JSON.parse(t.out.trim().split('\n').pop()!);
    expect(r.vocabularySize).toBeGreaterThan(5);
    const history = JSON.parse(fs.readFileSync(path.join(ckc, 'seqlab.json'), 'utf8')).history;
    expect(history[3].summed_loss).toBeLessThan(history[0].summed_loss);
    expect(r.loss).toBeCloseTo(COURSE.tx * history[3].loss, 6);
    const s = await seqlab('sample', 'jazz', '--checkpoint', ckc, '--bars', '4', '--out', path.join(dir, 'course-solos'), '--temperature', '0', '--json');
    expect(s.code).toBe(0);
    expect(readMidi(fs.readFileSync(path.join(dir, 'course-solos', 'jazz-solo-1.mid'))).parts[0].notes.length).toBeGreaterThan(0);
    const e = await seqlab('eval', 'jazz', '--checkpoint', ckc, '--n', '2');
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/the course has no held-out set/);
  }, 60000);
});

describe('jazz from the command line', () => {
  const ck = path.join(dir, 'ck');
  const out = path.join(dir, 'solos');
  const tiny = ['--pieces', '8', '--epochs', '1', '--batches', '2', '--batch-size', '4', '--window-bars', '2', '--units', '8', '--layers', '1'];

  test('train (tiny), sample, eval: files written, fields reported', async () => {
    const t = await seqlab('train', 'jazz', ...tiny, '--checkpoint', ck, '--json');
    expect(t.err).toBe('');
    expect(t.code).toBe(0);
    const tr = JSON.parse(t.out.trim().split('\n').pop()!);
    expect(tr.vocabularySize).toBe(EVENTS);
    expect(tr.loss).toBeGreaterThan(0);

    const s = await seqlab('sample', 'jazz', '--checkpoint', ck, '--chords', 'Cm7 F7 | Bbmaj7', '--bars', '4', '--num-outputs', '2', '--out', out, '--json');
    expect(s.err).toBe('');
    expect(s.code).toBe(0);
    const sr = JSON.parse(s.out.trim().split('\n').pop()!);
    expect(sr.outputs).toHaveLength(2);
    expect(sr.chordOrScaleToneShare).toBeGreaterThanOrEqual(0);
    expect(sr.chordOrScaleToneShare).toBeLessThanOrEqual(1);
    const mid = readMidi(fs.readFileSync(path.join(out, 'jazz-solo-1.mid')));
    expect(mid.parts.map((p) => p.name)).toEqual(['Melody (seqlab jazz)', 'Comping', 'Bass']);
    expect(mid.tempo).toBeCloseTo(140, 3);
    expect(parseMidi(fs.readFileSync(path.join(out, 'jazz-solo-2.mid'))).header.format).toBe(1);
    expect(fs.readFileSync(path.join(out, 'jazz-solo-1.wav')).subarray(0, 4).toString()).toBe('RIFF');
    expect(fs.readFileSync(path.join(out, 'jazz-solo-1.png')).subarray(1, 4).toString()).toBe('PNG');

    // a primer is played first, as given
    const p = await seqlab('sample', 'jazz', '--checkpoint', ck, '--bars', '2', '--primer', '60 62 64 67', '--out', path.join(dir, 'primed'));
    expect(p.code).toBe(0);
    const primed = readMidi(fs.readFileSync(path.join(dir, 'primed', 'jazz-solo-1.mid'))).parts[0].notes.slice(0, 4);
    expect(primed.map((n) => [n.pitch, n.start])).toEqual([[60, 0], [62, 0.5], [64, 1], [67, 1.5]]);

    const e = await seqlab('eval', 'jazz', '--checkpoint', ck, '--n', '2', '--json');
    expect(e.err).toBe('');
    expect(e.code).toBe(0);
    const er = JSON.parse(e.out.trim().split('\n').pop()!);
    expect(er.heldOut.nats).toBeGreaterThan(0);
    expect(er.heldOut.unigramNats).toBeGreaterThan(0);
    expect(er.sampled.solos).toBe(2);
  }, 60000);

  test('--resume continues a jazz checkpoint', async () => {
    const r = await seqlab('train', 'jazz', '--epochs', '2', '--resume', '--checkpoint', ck, '--quiet', '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(fs.readFileSync(path.join(ck, 'seqlab.json'), 'utf8')).epoch).toBe(2);
  }, 60000);

  test('trains on a user\'s MIDI files alone', async () => {
    const files = [path.join(dir, 'a.mid'), path.join(dir, 'b.mid')];
    files.forEach((f, i) => userMidi(f, 10 + i));
    const r = await seqlab('train', 'jazz', '--midi', ...files, '--epochs', '1', '--batches', '1', '--batch-size', '2', '--units', '8', '--layers', '1', '--checkpoint', path.join(dir, 'ck-midi'), '--json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(res.pieces + res.heldOut).toBe(2);
  }, 60000);

  test.each([
    ['an unknown chord', ['sample', 'jazz', '--chords', 'Dm7 H7'], 2, /--chords: "H7" is not a chord symbol/],
    ['a file that is not MIDI', ['train', 'jazz', '--midi', __filename], 1, /is not a readable MIDI file/],
    ['a missing MIDI file', ['train', 'jazz', '--midi', path.join(dir, 'nope.mid')], 1, /nope\.mid/],
    ['a track that is not there', ['train', 'jazz', '--midi', path.join(dir, 'tune.mid'), '--melody-track', '7'], 1, /has no track 7 for the melody \(its tracks: 0 Piano, 1 Sax\)/],
    ['nothing to learn from', ['train', 'jazz', '--pieces', '0'], 2, /--pieces 0 needs --midi/],
  ])('%s: one line, a non-zero exit, no checkpoint', async (_what, args, code, message) => {
    const ckBad = path.join(dir, `ck-bad-${code}-${String(message).length}`);
    const r = await seqlab(...args, '--checkpoint', ckBad);
    expect(r.code).toBe(code);
    expect(r.err.trim().split('\n').filter((l) => !l.startsWith('backend:'))).toHaveLength(1);
    expect(r.err).toMatch(message);
    expect(fs.existsSync(ckBad)).toBe(false);
  });
});
