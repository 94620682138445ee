/**
 * Data for the date translator: random dates written the ways people and programs write them
 * ("25th of June, 2009", "Tue 10 Jul 2007", "6/25/09", "14-Nov-2007", "20071114", "the third of june
 * in the year 1975", "2003-09-25T10:49:41") paired with their ISO form (2009-06-25); the reading
 * conventions for ambiguous numeric dates; the vocabularies that turn both into model inputs and
 * targets; and the decoder that only ever answers a real calendar date.
 *
 * The ways of writing are data: TEMPLATES below is a table a reader can extend (one line a form),
 * and numeric dates are drawn from orders × separators × paddings × year lengths.
 */
import { Rng } from '../../core/rng';

// ---------------------------------------------------------------- conventions and vocabularies

/** How to read a numeric date whose order the numbers do not settle (3/8/1999): month-day-year (en_US), day-month-year or year-month-day. */
export type Convention = 'mdy' | 'dmy' | 'ymd';
export const CONVENTIONS: readonly Convention[] = ['mdy', 'dmy', 'ymd'];
export const CONVENTION_NAMES: Record<Convention, string> = { mdy: 'month/day/year', dmy: 'day/month/year', ymd: 'year/month/day' };

/** The longest input the model reads, in characters after normalisation; a longer one is an error, never cut. */
export const MAX_INPUT = 64;
/** Output length: the characters of YYYY-MM-DD (the course's Ty). */
export const TY = 10;

export const PAD = '<pad>';
export const UNK = '<unk>';
const conventionToken = (c: Convention) => `<${c}>`;
/**
 * What the encoder reads: padding, unknown, the three convention tokens (the first input position
 * says which convention to read by), then every character a normalised date can hold.
 */
export const HUMAN_VOCAB: readonly string[] = [PAD, UNK, ...CONVENTIONS.map(conventionToken), ...` ./-:'+0123456789abcdefghijklmnopqrstuvwxyz`];
/** Characters of an ISO date: the ten digits and the dash. */
export const MACHINE_VOCAB: readonly string[] = [...'0123456789-'];

const humanIndex = new Map(HUMAN_VOCAB.map((c, i) => [c, i]));
const machineIndex = new Map(MACHINE_VOCAB.map((c, i) => [c, i]));

// ---------------------------------------------------------------- calendar

export const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A calendar date; month 1-12, weekday 0 = Sunday. */
export interface CivilDate {
  year: number;
  month: number;
  day: number;
  weekday: number;
}

export const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
export const daysIn = (year: number, month: number) => [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
export const isValidDate = (y: number, m: number, d: number) => y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m);

/** Days since 1970-01-01 of a proleptic Gregorian date (UTC, so no time zone enters). */
function dayNumber(year: number, month: number, day: number): number {
  const t = new Date(0);
  t.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0-99 as they are
  return Math.floor(t.getTime() / 86400000);
}

function civilFromDayNumber(n: number): CivilDate {
  const dt = new Date(n * 86400000);
  return { year: dt.getUTCFullYear(), month: dt.getUTCMonth() + 1, day: dt.getUTCDate(), weekday: dt.getUTCDay() };
}

/** A uniformly random date between two years (inclusive). */
export function randomDate(rng: Rng, fromYear = 1900, toYear = 2099): CivilDate {
  return civilFromDayNumber(rng.int(dayNumber(fromYear, 1, 1), dayNumber(toYear, 12, 31)));
}

const pad2 = (n: number) => String(n).padStart(2, '0');
export function isoOf(d: Pick<CivilDate, 'year' | 'month' | 'day'>): string {
  return `${String(d.year).padStart(4, '0')}-${pad2(d.month)}-${pad2(d.day)}`;
}

/** Two-digit years: 00-69 are 20xx, 70-99 are 19xx. */
export function pivotYear(twoDigits: number): number {
  return twoDigits < 70 ? 2000 + twoDigits : 1900 + twoDigits;
}

// ---------------------------------------------------------------- reading numeric dates

type Order = 'mdy' | 'dmy' | 'ymd' | 'ydm';
/** Orders tried, in turn, under each convention: the first that makes a real date wins. */
const PREFERENCE: Record<Convention, readonly Order[]> = {
  mdy: ['mdy', 'dmy', 'ymd', 'ydm'],
  dmy: ['dmy', 'mdy', 'ymd', 'ydm'],
  ymd: ['ymd', 'mdy', 'dmy', 'ydm'],
};

