import { Rng } from '../src/core/rng';
import {
  CivilDate, decodeIso, encodeHuman, encodeIso, FORMATS, generateDates, HUMAN_VOCAB, normalize, ordinal, pivotYear, randomDatePair, TX, UNK,
} from '../src/tasks/nmt/dates';

// Thursday, 25 June 2009
const JUNE_25_2009: CivilDate = { year: 2009, month: 6, day: 25, weekday: 4 };

describe('date formats', () => {
  test('every format writes 25 June 2009 as expected', () => {
    const written = Object.fromEntries(FORMATS.map((f) => [f.name, f.render(JUNE_25_2009)]));
    expect(written).toEqual({
      'short M/d/yy': '6/25/09',
      'medium MMM d, y': 'Jun 25, 2009',
      'long MMMM d, y': 'June 25, 2009',
      'full EEEE, MMMM d, y': 'Thursday, June 25, 2009',
      'd MMM YYYY': '25 Jun 2009',
      'd MMMM YYYY': '25 June 2009',
      'dd MMM YYYY': '25 Jun 2009',
      'd MMM, YYYY': '25 Jun, 2009',
      'd MMMM, YYYY': '25 June, 2009',
      'dd, MMM YYYY': '25, Jun 2009',
      'd MM YY': '25 06 09',
      'MMMM d YYYY': 'June 25 2009',
      'MMMM d, YYYY': 'June 25, 2009',
      'dd.MM.YY': '25.06.09',
      'dth of MMMM, YYYY': '25th of June, 2009',
      'the dth of MMMM YYYY': 'the 25th of June 2009',
      'MMMM dth YYYY': 'June 25th 2009',
      'MMMM dth, YYYY': 'June 25th, 2009',
      'dth MMM YYYY': '25th Jun 2009',
      'EEE d MMM YYYY': 'Thu 25 Jun 2009',
      'EEE, MMM d, YYYY': 'Thu, Jun 25, 2009',
      'EEE. d MMM. YYYY': 'Thu. 25 Jun. 2009',
      'ISO YYYY-MM-DD': '2009-06-25',
    });
  });

  test('single-digit days are not padded except in dd formats', () => {
    const d: CivilDate = { year: 2001, month: 3, day: 3, weekday: 6 };
    const byName = (n: string) => FORMATS.find((f) => f.name === n)!.render(d);
    expect(byName('the dth of MMMM YYYY')).toBe('the 3rd of March 2001');
    expect(byName('dd MMM YYYY')).toBe('03 Mar 2001');
    expect(byName('short M/d/yy')).toBe('3/3/01');
  });

  test('ordinals', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31, 101, 111].map(ordinal)).toEqual([
      '1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '31st', '101st', '111th',
    ]);
  });

  test('two-digit years pivot at 70: 00-69 are 20xx, 70-99 are 19xx', () => {
    expect(pivotYear(0)).toBe(2000);
    expect(pivotYear(69)).toBe(2069);
    expect(pivotYear(70)).toBe(1970);
    expect(pivotYear(99)).toBe(1999);
  });
});

describe('generated pairs', () => {
  const pairs = generateDates(6000, 7);

  test('use every format, and fit in TX characters once normalised', () => {
    const seen = new Set(pairs.map((p) => p.format));
    expect([...seen].sort()).toEqual(FORMATS.map((f) => f.name).sort());
    for (const p of pairs) expect(normalize(p.human).length).toBeLessThanOrEqual(TX);
  });

  test('iso dates are valid calendar dates in 1900-2099', () => {
    for (const p of pairs) {
      expect(p.iso).toMatch(/^(19|20)\d\d-\d\d-\d\d$/);
      const d = new Date(p.iso + 'T00:00:00Z');
      expect(d.toISOString().slice(0, 10)).toBe(p.iso);
    }
  });

  test('a two-digit year always reads back to the iso year through the pivot', () => {
    const twoDigit = pairs.filter((p) => ['short M/d/yy', 'd MM YY', 'dd.MM.YY'].includes(p.format));
    expect(twoDigit.length).toBeGreaterThan(100);
    for (const p of twoDigit) {
      const yy = Number(normalize(p.human).replace(/[.,]$/, '').split(/[\/. ]/).filter(Boolean).pop());
      expect(pivotYear(yy)).toBe(Number(p.iso.slice(0, 4)));
    }
  });

  test('capitalisation and stray punctuation vary', () => {
    expect(pairs.some((p) => p.human !== p.human.toLowerCase() && p.human === p.human.toUpperCase())).toBe(true);
    expect(pairs.some((p) => /[a-z]/.test(p.human) && p.human === p.human.toLowerCase())).toBe(true);
    expect(pairs.some((p) => /,,|\.\s|\.$/.test(p.human))).toBe(true);
  });

  test('the same seed gives the same data, another seed other data', () => {
    expect(generateDates(50, 7)).toEqual(pairs.slice(0, 50));
    expect(generateDates(50, 8)).not.toEqual(pairs.slice(0, 50));
  });

  test('a date pair is drawn from the given formats only', () => {
    const only = FORMATS.filter((f) => f.name === 'ISO YYYY-MM-DD');
    const rng = new Rng(3);
    for (let i = 0; i < 20; i++) expect(randomDatePair(rng, only).format).toBe('ISO YYYY-MM-DD');
  });
});

describe('normalisation and vocabularies', () => {
  test('lower-cases, drops commas, folds spaces', () => {
    expect(normalize('  Tue,  10 JUL. 2007 ')).toBe('tue 10 jul. 2007');
    expect(normalize('June 25,2009')).toBe('june 25 2009');
  });

  test('encodes to TX indices with padding; unknown characters become UNK', () => {
    const enc = encodeHuman('25€ jun');
    expect(enc.length).toBe(TX);
    expect(HUMAN_VOCAB[enc[0]]).toBe('2');
    expect(HUMAN_VOCAB[enc[2]]).toBe(UNK);
    expect(Array.from(enc.slice(7))).toEqual(new Array(TX - 7).fill(0));
    expect(HUMAN_VOCAB[0]).toBe('<pad>');
  });

  test('long input is cut to TX characters', () => {
    const enc = encodeHuman('1'.repeat(40));
    expect(enc.every((k) => HUMAN_VOCAB[k] === '1')).toBe(true);
  });

  test('iso round trip; a non-iso target is refused', () => {
    expect(decodeIso(encodeIso('2009-06-25'))).toBe('2009-06-25');
    expect(() => encodeIso('2009/06/25')).toThrow(/not an ISO date/);
    expect(() => encodeIso('2009-6-25')).toThrow(/not an ISO date/);
  });
});
