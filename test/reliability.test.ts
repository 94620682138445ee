/**
 * Nothing lost, nothing silent: each test reproduces a defect a user hit (issue #9) and checks
 * what seqlab does now. Tiny models and few steps throughout.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseEmojiCsv } from '../src/tasks/emojify/data';
import { encodeHuman, HUMAN_VOCAB, UNK } from '../src/tasks/nmt/dates';
import { lineChartPng } from '../src/core/plot';
import { finished, seqlab, spawnSeqlab } from './helpers';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-reliability-'));
const tinyNmt = ['--examples', '64', '--batch-size', '32', '--arch', 'course', '--backend', 'wasm'];
const meta = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'seqlab.json'), 'utf8'));
const noStack = (err: string) => expect(err).not.toMatch(/\n\s+at /);

describe("a user's files are never touched", () => {
  test.each([
    ['dinos', ['--iterations', '200']],
    ['nmt', ['--epochs', '1', ...tinyNmt]],
  ])('train %s into a folder holding a thesis refuses, and the thesis stays', async (task, flags) => {
    const d = path.join(root, `thesis-${task}`);
    fs.mkdirSync(path.join(d, 'figures'), { recursive: true });
    fs.writeFileSync(path.join(d, 'thesis.txt'), 'four years of work');
    const r = await seqlab('train', task, ...flags, '--checkpoint', d);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/holds files that are not a seqlab checkpoint .*choose another --checkpoint/);
    noStack(r.err);
    expect(fs.readFileSync(path.join(d, 'thesis.txt'), 'utf8')).toBe('four years of work');
    expect(fs.readdirSync(d).sort()).toEqual(['figures', 'thesis.txt']);
  });

  test("another task's checkpoint is replaced only with --overwrite", async () => {
    const d = path.join(root, 'shared-ck');
    expect((await seqlab('train', 'dinos', '--iterations', '20', '--checkpoint', d, '--quiet')).code).toBe(0);
    const r = await seqlab('train', 'nmt', '--epochs', '1', ...tinyNmt, '--checkpoint', d);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/holds a checkpoint of task 'dinos': give --overwrite/);
    expect(meta(d).task).toBe('dinos');
    expect((await seqlab('train', 'nmt', '--epochs', '1', ...tinyNmt, '--checkpoint', d, '--overwrite', '--quiet')).code).toBe(0);
    expect(meta(d).task).toBe('nmt');
  });
});

describe('unusable paths are named, with the reason, before any work', () => {
  const file = path.join(root, 'a-file');
  beforeAll(() => fs.writeFileSync(file, 'x'));

  test('a checkpoint under a file: ENOTDIR at once, not after a million iterations', async () => {
    const r = await seqlab('train', 'dinos', '--iterations', '1000000', '--checkpoint', path.join(file, 'ck'));
    expect(r.code).toBe(1);
    expect(r.err.trim()).toMatch(/^seqlab: cannot use checkpoint folder .*a-file\/ck: a part of the path is a file, not a folder \(ENOTDIR\)$/m);
    expect(r.err).not.toMatch(/unexpected error|iteration 0/);
  });
  test('--attention into a folder, or a folder that does not exist', async () => {
    const r = await seqlab('sample', 'nmt', '3 May 1979', '--attention', root);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot write attention map .*: it is a folder, not a file \(EISDIR\)/);
    const m = await seqlab('sample', 'nmt', '3 May 1979', '--attention', path.join(root, 'no', 'map.png'));
    expect(m.err).toMatch(/cannot write attention map .*no\/map.png: no such file or folder \(ENOENT\)/);
  });
  test('a folder given where a file is expected is not "no such file"', async () => {
    const r = await seqlab('eval', 'nmt', '--data', root);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read TSV file .*: it is a folder, not a file \(EISDIR\)/);
    const c = await seqlab('train', 'dinos', '--corpus', root, '--checkpoint', path.join(root, 'ck-corpus'));
    expect(c.err).toMatch(/cannot read corpus .*: it is a folder, not a file/);
    expect(fs.existsSync(path.join(root, 'ck-corpus'))).toBe(false); // the failed run left no empty checkpoint folder
  });
});

describe('Ctrl-C and --resume', () => {
  test('Ctrl-C in the hand-written dinos RNN saves the model so far, and --resume continues it', async () => {
    const ck = path.join(root, 'dinos-int');
    const child = spawnSeqlab('train', 'dinos', '--iterations', '100000000', '--report-every', '1000', '--checkpoint', ck);
    const r = await finished(child, (err) => {
      if (/iteration 1000,/.test(err) && !child.killed) child.kill('SIGINT');
    });
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/interrupted after (\d+) of 100000000 iterations; the model so far is saved/);
    expect(r.out).toMatch(/resume with: seqlab train dinos --iterations 100000000 --resume --checkpoint/);
    const m = meta(ck);
    expect(m.state.iteration).toBeGreaterThan(1000);
    expect(m.epoch).toBe(m.state.iteration);
    const more = m.state.iteration + 300;
    const resumed = await seqlab('train', 'dinos', '--iterations', String(more), '--resume', '--checkpoint', ck, '--json');
    expect(resumed.code).toBe(0);
    expect(meta(ck).epoch).toBe(more);
    expect(meta(ck).state).toBeUndefined(); // finished: nothing left to resume
    const again = await seqlab('train', 'dinos', '--iterations', String(more + 100), '--resume', '--checkpoint', ck);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/finished its \d+ iterations and keeps no state to continue from .*train again without --resume/);
    expect(again.err).not.toMatch(/is ignored/); // --iterations counts in all, like --epochs
  }, 60000);

  test('--resume says which settings come from the checkpoint and warns about flags it ignores', async () => {
    const ck = path.join(root, 'nmt-resume');
    expect((await seqlab('train', 'nmt', '--epochs', '1', ...tinyNmt, '--checkpoint', ck, '--quiet')).code).toBe(0);
    const r = await seqlab('train', 'nmt', '--epochs', '2', '--resume', '--lr', '0.5', '--batch-size', '16', '--checkpoint', ck, '--backend', 'wasm');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/resuming from .* at epoch 2, with the checkpoint's seed 1 and settings: arch course, examples 64, batchSize 32, lr 0.01/);
    expect(r.err).toMatch(/warning: --lr 0.5 is ignored: a resumed run keeps the checkpoint's lr 0.01/);
    expect(r.err).toMatch(/warning: --batch-size 16 is ignored: a resumed run keeps the checkpoint's batchSize 32/);
    expect(r.err).not.toMatch(/--epochs .* is ignored/);
  });
});

describe('bounded work', () => {
  test('--seed above 2^32 - 1 is refused (above 2^53 every seed was the same)', async () => {
    const r = await seqlab('sample', 'dinos', '--seed', String(2 ** 53 + 2));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--seed must be at most 4294967295/);
  });

  test('sample dinos prints names as they come (a huge --n shows output at once, Ctrl-C keeps it)', async () => {
    const ck = path.join(root, 'dinos-stream');
    expect((await seqlab('train', 'dinos', '--iterations', '50', '--checkpoint', ck, '--quiet')).code).toBe(0);
    const child = spawnSeqlab('sample', 'dinos', '--n', '100000000', '--checkpoint', ck);
    const r = await finished(child, undefined, (out) => {
      if (out.split('\n').length > 20 && !child.killed) child.kill('SIGINT');
    });
    expect(r.code === 130 || r.code === null).toBe(true);
    expect(r.out.split('\n').length).toBeGreaterThan(20);
  }, 30000);

  test('a one-line 1 MB corpus is refused for the RNN, with what to do instead', async () => {
    const big = path.join(root, 'one-line.txt');
    fs.writeFileSync(big, 'ab'.repeat(2 ** 19));
    const r = await seqlab('train', 'dinos', '--corpus', big, '--checkpoint', path.join(root, 'ck-big'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/has a line of 1,048,576 characters: the RNN learns one name per line \(at most 1000\); for running text use --model lstm/);
  });

  test('a 1 MB CSV line is not echoed whole', () => {
    let message = '';
    try {
      parseEmojiCsv(`${'x'.repeat(2 ** 20)},9\n`, 'big.csv');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^big.csv:1: expected 'sentence,label' .*got 'x{60}…' \(1,048,578 characters\)$/);
  });
});

describe('small things a user trips on', () => {
  test('`seqlab` with no command is a usage error that shows the help', async () => {
    const r = await seqlab();
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Usage: seqlab[\s\S]*give a command, e.g. seqlab train nmt/);
  });
  test('`seqlab train` with no task is a usage error', async () => {
    const r = await seqlab('train');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/train needs a task: seqlab train <task> \(tasks: nmt, rnn, emojify, dinos, trigger, jazz\)/);
  });
  test('a CSV with a sentence,label header is read', () => {
    expect(parseEmojiCsv('sentence,label\ni love you,0\n', 'h.csv')).toEqual([{ sentence: 'i love you', label: 0 }]);
    expect(() => parseEmojiCsv('i love you,0\nsentence,label\n', 'h.csv')).toThrow(/h.csv:2/); // only a first line can be a header
  });
  test('commands that write no checkpoint take no --checkpoint', async () => {
    const r = await seqlab('train', 'rnn', '--checkpoint', root);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--checkpoint'/);
  });
  test('an under-trained date model says so; a 10,000-character date is refused, not cut, and not echoed whole', async () => {
    const ck = path.join(root, 'nmt-one-epoch');
    expect((await seqlab('train', 'nmt', '--epochs', '1', ...tinyNmt, '--checkpoint', ck, '--quiet')).code).toBe(0);
    const r = await seqlab('sample', 'nmt', '3 May 1979', '--checkpoint', ck);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/warning: this model got only [\d.]+% of held-out dates right after 1 epochs: its answers are unreliable/);
    const long = await seqlab('sample', 'nmt', '3 May 1979', '9'.repeat(10000), '--checkpoint', ck);
    expect(long.code).toBe(2);
    expect(long.err.trim()).toMatch(/^(backend: .*\n)?seqlab: '9{60}…' \(10,000 characters\) is longer than the 64 characters the date model reads/);
    expect(long.err.length).toBeLessThan(400);
  });
  test('a loss curve of one epoch still shows its point', async () => {
    const { loadImage, createCanvas } = await import('@napi-rs/canvas');
    const png = lineChartPng({ title: 't', xLabel: 'epoch', series: [{ name: 'loss', points: [[1, 0.5]] }] })!;
    const img = await loadImage(png);
    const c = createCanvas(img.width, img.height);
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 60, img.width, img.height - 120).data; // below the title and legend
    let blue = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i] < 60 && px[i + 1] > 100 && px[i + 1] < 140 && px[i + 2] > 160) blue++;
    expect(blue).toBeGreaterThan(10);
  });
  test('a character outside the Basic Multilingual Plane is one input position (the unknown token)', () => {
    const x = encodeHuman('1 😀 2');
    expect(Array.from(x.slice(0, 6)).map((k) => HUMAN_VOCAB[k])).toEqual(['<mdy>', '1', ' ', UNK, ' ', '2']);
  });
});
