import { Rng } from '../src/core/rng';
import {
  bestValidDate, cardinalWord, CONVENTIONS, encodeHuman, encodeIso, generateDates, HUMAN_VOCAB, isLeap, isoInput, isValidDate, KINDS,
  kindOf, MACHINE_VOCAB, MAX_INPUT, MONTHS, normalize, ordinal, ordinalWord, paddedLength, pivotYear, readDigitRun, readNumeric, UNK, WEEKDAYS,
} from '../src/tasks/nmt/dates';

describe('reading numeric dates by a convention', () => {
  test('both numbers ≤ 12: the convention decides (year last: month first for mdy and ymd, day first for dmy)', () => {
    expect(readNumeric(['3', '8', '1999'], 'mdy')).toBe('1999-03-08');
    expect(readNumeric(['3', '8', '1999'], 'dmy')).toBe('1999-08-03');
    expect(readNumeric(['3', '8', '1999'], 'ymd')).toBe('1999-03-08');
    expect(readNumeric(['01', '02', '03'], 'mdy')).toBe('2003-01-02');
    expect(readNumeric(['01', '02', '03'], 'dmy')).toBe('2003-02-01');
    expect(readNumeric(['01', '02', '03'], 'ymd')).toBe('2001-02-03');
  });
  test('a number > 12, or a four-digit year, settles the order whatever the convention', () => {
    for (const c of CONVENTIONS) {
      expect(readNumeric(['14', '11', '2007'], c)).toBe('2007-11-14');
      expect(readNumeric(['11', '14', '2007'], c)).toBe('2007-11-14');
      expect(readNumeric(['2004', '6', '9'], c)).toBe('2004-06-09');
      expect(readNumeric(['2015', '15', '05'], c)).toBe('2015-05-15'); // year, day, month
      expect(readNumeric(['31', '02', '2001'], c)).toBeUndefined(); // no order makes a date
    }
    expect(readNumeric(['13', '05', '09'], 'mdy')).toBe('2009-05-13');
    expect(readNumeric(['13', '05', '09'], 'ymd')).toBe('2013-05-09');
  });
  test('runs of digits', () => {
    expect(readDigitRun('20071114', 'mdy')).toBe('2007-11-14');
    expect(readDigitRun('11142007', 'mdy')).toBe('2007-11-14');
    expect(readDigitRun('14112007', 'mdy')).toBe('2007-11-14');
    expect(readDigitRun('10121902', 'mdy')).toBe('1902-10-12'); // not the year 1012
    expect(readDigitRun('10121902', 'dmy')).toBe('1902-12-10');
    expect(readDigitRun('071114', 'ymd')).toBe('2007-11-14');
    expect(readDigitRun('071114', 'mdy')).toBe('2014-07-11');
  });
  test('two-digit years pivot at 70: 00-69 are 20xx, 70-99 are 19xx', () => {
    expect([0, 69, 70, 99].map(pivotYear)).toEqual([2000, 2069, 1970, 1999]);
  });
});

describe('numbers in words', () => {
  test('ordinals as digits and as words, cardinals', () => {
    expect([1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31].map(ordinal)).toEqual(['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd', '31st']);
    expect([1, 2, 3, 5, 8, 9, 12, 20, 21, 30, 31].map((n) => ordinalWord(n))).toEqual([
      'first', 'second', 'third', 'fifth', 'eighth', 'ninth', 'twelfth', 'twentieth', 'twenty-first', 'thirtieth', 'thirty-first',
    ]);
    expect(ordinalWord(22, ' ')).toBe('twenty second');
    expect([1, 13, 20, 21, 31].map((n) => cardinalWord(n))).toEqual(['one', 'thirteen', 'twenty', 'twenty-one', 'thirty-one']);
  });
});