/**
 * What a reader with `convention` takes three numbers to mean (as written: '03', '8', '1999'): the
 * first order in the convention's preference that makes a valid date. A number > 12 cannot be a
 * month and a four-digit number can only be a year, so those settle the order whatever the
 * convention; two-digit years pivot. Undefined when no order makes a date.
 */
export function readNumeric(parts: readonly string[], convention: Convention): string | undefined {
  for (const order of PREFERENCE[convention]) {
    const at = (c: string) => parts[order.indexOf(c)];
    const [ys, ms, ds] = [at('y'), at('m'), at('d')];
    if (ms.length > 2 || ds.length > 2 || (ys.length !== 4 && ys.length !== 2)) continue;
    const year = ys.length === 2 ? pivotYear(Number(ys)) : Number(ys);
    const [month, day] = [Number(ms), Number(ds)];
    if (isValidDate(year, month, day)) return isoOf({ year, month, day });
  }
  return undefined;
}

/**
 * A run of digits without separators. Eight digits (20071114, 11142007) are read year-first when
 * that gives a year in 1900-2099, else year-last by the convention (month before day for mdy and
 * ymd) when that does, else whichever makes a date; six digits (071114) like a date with separators.
 */
export function readDigitRun(digits: string, convention: Convention): string | undefined {
  if (digits.length === 8) {
    const yearFirst = readNumeric([digits.slice(0, 4), digits.slice(4, 6), digits.slice(6)], 'ymd');
    const yearLast = readNumeric([digits.slice(0, 2), digits.slice(2, 4), digits.slice(4)], convention === 'dmy' ? 'dmy' : 'mdy');
    const recent = (iso?: string) => iso !== undefined && iso >= '1900' && iso < '2100';
    if (recent(yearFirst)) return yearFirst;
    if (recent(yearLast)) return yearLast;
    return yearFirst ?? yearLast;
  }
  if (digits.length === 6) return readNumeric([digits.slice(0, 2), digits.slice(2, 4), digits.slice(4)], convention);
  return undefined;
}

// ---------------------------------------------------------------- words for numbers

