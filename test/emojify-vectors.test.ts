import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cacheFileFor, loadWordVectors, readCache, readGloveText, vectorOf, writeCache } from '../src/tasks/emojify/vectors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-glove-'));
const write = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};

test('reads the GloVe text format, any dimension, CRLF or LF', async () => {
  const f = write('tiny.txt', 'love 0.5 -1 2\r\nfood 1e-3 0 0\nadore 0.4 -0.9 1.9\n');
  const v = await readGloveText(f);
  expect(v.dims).toBe(3);
  expect(v.words).toEqual(['love', 'food', 'adore']);
  expect(Array.from(vectorOf(v, 'food')!)).toEqual([Math.fround(1e-3), 0, 0]);
  expect(vectorOf(v, 'hate')).toBeUndefined();
});

test.each([
  ['a short line', 'a 1 2 3\nb 1 2\n', /bad.txt:2: expected a word and 3 numbers, found 2 values/],
  ['a value that is not a number', 'a 1 2 3\nb 1 x 3\n', /bad.txt:2: 'x' is not a number/],
  ['a line with no vector', 'word\n', /bad.txt:1: not a word-vector line/],
  ['an empty file', '', /has no word vectors/],
])('rejects %s, naming the line', async (_name, text, message) => {
  await expect(readGloveText(write('bad.txt', text))).rejects.toThrow(message);
});

test('a missing file is a clear error', async () => {
  await expect(loadWordVectors(path.join(dir, 'nope.txt'), () => {}, dir)).rejects.toThrow(/cannot read .*nope.txt: no such file/);
});

test('the binary cache round-trips, and is used the second time', async () => {
  const f = write('glove.small.txt', 'the 1 2\nof -1 0.5\nnaïve 3 4\n');
  const said: string[] = [];
  const first = await loadWordVectors(f, (m) => said.push(m), dir);
  expect(said.join('\n')).toMatch(/converting/);
  const cache = cacheFileFor(path.resolve(f), dir);
  expect(fs.existsSync(cache)).toBe(true);
  said.length = 0;
  const second = await loadWordVectors(f, (m) => said.push(m), dir);
  expect(said).toEqual([]);
  expect(second.words).toEqual(first.words);
  expect(Array.from(second.matrix)).toEqual(Array.from(first.matrix));
  expect(Array.from(vectorOf(second, 'naïve')!)).toEqual([3, 4]);
});

test('a damaged cache is named, not silently used', async () => {
  const f = write('g.txt', 'a 1\n');
  const v = await readGloveText(f);
  const cache = path.join(dir, 'damaged.vec');
  writeCache(cache, v);
  fs.writeFileSync(cache, fs.readFileSync(cache).subarray(0, 21));
  expect(() => readCache(cache, f)).toThrow(/cache .* is corrupt: delete it/);
});