describe('generated pairs', () => {
  const pairs = generateDates(8000, 7);
  const dateOf = (iso: string) => {
    const [y, m, d] = iso.split('-').map(Number);
    return { y, m, d };
  };

  test('every kind and every convention, every answer a real date, every input within MAX_INPUT', () => {
    expect(new Set(pairs.map((p) => p.kind))).toEqual(new Set(KINDS));
    expect(new Set(pairs.map((p) => p.convention))).toEqual(new Set(CONVENTIONS));
    for (const p of pairs) {
      const { y, m, d } = dateOf(p.iso);
      expect(isValidDate(y, m, d)).toBe(true);
      expect([...normalize(p.human)].length).toBeLessThanOrEqual(MAX_INPUT);
    }
  });

  test('a month name or a day in words written in the input is the answer\'s (checked against the names, not the templates)', () => {
    let named = 0;
    for (const p of pairs) {
      const s = normalize(p.human);
      const { m, d } = dateOf(p.iso);
      const months = MONTHS.map((name, i) => ({ i: i + 1, hit: new RegExp(`\\b(${name.toLowerCase()}|${name.slice(0, 3).toLowerCase()}\\b|${name.slice(0, 3).toLowerCase()}\\.)`).test(s) || (i === 8 && /\bsept\b/.test(s)) }));
      const found = months.filter((x) => x.hit).map((x) => x.i);
      if (found.length === 1 && !/\d{8}|[a-z]\d|\d[a-z]{3}\d/.test(s)) {
        named++;
        expect([p.human, found[0]]).toEqual([p.human, m]);
      }
      if (p.kind === 'words') {
        const words = [ordinalWord(d), ordinalWord(d, ' '), cardinalWord(d), cardinalWord(d, ' ')];
        expect([p.human, words.some((w) => new RegExp(`\\b${w}\\b`).test(s))]).toEqual([p.human, true]);
      }
    }
    expect(named).toBeGreaterThan(3000);
  });

  test('a weekday written in the input is the answer\'s weekday', () => {
    let checked = 0;
    for (const p of pairs) {
      const s = normalize(p.human);
      const { y, m, d } = dateOf(p.iso);
      if (y < 1583 || /\d:\d|[+-]\d\d:?\d\d\b/.test(s)) continue; // the Gregorian calendar; times can shift days in zones
      const wd = WEEKDAYS.findIndex((w) => new RegExp(`\\b${w.slice(0, 3).toLowerCase()}(\\b|\\.|${w.slice(3).toLowerCase()})`).test(s));
      if (wd < 0) continue;
      const t = new Date(0);
      t.setUTCFullYear(y, m - 1, d);
      expect([p.human, WEEKDAYS[t.getUTCDay()]]).toEqual([p.human, WEEKDAYS[wd]]);
      checked++;
    }
    expect(checked).toBeGreaterThan(500);
  });

  test('an ambiguous numeric date is labelled by its convention', () => {
    const ambiguous = pairs.filter((p) => p.kind === 'numeric' && /^\s*(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})\W*$/.test(p.human));
    expect(ambiguous.length).toBeGreaterThan(300);
    for (const p of ambiguous) {
      const [a, b] = /(\d{1,2})[-/. ](\d{1,2})/.exec(p.human)!.slice(1).map(Number);
      if (a > 12 || b > 12) continue;
      const { m, d } = dateOf(p.iso);
      expect([p.human, p.convention, p.convention === 'dmy' ? [d, m] : [m, d]]).toEqual([p.human, p.convention, [a, b]]);
    }
  });

  test('capitalisation, punctuation, weekdays, times and fillers vary', () => {
    expect(pairs.some((p) => /[a-z]/i.test(p.human) && p.human === p.human.toUpperCase())).toBe(true);
    expect(pairs.some((p) => /[a-z]/.test(p.human) && p.human === p.human.toLowerCase())).toBe(true);
    expect(pairs.some((p) => /[;!]|\.$/.test(p.human))).toBe(true);
    expect(pairs.some((p) => /\bin the year\b/i.test(p.human))).toBe(true);
    expect(pairs.some((p) => /\d\d:\d\d/.test(p.human))).toBe(true);
    expect(pairs.some((p) => /^\d{8}$/.test(p.human.trim()))).toBe(true);
  });

  test('the same seed gives the same data, another seed other data', () => {
    expect(generateDates(50, 7)).toEqual(pairs.slice(0, 50));
    expect(generateDates(50, 8)).not.toEqual(pairs.slice(0, 50));
  });
});

