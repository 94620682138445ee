/**
 * Data for the date translator: random dates written the ways people write them
 * ("25th of June, 2009", "Tue 10 Jul 2007", "6/25/09") paired with their ISO form (2009-06-25),
 * and the vocabularies that turn both into model inputs and targets.
 */
import { Rng } from '../../core/rng';

/** Input length: characters of a normalised human date the model reads (course Tx). */
export const TX = 30;
/** Output length: the characters of YYYY-MM-DD (course Ty). */
export const TY = 10;

export const PAD = '<pad>';
export const UNK = '<unk>';
/**
 * Characters the encoder knows: padding, unknown, then every character a normalised date can hold.
 * Anything else a user types maps to UNK.
 */
export const HUMAN_VOCAB: readonly string[] = [PAD, UNK, ...' ./-0123456789abcdefghijklmnopqrstuvwxyz'];
/** Characters of an ISO date: the ten digits and the dash. */
export const MACHINE_VOCAB: readonly string[] = [...'0123456789-'];

const humanIndex = new Map(HUMAN_VOCAB.map((c, i) => [c, i]));
const machineIndex = new Map(MACHINE_VOCAB.map((c, i) => [c, i]));

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A calendar date; month 1-12, weekday 0 = Sunday. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

export interface DatePair {
  /** as a person wrote it (before normalisation) */
  human: string;
  /** YYYY-MM-DD */
  iso: string;
  /** name of the format it was written in */
  format: string;
}

const pad2 = (n: number) => String(n).padStart(2, '0');
const yy = (d: CivilDate) => pad2(d.year % 100);
const mmm = (d: CivilDate) => MONTHS[d.month - 1].slice(0, 3);
const mmmm = (d: CivilDate) => MONTHS[d.month - 1];
const eee = (d: CivilDate) => WEEKDAYS[d.weekday].slice(0, 3);
const eeee = (d: CivilDate) => WEEKDAYS[d.weekday];

/** 1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st, 22nd, 23rd ... */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

export interface DateFormat {
  name: string;
  /** true when the year is written with two digits (only 1970-2069 are then unambiguous) */
  twoDigitYear: boolean;
  render(d: CivilDate): string;
}

const fmt = (name: string, render: (d: CivilDate) => string, twoDigitYear = false): DateFormat => ({ name, render, twoDigitYear });

/** Every way of writing a date the generator uses; named like the patterns they follow. */
export const FORMATS: readonly DateFormat[] = [
  // the course's en_US styles
  fmt('short M/d/yy', (d) => `${d.month}/${d.day}/${yy(d)}`, true),
  fmt('medium MMM d, y', (d) => `${mmm(d)} ${d.day}, ${d.year}`),
  fmt('long MMMM d, y', (d) => `${mmmm(d)} ${d.day}, ${d.year}`),
  fmt('full EEEE, MMMM d, y', (d) => `${eeee(d)}, ${mmmm(d)} ${d.day}, ${d.year}`),
  fmt('d MMM YYYY', (d) => `${d.day} ${mmm(d)} ${d.year}`),
  fmt('d MMMM YYYY', (d) => `${d.day} ${mmmm(d)} ${d.year}`),
  fmt('dd MMM YYYY', (d) => `${pad2(d.day)} ${mmm(d)} ${d.year}`),
  fmt('d MMM, YYYY', (d) => `${d.day} ${mmm(d)}, ${d.year}`),
  fmt('d MMMM, YYYY', (d) => `${d.day} ${mmmm(d)}, ${d.year}`),
  fmt('dd, MMM YYYY', (d) => `${pad2(d.day)}, ${mmm(d)} ${d.year}`),
  fmt('d MM YY', (d) => `${d.day} ${pad2(d.month)} ${yy(d)}`, true),
  fmt('MMMM d YYYY', (d) => `${mmmm(d)} ${d.day} ${d.year}`),
  fmt('MMMM d, YYYY', (d) => `${mmmm(d)} ${d.day}, ${d.year}`),
  fmt('dd.MM.YY', (d) => `${pad2(d.day)}.${pad2(d.month)}.${yy(d)}`, true),
  // the ways people actually write them
  fmt('dth of MMMM, YYYY', (d) => `${ordinal(d.day)} of ${mmmm(d)}, ${d.year}`),
  fmt('the dth of MMMM YYYY', (d) => `the ${ordinal(d.day)} of ${mmmm(d)} ${d.year}`),
  fmt('MMMM dth YYYY', (d) => `${mmmm(d)} ${ordinal(d.day)} ${d.year}`),
  fmt('MMMM dth, YYYY', (d) => `${mmmm(d)} ${ordinal(d.day)}, ${d.year}`),
  fmt('dth MMM YYYY', (d) => `${ordinal(d.day)} ${mmm(d)} ${d.year}`),
  fmt('EEE d MMM YYYY', (d) => `${eee(d)} ${d.day} ${mmm(d)} ${d.year}`),
  fmt('EEE, MMM d, YYYY', (d) => `${eee(d)}, ${mmm(d)} ${d.day}, ${d.year}`),
  fmt('EEE. d MMM. YYYY', (d) => `${eee(d)}. ${d.day} ${mmm(d)}. ${d.year}`),
  fmt('ISO YYYY-MM-DD', (d) => `${d.year}-${pad2(d.month)}-${pad2(d.day)}`),
];

