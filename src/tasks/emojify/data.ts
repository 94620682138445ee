/**
 * emojify data: the five classes and their emoji, course-style CSV files (`sentence,label`, extra
 * columns ignored, quotes, tabs and CRLF as in the course's files), and sentences as word vectors.
 */
import * as fs from 'fs';
import { SeqlabError } from '../../core/errors';
import { quoted, readTextFile } from '../../core/files';
import { Rng } from '../../core/rng';
import { DEV, TEST, TRAIN } from './corpus';
import { vectorOf, WordVectors } from './vectors';

export const EMOJI = ['❤️', '⚾', '😄', '😞', '🍴'] as const;
export const CLASS_NAMES = ['love', 'sports', 'happy', 'sad', 'food'] as const;
export const CLASSES = EMOJI.length;

export interface Example {
  sentence: string;
  label: number;
}

export const builtinTrain = (): Example[] => TRAIN.map(([sentence, label]) => ({ sentence, label }));
export const builtinDev = (): Example[] => DEV.map(([sentence, label]) => ({ sentence, label }));
export const builtinTest = (): Example[] => TEST.map(([sentence, label]) => ({ sentence, label }));

/** seqlab's own sets, by name: `dev` (60 sentences, other words than training) and `test` (56, in the course's style). */
export const BUILTIN_SETS: Record<string, { examples: () => Example[]; name: string }> = {
  dev: { examples: builtinDev, name: `seqlab's ${DEV.length} dev sentences` },
  test: { examples: builtinTest, name: `seqlab's ${TEST.length} course-style test sentences` },
};

/** A test set: one of seqlab's by name (`dev`, `test`), else a course-style CSV file. */
export function testSet(spec = 'dev'): { examples: Example[]; name: string } {
  const builtin = BUILTIN_SETS[spec];
  if (builtin) return { examples: builtin.examples(), name: builtin.name };
  if (!fs.existsSync(spec)) throw new SeqlabError(`cannot read test set ${spec}: no such file (seqlab's own sets are ${Object.keys(BUILTIN_SETS).join(', ')})`);
  return { examples: readEmojiCsv(spec), name: spec };
}

/** Splits one CSV line into fields: commas separate, double quotes group ("" is a quote). */
export function csvFields(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/** Parses `sentence,label[,...]` lines (a first line naming the columns is skipped); a bad line is an error naming the file and line. */
export function parseEmojiCsv(text: string, file: string): Example[] {
  const examples: Example[] = [];
  let first = true;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.trim()) return;
    const [sentence = '', label = ''] = csvFields(line);
    const header = first && /^\s*[a-z_ ]+\s*$/i.test(label) && /^(label|class|emoji|y|target|category)$/i.test(label.trim());
    first = false;
    if (header) return;
    const k = Number(label.trim());
    if (!sentence.trim() || label.trim() === '' || !Number.isInteger(k) || k < 0 || k >= CLASSES) {
      throw new SeqlabError(`${file}:${i + 1}: expected 'sentence,label' with a label 0-${CLASSES - 1}, got ${quoted(line)}`);
    }
    examples.push({ sentence: sentence.replace(/\s+/g, ' ').trim(), label: k });
  });
  if (!examples.length) throw new SeqlabError(`${file} has no 'sentence,label' lines`);
  return examples;
}

export function readEmojiCsv(file: string): Example[] {
  return parseEmojiCsv(readTextFile(file, 'CSV file'), file);
}

/** The course's convention: lower-case, split on whitespace. */
export function words(sentence: string): string[] {
  return sentence.toLowerCase().split(/\s+/).filter(Boolean);
}

/**
 * Word dropout (a training-time augmentation for v2): each word is left out with probability p,
 * so the model cannot lean on any one word; a sentence never loses all its words.
 */
export function dropWords(sentence: string, p: number, rng: Rng): string {
  const all = words(sentence);
  const kept = all.filter(() => !rng.chance(p));
  return (kept.length ? kept : all).join(' ');
}

/** V1's input: the average of the sentence's known word vectors (unknown words skipped; none known: zeros). */
export function averageVector(sentence: string, v: WordVectors): Float32Array {
  const avg = new Float32Array(v.dims);
  let n = 0;
  for (const w of words(sentence)) {
    const vec = vectorOf(v, w);
    if (!vec) continue;
    for (let k = 0; k < v.dims; k++) avg[k] += vec[k];
    n++;
  }
  if (n) for (let k = 0; k < v.dims; k++) avg[k] /= n;
  return avg;
}

/**
 * V2's input: each sentence as maxLen word vectors [n, maxLen, dims], zero-padded; an unknown
 * word is a zero vector; words past maxLen are dropped. The lookup spans the whole vocabulary, so
 * words never seen in training still get their pretrained vectors.
 */
export function sentenceVectors(sentences: readonly string[], v: WordVectors, maxLen: number): Float32Array {
  const out = new Float32Array(sentences.length * maxLen * v.dims);
  sentences.forEach((s, i) => {
    words(s)
      .slice(0, maxLen)
      .forEach((w, t) => {
        const vec = vectorOf(v, w);
        if (vec) out.set(vec, (i * maxLen + t) * v.dims);
      });
  });
  return out;
}

/** The longest sentence, in words (the course's maxLen). */
export const longest = (examples: readonly Example[]) => Math.max(...examples.map((e) => words(e.sentence).length));