describe('kinds of any string', () => {
  test.each([
    ['11/14/2007', 'numeric'], ['20071114', 'numeric'], ['14-Nov-2007', 'month name'], ['June 25th, 2009', 'month name'],
    ['second of march, 1988', 'words'], ['April fifth 2012', 'words'], ['2009-06-25', 'iso'], ['2003-09-25T10:49:41', 'with time'],
    ['Thu Sep 25 10:36:28 BRST 2003', 'with time'],
  ])('%s is %s', (s, kind) => expect(kindOf(s)).toBe(kind));
});

describe('never an impossible date', () => {
  const logp = (iso: string, noise: () => number) =>
    Array.from({ length: 10 }, (_, t) => MACHINE_VOCAB.map((c) => (c === iso[t] ? 0 : -3) + noise()));

  test('the best valid date equals a brute-force search over every date of years 1-9999', () => {
    const rng = new Rng(5);
    for (let k = 0; k < 2; k++) {
      const table = logp(['2023-02-29', '1999-13-45', '0000-00-00', '2024-04-31'][k], () => rng.random() * 2);
      // every valid date, scored character by character
      const col = (t: number, ch: string) => table[t][MACHINE_VOCAB.indexOf(ch)];
      const digits = (n: number, w: number) => String(n).padStart(w, '0');
      let best = { iso: '', s: -Infinity };
      for (let y = 1; y <= 9999; y++) {
        const ys = digits(y, 4);
        const yScore = col(0, ys[0]) + col(1, ys[1]) + col(2, ys[2]) + col(3, ys[3]) + col(4, '-') + col(7, '-');
        for (let m = 1; m <= 12; m++) {
          const ms = digits(m, 2);
          const mScore = yScore + col(5, ms[0]) + col(6, ms[1]);
          for (let d = 1; d <= 31; d++) {
            if (!isValidDate(y, m, d)) continue;
            const ds = digits(d, 2);
            const s = mScore + col(8, ds[0]) + col(9, ds[1]);
            if (s > best.s) best = { iso: `${ys}-${ms}-${ds}`, s };
          }
        }
      }
      const got = bestValidDate(table);
      expect(got.iso).toBe(best.iso);
      expect(got.logProb).toBeCloseTo(best.s, 9);
    }
  }, 30000);

  test('29 February only in leap years', () => {
    const got = bestValidDate(logp('2023-02-29', () => 0)).iso;
    const [y, m, d] = got.split('-').map(Number);
    expect(isValidDate(y, m, d)).toBe(true);
    expect([isLeap(2000), isLeap(1900), isLeap(2024), isLeap(2023)]).toEqual([true, false, true, false]);
    expect(bestValidDate(logp('1900-02-29', () => 0)).iso).not.toBe('1900-02-29');
  });

  test('ISO input is answered as it is, when it is a real date', () => {
    expect(isoInput(' 2525-05-25 ')).toBe('2525-05-25');
    expect(isoInput('2023-02-29')).toBeUndefined();
    expect(isoInput('2009-06-25T10:00')).toBeUndefined();
  });
});

describe('normalisation and vocabularies', () => {
  test('lower-cases, drops commas, folds spaces', () => {
    expect(normalize('  Tue,  10 JUL. 2007 ')).toBe('tue 10 jul. 2007');
    expect(normalize('June 25,2009')).toBe('june 25 2009');
  });

  test('the convention token first, then the characters, padded to a multiple of 8; unknown characters are UNK', () => {
    const enc = encodeHuman('25€ jun', 'dmy');
    expect(enc.length).toBe(8);
    expect(HUMAN_VOCAB[enc[0]]).toBe('<dmy>');
    expect(HUMAN_VOCAB[enc[1]]).toBe('2');
    expect(HUMAN_VOCAB[enc[3]]).toBe(UNK);
    expect(HUMAN_VOCAB[enc[7]]).toBe('n');
    expect(encodeHuman('25 jun', 'mdy', 16).length).toBe(16);
    expect([paddedLength(0), paddedLength(7), paddedLength(8), paddedLength(MAX_INPUT)]).toEqual([8, 8, 16, 72]);
  });

  test('iso targets; a non-iso target is refused', () => {
    expect(Array.from(encodeIso('2009-06-25'))).toEqual([2, 0, 0, 9, 10, 0, 6, 10, 2, 5]);
    expect(() => encodeIso('2009/06/25')).toThrow(/not an ISO date/);
    expect(() => encodeIso('2009-6-25')).toThrow(/not an ISO date/);
  });
});