/** Days since 1970-01-01 of a proleptic Gregorian date (UTC, so no time zone enters). */
function dayNumber(year: number, month: number, day: number): number {
  return Math.floor(Date.UTC(year, month - 1, day) / 86400000);
}

function civilFromDayNumber(n: number): CivilDate {
  const dt = new Date(n * 86400000);
  return { year: dt.getUTCFullYear(), month: dt.getUTCMonth() + 1, day: dt.getUTCDate(), weekday: dt.getUTCDay() };
}

/** A uniformly random date between two years (inclusive). */
export function randomDate(rng: Rng, fromYear = 1900, toYear = 2099): CivilDate {
  return civilFromDayNumber(rng.int(dayNumber(fromYear, 1, 1), dayNumber(toYear, 12, 31)));
}

export function isoOf(d: CivilDate): string {
  return `${String(d.year).padStart(4, '0')}-${pad2(d.month)}-${pad2(d.day)}`;
}

/** Two-digit years: 00-69 are 20xx, 70-99 are 19xx. */
export function pivotYear(twoDigits: number): number {
  return twoDigits < 70 ? 2000 + twoDigits : 1900 + twoDigits;
}

/** Random capitalisation: as written, lower, UPPER or Title Case. */
function recase(s: string, rng: Rng): string {
  switch (rng.int(0, 5)) {
    case 0:
      return s.toLowerCase();
    case 1:
      return s.toUpperCase();
    case 2:
      return s.replace(/\b([a-z])/gi, (c) => c.toUpperCase());
    default:
      return s;
  }
}

/** Stray punctuation: now and then a comma or a dot after a word, or a trailing dot. */
function strayPunctuation(s: string, rng: Rng): string {
  if (!rng.chance(0.15)) return s;
  const words = s.split(' ');
  const i = rng.int(0, words.length - 1);
  words[i] += rng.pick([',', '.']);
  return words.join(' ');
}

/**
 * What the model reads: lower-case, commas dropped, runs of spaces folded, trimmed.
 * Applied identically at training and inference.
 */
export function normalize(human: string): string {
  return human.toLowerCase().replace(/,/g, ' ').replace(/\s+/g, ' ').trim();
}

/** One random (human, iso) pair in a random format, whose normalised form fits in TX characters. */
export function randomDatePair(rng: Rng, formats: readonly DateFormat[] = FORMATS): DatePair {
  for (;;) {
    const format = rng.pick(formats);
    const date = format.twoDigitYear ? randomDate(rng, 1970, 2069) : randomDate(rng);
    const human = strayPunctuation(recase(format.render(date), rng), rng);
    if (normalize(human).length <= TX) return { human, iso: isoOf(date), format: format.name };
  }
}

/** n pairs from one seed: the same seed gives the same data. */
export function generateDates(n: number, seed: number): DatePair[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => randomDatePair(rng));
}

/** Normalised input as TX vocabulary indices, padded with PAD; unknown characters become UNK. */
export function encodeHuman(human: string): Int32Array {
  const s = [...normalize(human)].slice(0, TX); // by code point: an emoji is one unknown character
  const out = new Int32Array(TX); // zeros are PAD
  for (let t = 0; t < s.length; t++) out[t] = humanIndex.get(s[t]) ?? humanIndex.get(UNK)!;
  return out;
}

/** An ISO date as TY vocabulary indices. */
export function encodeIso(iso: string): Int32Array {
  if (iso.length !== TY) throw new Error(`not an ISO date: '${iso}'`);
  const out = new Int32Array(TY);
  for (let t = 0; t < TY; t++) {
    const k = machineIndex.get(iso[t]);
    if (k === undefined) throw new Error(`not an ISO date: '${iso}'`);
    out[t] = k;
  }
  return out;
}

export function decodeIso(indices: ArrayLike<number>): string {
  return Array.from(indices, (k) => MACHINE_VOCAB[k]).join('');
}