const UNITS = ['', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const UNIT_ORDINALS = ['', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth', 'eleventh', 'twelfth', 'thirteenth', 'fourteenth', 'fifteenth', 'sixteenth', 'seventeenth', 'eighteenth', 'nineteenth'];

/** 1-31 in words: 'twenty-one' (or 'twenty one' with joiner ' '). */
export function cardinalWord(n: number, joiner = '-'): string {
  if (n < 20) return UNITS[n];
  const tens = n >= 30 ? 'thirty' : 'twenty';
  return n % 10 ? `${tens}${joiner}${UNITS[n % 10]}` : tens;
}

/** 1st-31st in words: 'twenty-first' (or 'twenty first'). */
export function ordinalWord(n: number, joiner = '-'): string {
  if (n < 20) return UNIT_ORDINALS[n];
  const tens = n >= 30 ? 'thirty' : 'twenty';
  return n % 10 ? `${tens}${joiner}${UNIT_ORDINALS[n % 10]}` : `${tens.slice(0, -1)}ieth`;
}

/** 1st, 2nd, 3rd, 4th ... 11th, 12th, 13th ... 21st, 22nd, 23rd ... */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${suffix}`;
}

// ---------------------------------------------------------------- the ways of writing a date

/**
 * Kinds of writing, for accuracy per kind: numeric (11/14/2007, 20071114), month name (14-Nov-2007,
 * June 25th, 2009), words (second of march 1988, April fifth 2012), iso (2009-06-25) and with time
 * (any of them with a time of day or a zone).
 */
export const KINDS = ['numeric', 'month name', 'words', 'iso', 'with time'] as const;
export type Kind = (typeof KINDS)[number];

/**
 * One form per line, in slots: {d} day (3, or 03 sometimes), {dd} day 03, {dth} 3rd, {dw} third /
 * twenty-first, {dc} three / twenty-one, {mon} month name (june, jun, jun., sept), {y} four-digit year,
 * {yy} two-digit year, {'yy} '09, {s} one separator for the line (- / . space or none), {wd}
 * weekday (thursday, thu, thu.). Literal words are fillers ("the", "of", "day of", "in the year").
 */
export const TEMPLATES: readonly { kind: Kind; forms: readonly string[] }[] = [
  {
    kind: 'month name',
    forms: [
      '{d} {mon} {y}', '{d} {mon}, {y}', '{dd} {mon} {y}', '{mon} {d} {y}', '{mon} {d}, {y}', '{mon}. {d}, {y}', '{mon} {dd}, {y}',
      '{d}{s}{mon}{s}{y}', '{mon}{s}{d}{s}{y}', '{y}{s}{mon}{s}{d}', '{y}{s}{d}{s}{mon}', '{d}{s}{y}{s}{mon}', '{mon}{s}{y}{s}{d}',
      '{y} {mon} {d}', '{y}, {mon} {d}', '{dd}{mon}{y}', '{d}{s}{mon}{s}{yy}', '{mon} {d} {yy}', "{mon} {d}, {'yy}", "{d} {mon} {'yy}",
      '{dth} {mon} {y}', '{dth} {mon}, {y}', '{mon} {dth} {y}', '{mon} {dth}, {y}', '{dth} of {mon} {y}', '{dth} of {mon}, {y}',
      'the {dth} of {mon} {y}', 'the {dth} of {mon}, {y}', '{mon} the {dth}, {y}', '{mon} the {dth} {y}', 'the {dth} day of {mon} {y}',
      '{dth} {mon} in the year {y}', 'on {mon} {d}, {y}', 'on the {dth} of {mon} {y}', '{y} {mon} {dth}', '{y}{s}{mon}{s}{dd}',
      '{mon} {d} of {y}', '{d} of {mon} {y}', '{d} {mon} of {y}', '{mon} {d} in {y}',
    ],
  },
  {
    kind: 'words',
    forms: [
      '{dw} of {mon} {y}', '{dw} of {mon}, {y}', 'the {dw} of {mon} {y}', 'the {dw} of {mon}, {y}', '{mon} {dw} {y}', '{mon} {dw}, {y}',
      '{mon} the {dw}, {y}', '{mon} the {dw} {y}', 'the {dw} day of {mon} {y}', 'the {dw} day of {mon}, {y}', 'the {dw} of {mon} in the year {y}',
      'the {dw} day of {mon} in the year {y}', '{dw} {mon} {y}', 'on the {dw} of {mon} {y}', '{mon} {dc} {y}', '{mon} {dc}, {y}',
      '{dc} {mon} {y}', '{dc} {mon}, {y}', '{mon} {dc} in the year {y}', '{dw} of {mon} in {y}', '{y} {mon} {dw}',
    ],
  },
];

const TIMES = ['{h}:{mm}', '{hh}:{mm}', '{hh}:{mm}:{ss}', '{h}:{mm} am', '{h}:{mm} pm', '{h}:{mm}am', '{h}:{mm}pm', '{hh}:{mm}:{ss}.{ms}', '{h} am', '{h} pm', '{h}:{mm}:{ss} pm', 'noon', 'midnight'];
const ZONES = ['utc', 'gmt', 'est', 'edt', 'pst', 'pdt', 'cet', 'bst', 'z', '+0000', '-0500', '+05:30', '-03:00', '+01:00'];

/** A time of day as people and logs write it, sometimes with a zone. */
function timeOfDay(rng: Rng): string {
  const h = rng.int(0, 23);
  const s = rng.pick(TIMES)
    .replace('{hh}', pad2(h))
    .replace('{h}', String(h % 12 || 12))
    .replace('{mm}', pad2(rng.int(0, 59)))
    .replace('{ss}', pad2(rng.int(0, 59)))
    .replace('{ms}', String(rng.int(0, 999)).padStart(3, '0'));
  return rng.chance(0.3) ? `${s} ${rng.pick(ZONES)}` : s;
}

/** hh:mm:ss, as ISO 8601 writes a time. */
const clock = (rng: Rng) => `${pad2(rng.int(0, 23))}:${pad2(rng.int(0, 59))}:${pad2(rng.int(0, 59))}`;

const SEPARATORS = ['-', '/', '.', ' ', ''];
const monthName = (m: number, rng: Rng) => {
  const full = MONTHS[m - 1];
  const r = rng.random();
  if (m === 9 && r < 0.1) return 'sept';
  if (r < 0.45) return full;
  if (r < 0.85) return full.slice(0, 3);
  return `${full.slice(0, 3)}.`;
};
const weekdayName = (w: number, rng: Rng) => {
  const full = WEEKDAYS[w];
  const r = rng.random();
  return r < 0.5 ? full : r < 0.85 ? full.slice(0, 3) : `${full.slice(0, 3)}.`;
};
const joiner = (rng: Rng) => (rng.chance(0.6) ? '-' : ' ');

/** Fills a template's slots for a date. */
function renderTemplate(form: string, date: CivilDate, rng: Rng): string {
  // no separator only where the month name stands between the numbers (14nov2007, not 292051march)
  const numbersMeet = /\{(d|y)\}\{s\}\{(d|y)\}/.test(form);
  const sep = rng.pick(numbersMeet ? SEPARATORS.slice(0, 4) : SEPARATORS);
  return form
    .replace(/\{s\}/g, sep)
    .replace('{dd}', pad2(date.day))
    .replace('{dth}', ordinal(date.day))
    .replace('{dw}', ordinalWord(date.day, joiner(rng)))
    .replace('{dc}', cardinalWord(date.day, joiner(rng)))
    .replace('{d}', rng.chance(0.2) ? pad2(date.day) : String(date.day))
    .replace('{mon}', monthName(date.month, rng))
    .replace("{'yy}", `'${pad2(date.year % 100)}`)
    .replace('{yy}', pad2(date.year % 100))
    .replace('{y}', String(date.year).padStart(4, '0'))
    .replace('{wd}', weekdayName(date.weekday, rng));
}

/** A numeric date: the parts in some order, padded or not, with one separator (or none, when all are padded). */
function numericDate(date: CivilDate, rng: Rng, convention: Convention): { human: string; iso: string } | undefined {
  const padded = rng.chance(0.5);
  let sep = rng.pick(padded ? SEPARATORS : SEPARATORS.slice(0, 4));
  // as they are written: a run of digits is mostly year-first (ISO basic), a two-digit year mostly last
  const order = sep === '' && rng.chance(0.7) ? 'ymd' : rng.pick(['mdy', 'mdy', 'dmy', 'dmy', 'ymd'] as const);
  const twoDigitYear = date.year >= 1970 && date.year <= 2069 && rng.chance(order === 'ymd' ? 0.08 : sep === '' ? 0.15 : 0.45);
  if (sep !== '' && sep !== ' ' && rng.chance(0.08)) sep = ` ${sep} `; // 11 / 14 / 2007
  const value = { y: twoDigitYear ? pad2(date.year % 100) : String(date.year).padStart(4, '0'), m: padded ? pad2(date.month) : String(date.month), d: padded ? pad2(date.day) : String(date.day) };
  const parts = [...order].map((c) => value[c as 'y' | 'm' | 'd']);
  const human = parts.join(sep);
  const iso = sep === '' ? readDigitRun(human, convention) : readNumeric(parts, convention);
  return iso ? { human, iso } : undefined;
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

/** Stray punctuation and spacing: a comma or dot after a word, a trailing dot, doubled or missing spaces. */
function strayPunctuation(s: string, rng: Rng): string {
  if (!rng.chance(0.2)) return s;
  const words = s.split(' ');
  switch (rng.int(0, 3)) {
    case 0: {
      const i = rng.int(0, words.length - 1);
      if (/^(twenty|thirty)$/i.test(words[i])) return s; // not inside a number: 'twenty, first' is no way to write 21st
      words[i] += rng.pick([',', '.', ';']);
      return words.join(' ');
    }
    case 1:
      return `${s}${rng.pick(['.', ',', '!', ' .'])}`;
    case 2:
      return words.join(rng.pick(['  ', ' , ']));
    default:
      return ` ${s.replace(/, /g, ',')} `;
  }
}

export interface DatePair {
  /** as a person (or a program) wrote it, before normalisation */
  human: string;
  /** YYYY-MM-DD: what a reader with `convention` takes it to mean */
  iso: string;
  kind: Kind;
  convention: Convention;
}

/** A year: mostly 1900-2099, sometimes any other four-digit year. */
function randomYearDate(rng: Rng): CivilDate {
  const r = rng.random();
  if (r < 0.8) return randomDate(rng, 1900, 2099);
  if (r < 0.95) return randomDate(rng, 1000, 2999);
  return randomDate(rng, 1, 9999);
}

/**
 * One random (human, iso) pair read under `convention`: a numeric date, a month-name or words form
 * from TEMPLATES, or ISO; sometimes with a weekday, a time of day or a zone, "AD", fillers, any
 * capitalisation and stray punctuation. Its normalised form fits in MAX_INPUT characters.
 */
export function randomDatePair(rng: Rng, convention: Convention = 'mdy'): DatePair {
  for (;;) {
    const date = randomYearDate(rng);
    const r = rng.random();
    let body: { human: string; iso: string } | undefined;
    let kind: Kind;
    if (r < 0.4) {
      kind = 'numeric';
      body = numericDate(date, rng, convention);
    } else if (r < 0.47) {
      kind = 'iso';
      const iso = isoOf(date);
      const basic = iso.replace(/-/g, ''); // ISO 8601 basic: 20030925T104941
      const time = () => `${pad2(rng.int(0, 23))}${pad2(rng.int(0, 59))}${pad2(rng.int(0, 59))}`;
      body = rng.chance(0.15)
        ? { human: `${basic}t${time()}${rng.pick(['', 'z', '.123'])}`, iso }
        : { human: rng.chance(0.3) ? (rng.chance(0.5) ? `${iso}t${clock(rng)}${rng.pick(['', 'z', '+00:00', '-05:00', '.5'])}` : `${iso} ${timeOfDay(rng)}`) : iso, iso };
    } else {
      const group = r < 0.82 ? TEMPLATES[0] : TEMPLATES[1];
      kind = group.kind;
      const form = rng.pick(group.forms);
      if (/\{'?yy\}/.test(form) && (date.year < 1970 || date.year > 2069)) continue;
      body = { human: renderTemplate(form, date, rng), iso: isoOf(date) };
    }
    if (!body) continue;
    let human = body.human;
    if (kind !== 'iso' && rng.chance(0.2)) {
      // the weekday of the answer (an ambiguous numeric date may be read as another date than the one drawn)
      const [y, m, d] = body.iso.split('-').map(Number);
      const wd = weekdayName(civilFromDayNumber(dayNumber(y, m, d)).weekday, rng);
      human = rng.chance(0.85) ? `${wd}${rng.pick([', ', ' '])}${human}` : `${human} (${wd})`;
    }
    if (kind !== 'iso' && rng.chance(0.1)) {
      const t = timeOfDay(rng);
      const r2 = rng.random();
      if (r2 < 0.25 && /\d{4}$/.test(human)) human = human.replace(/(\d{4})$/, `${t} $1`); // ctime: Thu Sep 25 10:36:28 2003
      else human = r2 < 0.8 ? `${human}${rng.pick([' ', ' at ', ', '])}${t}` : `${t} on ${human}`;
    }
    if (kind !== 'iso' && rng.chance(0.02)) human += ' ad';
    human = strayPunctuation(recase(human, rng), rng);
    if ([...normalize(human)].length <= MAX_INPUT) return { human, iso: body.iso, kind: kindOf(human), convention };
  }
}

/** n pairs from one seed, half read as month/day/year (the default) and a quarter each by the other conventions. */
export function generateDates(n: number, seed: number, convention?: Convention): DatePair[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => randomDatePair(rng, convention ?? (rng.chance(0.5) ? 'mdy' : rng.chance(0.5) ? 'dmy' : 'ymd')));
}

// ---------------------------------------------------------------- kinds of writing, for any string

const MONTH_WORD = new RegExp(`\\b(${MONTHS.map((m) => m.slice(0, 3).toLowerCase()).join('|')}|sept)`);
const NUMBER_WORD = /\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty)\b/;

/** The kind of writing of any date string (a user's too), for accuracy per kind. */
export function kindOf(human: string): Kind {
  const s = normalize(human);
  if (/\d:\d\d|\b\d{1,2} ?(am|pm)\b|\bnoon\b|\bmidnight\b/.test(s)) return 'with time';
  if (/^\d{4}-\d{2}-\d{2}[.!]?$/.test(s)) return 'iso';
  if (NUMBER_WORD.test(s)) return 'words';
  if (MONTH_WORD.test(s)) return 'month name';
  return 'numeric';
}

// ---------------------------------------------------------------- model input and output

/**
 * What the model reads: lower-case, commas dropped, runs of spaces folded, trimmed.
 * Applied identically at training and inference.
 */
export function normalize(human: string): string {
  return human.toLowerCase().replace(/,/g, ' ').replace(/\s+/g, ' ').trim();
}

/** Characters of a normalised input (code points: an emoji is one). */
export const inputLength = (human: string) => [...normalize(human)].length;

/** The encoded length for an input of n characters: the convention token, the characters, padding up to a multiple of 8. */
export const paddedLength = (n: number) => Math.max(8, Math.ceil((n + 1) / 8) * 8);

/**
 * The convention token, then the normalised input as vocabulary indices, padded with PAD to
 * `length` (default: its own padded length); unknown characters become UNK. Input longer than
 * MAX_INPUT is refused by the caller (inputLength), never cut here.
 */
export function encodeHuman(human: string, convention: Convention = 'mdy', length?: number): Int32Array {
  const s = [...normalize(human)].slice(0, MAX_INPUT);
  const out = new Int32Array(length ?? paddedLength(s.length)); // zeros are PAD
  out[0] = humanIndex.get(conventionToken(convention))!;
  for (let t = 0; t < s.length && t + 1 < out.length; t++) out[t + 1] = humanIndex.get(s[t]) ?? humanIndex.get(UNK)!;
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

/** The input itself when it is already a valid ISO date (it comes out exactly as it went in). */
export function isoInput(human: string): string | undefined {
  const s = normalize(human);
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return m && isValidDate(+m[1], +m[2], +m[3]) ? s : undefined;
}

/**
 * The most likely real calendar date under the model's per-position probabilities (its outputs
 * are independent given the input, so a date's log-probability is the sum of its characters'):
 * years 0001-9999, months 01-12, days up to the month's length, 29 February only in leap years.
 * `logp` is [TY][|MACHINE_VOCAB|] log-probabilities.
 */
export function bestValidDate(logp: ArrayLike<number>[]): { iso: string; logProb: number } {
  const digit = (t: number, d: number) => logp[t][d];
  // the best year overall and the best leap year, over all 9,999 years (years are independent of month and day, but for 29 February)
  // years in increasing order, digit by digit, each score summed in the same order as digit 0 + 1 + 2 + 3;
  // a century whose best possible score cannot beat what was found is skipped (the answer is unchanged)
  let best = { y: 1, s: -Infinity };
  let bestLeap = { y: 4, s: -Infinity };
  const top = (t: number) => Math.max(...Array.from({ length: 10 }, (_, d) => digit(t, d)));
  const rest = top(2) + top(3);
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      const ab = digit(0, a) + digit(1, b);
      const bound = ab + rest;
      if (bound + 1e-9 * (1 + Math.abs(bound)) < bestLeap.s) continue; // bestLeap.s <= best.s
      for (let c = 0; c < 10; c++) {
        const abc = ab + digit(2, c);
        for (let d = 0; d < 10; d++) {
          const y = a * 1000 + b * 100 + c * 10 + d;
          if (y === 0) continue;
          const s = abc + digit(3, d);
          if (s > best.s) best = { y, s };
          if (s > bestLeap.s && isLeap(y)) bestLeap = { y, s };
        }
      }
    }
  }
  const dash = machineIndex.get('-')!;
  let answer = { iso: '', logProb: -Infinity };
  for (let m = 1; m <= 12; m++) {
    const ms = digit(5, Math.floor(m / 10)) + digit(6, m % 10);
    for (let d = 1; d <= 31; d++) {
      if (d > daysIn(2000, m)) break; // 2000 is a leap year: every day any year allows
      const year = m === 2 && d === 29 ? bestLeap : best;
      const s = year.s + ms + digit(8, Math.floor(d / 10)) + digit(9, d % 10) + logp[4][dash] + logp[7][dash];
      if (s > answer.logProb) answer = { iso: isoOf({ year: year.y, month: m, day: d }), logProb: s };
    }
  }
  return answer;
}
