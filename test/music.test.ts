import { parseMidi, writeMidi as encodeRaw } from 'midi-file';
import { Rng } from '../src/core/rng';
import { ChordError, parseChord, recogniseChord } from '../src/music/chords';
import { chordAt, formChords, FORM_NAMES, generateCorpus, HIGH, LOW, toneClass } from '../src/music/corpus';
import { decodeEvents, encodeMelody, EVENTS, eventInputs, HOLD, INPUT_SIZE, noteOn, NOTE_OFF, transpose } from '../src/music/events';
import { intervalName, intervalSemitones, measureTokens, notesFromTokens, parseToken, quantize } from '../src/music/grammar';
import { MidiError, Note, pickChords, pickMelody, readMidi, Song, writeMidi } from '../src/music/midi';
import { accompaniment, renderAudio, swingTime } from '../src/music/render';

const note = (pitch: number, start: number, duration = 0.5): Note => ({ pitch, start, duration, velocity: 90 });

describe('MIDI in and out', () => {
  const song: Song = {
    tempo: 132,
    timeSignature: [3, 4],
    parts: [
      { name: 'Lead', channel: 0, program: 66, notes: [note(60, 0), note(62, 0.5), note(62, 1, 1.5), note(67, 1 / 3, 1 / 3)].sort((a, b) => a.start - b.start) },
      { name: 'Keys', channel: 1, program: 4, notes: [note(48, 0, 2), note(52, 0, 2), note(55, 0, 2)] },
    ],
  };

  test('notes, tempo and time signature survive a write and a read (ticks to quarters)', () => {
    const back = readMidi(writeMidi(song));
    expect(back.tempo).toBeCloseTo(132, 3);
    expect(back.timeSignature).toEqual([3, 4]);
    expect(back.parts.map((p) => [p.name, p.channel, p.program])).toEqual([['Lead', 0, 66], ['Keys', 1, 4]]);
    back.parts.forEach((p, i) => {
      const want = [...song.parts[i].notes].sort((a, b) => a.start - b.start || a.pitch - b.pitch);
      expect(p.notes).toHaveLength(want.length);
      p.notes.forEach((n, k) => {
        expect(n.pitch).toBe(want[k].pitch);
        expect(n.start).toBeCloseTo(want[k].start, 2);
        expect(n.duration).toBeCloseTo(want[k].duration, 2);
      });
    });
  });

  test('a repeated pitch ends before it starts again; note-on with velocity 0 is a note-off', () => {
    const raw = {
      header: { format: 0 as const, numTracks: 1, ticksPerBeat: 96 },
      tracks: [[
        { deltaTime: 0, type: 'noteOn' as const, channel: 0, noteNumber: 64, velocity: 80 },
        { deltaTime: 96, type: 'noteOn' as const, channel: 0, noteNumber: 64, velocity: 0 },
        { deltaTime: 0, type: 'noteOn' as const, channel: 0, noteNumber: 64, velocity: 70 },
        { deltaTime: 48, type: 'noteOff' as const, channel: 0, noteNumber: 64, velocity: 0 },
        { deltaTime: 0, meta: true as const, type: 'endOfTrack' as const },
      ]],
    };
    const s = readMidi(Uint8Array.from(encodeRaw(raw)));
    expect(s.parts[0].notes.map((n) => [n.start, n.duration, n.velocity])).toEqual([[0, 1, 80], [1, 0.5, 70]]);
    expect(s.tempo).toBe(120); // no tempo event: MIDI's default
    // our writer puts the note-off before the next note-on at the same tick
    const events = parseMidi(writeMidi(s)).tracks[1].filter((e) => e.type === 'noteOn' || e.type === 'noteOff').map((e) => e.type);
    expect(events).toEqual(['noteOn', 'noteOff', 'noteOn', 'noteOff']);
  });

  test.each([
    ['not MIDI', Uint8Array.from(Buffer.from('hello, this is not a MIDI file')), /not a readable MIDI file/],
    ['empty', new Uint8Array(0), /not a readable MIDI file/],
    ['no notes', Uint8Array.from(encodeRaw({ header: { format: 1, numTracks: 1, ticksPerBeat: 96 }, tracks: [[{ deltaTime: 0, meta: true, type: 'endOfTrack' }]] })), /holds no notes/],
    ['drums only', writeMidi({ tempo: 100, timeSignature: [4, 4], parts: [{ name: 'Kit', channel: 9, program: 0, notes: [note(36, 0), note(38, 1)] }] }), /drums only/],
    ['format 2', Uint8Array.from(encodeRaw({ header: { format: 2, numTracks: 1, ticksPerBeat: 96 }, tracks: [[{ deltaTime: 0, type: 'noteOn', channel: 0, noteNumber: 60, velocity: 9 }, { deltaTime: 9, meta: true, type: 'endOfTrack' }]] })), /format-2/],
  ])('%s: one clear reason', (_what, bytes, message) => {
    expect(() => readMidi(bytes)).toThrow(MidiError);
    expect(() => readMidi(bytes)).toThrow(message);
  });

  test('auto: the melody is the one-note-at-a-time part highest up, the chords the part with stacked onsets', () => {
    const line = Array.from({ length: 16 }, (_, k) => note(64 + (k % 5), k / 2));
    const bassLine = Array.from({ length: 16 }, (_, k) => note(36 + (k % 5), k));
    const pads = Array.from({ length: 8 }, (_, k) => [note(48, 2 * k, 2), note(52, 2 * k, 2), note(55, 2 * k, 2)]).flat();
    const s: Song = { tempo: 120, timeSignature: [4, 4], parts: [{ name: 'Bass', channel: 1, program: 32, notes: bassLine }, { name: 'Pads', channel: 2, program: 4, notes: pads }, { name: 'Sax', channel: 3, program: 66, notes: line }] };
    expect(pickMelody(s)).toBe(2);
    expect(pickChords(s, 2)).toBe(1);
  });
});

describe('chords', () => {
  test.each([
    ['Dm7', 2, [2, 5, 9, 0], 'minor'],
    ['G7', 7, [7, 11, 2, 5], 'dominant'],
    ['Cmaj7', 0, [0, 4, 7, 11], 'major'],
    ['Bb7b9', 10, [10, 2, 5, 8, 11], 'dominant'],
    ['F#m7b5', 6, [6, 9, 0, 4], 'half-diminished'],
    ['C6', 0, [0, 4, 7, 9], 'major'],
    ['Ebdim7', 3, [3, 6, 9, 0], 'diminished'],
  ])('%s: root, pitch classes, quality', (symbol, root, pitches, quality) => {
    const c = parseChord(symbol);
    expect([c.root, c.pitches, c.quality]).toEqual([root, pitches, quality]);
    for (const p of c.pitches.filter((q) => ![1, 3, 8].includes((q - root + 12) % 12))) expect(c.scale).toContain(p); // chord tones (but altered ones) are in its scale
  });

  test('slash chords, N.C., and an unknown symbol', () => {
    expect(parseChord('C/E').bass).toBe(4);
    expect(parseChord('N.C.').root).toBe(-1);
    expect(() => parseChord('H7')).toThrow(ChordError);
    expect(() => parseChord('Cfoo')).toThrow(/not a chord symbol/);
  });

  test('recognised from sounding pitch classes (the bass decides C6 against Am7)', () => {
    expect(recogniseChord([0, 4, 7, 11]).symbol).toBe('Cmaj7');
    expect(recogniseChord([62, 65, 69, 72]).symbol).toBe('Dm7');
    expect(recogniseChord([7, 11, 5]).symbol).toBe('G7'); // no fifth
    expect(recogniseChord([11, 2, 5, 9]).symbol).toBe('Bm7b5');
    expect(recogniseChord([9, 0, 4, 7], 0).symbol).toBe('C6');
    expect(recogniseChord([9, 0, 4, 7], 9).symbol).toBe('Am7');
  });
});

describe('the generated corpus', () => {
  const corpus = generateCorpus(FORM_NAMES.length * 2, new Rng(3));

  test('every form in several keys; melodies in range, one note at a time, inside the form', () => {
    expect(new Set(corpus.map((l) => l.name.split(' in ')[0]))).toEqual(new Set(FORM_NAMES));
    for (const l of corpus) {
      expect(l.melody.length).toBeGreaterThan(l.bars * 2);
      l.melody.forEach((n, k) => {
        expect(n.pitch).toBeGreaterThanOrEqual(LOW);
        expect(n.pitch).toBeLessThanOrEqual(HIGH);
        expect(n.start).toBeLessThan(l.bars * 4);
        if (k > 0) expect(n.start).toBeGreaterThanOrEqual(l.melody[k - 1].start + l.melody[k - 1].duration - 1e-9);
      });
    }
  });

  test('the rules hold: chord tones on the beats, few notes outside chord, scale and approach', () => {
    let onBeat = 0, chordOnBeat = 0, other = 0, all = 0;
    for (const l of corpus) for (const n of l.melody) {
      const cls = toneClass(n.pitch, chordAt(l.chords, n.start).chord);
      all++;
      if (cls === 'other') other++;
      if (Number.isInteger(n.start)) {
        onBeat++;
        if (cls === 'chord') chordOnBeat++;
      }
    }
    expect(chordOnBeat / onBeat).toBeGreaterThan(0.7);
    expect(other / all).toBeLessThan(0.05);
  });

  test('a form in another key is the same form moved', () => {
    const c = formChords('ii-V-I', 0);
    const f = formChords('ii-V-I', 5);
    expect(c.map((s) => s.chord.symbol)).toEqual(['Dm7', 'G7', 'Cmaj7', 'Cmaj7']);
    expect(f.map((s) => s.chord.symbol)).toEqual(['Gm7', 'C7', 'Fmaj7', 'Fmaj7']);
  });
});

describe('events on the sixteenth grid', () => {
  test('encode then decode gives the notes back (rounded to the grid), rests included', () => {
    const notes = [note(60, 0, 0.5), note(64, 0.5, 0.25), note(67, 1.5, 1), note(60, 3, 0.5)];
    const events = encodeMelody(notes, 16);
    expect(Array.from(events)).toEqual([noteOn(60), HOLD, noteOn(64), NOTE_OFF, HOLD, HOLD, noteOn(67), HOLD, HOLD, HOLD, NOTE_OFF, HOLD, noteOn(60), HOLD, NOTE_OFF, HOLD]);
    expect(decodeEvents(events).map((n) => [n.pitch, n.start, n.duration])).toEqual(notes.map((n) => [n.pitch, n.start, n.duration]));
  });

  test('a note still sounding when the next starts is cut there (one line); the higher of two onsets wins', () => {
    const events = encodeMelody([note(60, 0, 2), note(64, 0.5, 0.5), note(55, 2, 0.25), note(67, 2, 0.25)], 16);
    expect(decodeEvents(events).map((n) => [n.pitch, n.start, n.duration])).toEqual([[60, 0, 0.5], [64, 0.5, 0.5], [67, 2, 0.25]]);
  });

  test('inputs: the previous event one-hot, then root, pitch classes, bass and position in the bar', () => {
    const chords = formChords('ii-V-I', 0);
    const events = encodeMelody([note(62, 0, 0.25), note(65, 0.25, 0.25)], 32);
    const x = eventInputs(events, chords);
    const row = (s: number) => Array.from(x.subarray(s * INPUT_SIZE, (s + 1) * INPUT_SIZE));
    expect(row(0).slice(0, EVENTS).every((v) => v === 0)).toBe(true); // nothing before the first step
    expect(row(1)[noteOn(62)]).toBe(1);
    const cond = (s: number) => row(s).slice(EVENTS);
    expect(cond(0)[2]).toBe(1); // D root
    expect([2, 5, 9, 0].every((p) => cond(0)[12 + p] === 1)).toBe(true);
    expect(cond(0)[24 + 2]).toBe(1);
    expect(cond(3)[36 + 3]).toBe(1);
    expect(cond(16)[7]).toBe(1); // bar 2: G7
    expect(cond(16)[36]).toBe(1);
  });

  test('transposition moves notes and chords, and refuses to leave the range', () => {
    const moved = transpose([note(60, 0)], formChords('ii-V-I', 0), 3)!;
    expect(moved.notes[0].pitch).toBe(63);
    expect(moved.chords[0].chord.root).toBe(5);
    expect(moved.chords[0].chord.pitches).toEqual([5, 8, 0, 3]);
    expect(transpose([note(82, 0)], [], 3)).toBeNull();
  });
});

describe('rendering', () => {
  test('swing moves the off-beat eighth only', () => {
    expect(swingTime(2, 0.66)).toBeCloseTo(2);
    expect(swingTime(2.5, 0.66)).toBeCloseTo(2.66);
    expect(swingTime(2.5, 0.5)).toBeCloseTo(2.5);
    expect(swingTime(3, 0.66)).toBeCloseTo(3);
  });

  test('comping holds the chord\'s 3rd and 7th, the bass walks with the root on each new chord', () => {
    const chords = formChords('ii-V-I', 0);
    const { comping, bass } = accompaniment(chords);
    const at = (t: number) => comping.filter((n) => n.start === t).map((n) => n.pitch % 12).sort((a, b) => a - b);
    expect(at(4)).toEqual([5, 7, 11]); // G7: root G below, B and F above
    expect(bass.filter((n) => n.start % 4 === 0).map((n) => n.pitch % 12)).toEqual([2, 7, 0, 0]);
    expect(bass).toHaveLength(16);
  });

  test('the synthesizer sounds each note at its pitch and time', () => {
    const rate = 8000;
    const audio = renderAudio([{ notes: [note(69, 1, 1)], voice: 'lead', gain: 0.5 }], 60, 0.5, rate);
    // silent before beat 1 (1 s at 60 bpm), sounding after; the strongest frequency is 440 Hz
    expect(Math.max(...audio.subarray(0, rate - 10).map(Math.abs))).toBe(0);
    const seg = audio.subarray(rate + 800, rate + 800 + 800);
    const power = (hz: number) => {
      let re = 0, im = 0;
      seg.forEach((v, i) => { re += v * Math.cos((2 * Math.PI * hz * i) / rate); im += v * Math.sin((2 * Math.PI * hz * i) / rate); });
      return re * re + im * im;
    };
    // as long as the music plus the release tail, and never louder than the headroom it keeps
    expect(audio.length).toBe(Math.ceil((2 + 0.6) * rate));
    const loud = renderAudio([{ notes: [60, 64, 67, 72].map((p) => note(p, 0, 2)), voice: 'keys', gain: 3 }], 120, 0.66, rate);
    expect(Math.max(...loud.map(Math.abs))).toBeCloseTo(0.89, 5);
    expect(power(440)).toBeGreaterThan(20 * power(330));
    expect(power(440)).toBeGreaterThan(20 * power(560));
  });
});

describe('the course\'s grammar', () => {
  test('intervals are named as music21 names them, and read back as semitones', () => {
    const cases: [number, number, string][] = [[0, 0, 'P1'], [0, -1, 'd1'], [2, 3, 'm3'], [-1, -2, 'M-2'], [4, 6, 'd5'], [3, 6, 'A4'], [-7, -12, 'P-8'], [10, 17, 'P11'], [-5, -8, 'm-6'], [-4, -8, 'A-5'], [5, 7, 'd6']];
    for (const [steps, semis, name] of cases) {
      expect(intervalName(steps, semis)).toBe(name);
      expect(intervalSemitones(name)).toBe(semis);
    }
  });

  test('onsets and lengths go to the nearer of the 1/4 and 1/3 grids', () => {
    expect(quantize(0.26)).toBe(0.25);
    expect(quantize(0.3)).toBeCloseTo(1 / 3);
    expect(quantize(0.49)).toBe(0.5);
    expect(quantize(1.66)).toBeCloseTo(5 / 3);
  });

  test('a measure\'s tokens: class against the sounding chord, length, and the interval window ± a minor third', () => {
    const c = [{ chord: parseChord('C'), start: 0, duration: 4 }];
    // C4, E4 (chord tones), F4 (scale), F#4 (a half step below G: approach), B-3 (outside C major, next to no chord tone)
    const tokens = measureTokens([note(60, 0, 0.5), note(64, 0.5, 0.5), note(65, 1, 0.25), note(66, 1.25, 0.25), note(58, 1.5, 1 / 3)], c);
    // E4 -> F4 is a m2 (1 step, 1 semitone): up a m3 more is a d4, down a m3 is M-2; F4 -> F#4 (A1): M3 and d-3; F#4 -> B-3 (d-4): A-3 and M-7
    expect(tokens).toEqual(['C,0.500', 'C,0.500,<P5,A1>', 'S,0.250,<d4,M-2>', 'A,0.250,<M3,d-3>', 'X,0.333,<A-3,M-7>']);
    expect(parseToken(tokens[1])).toEqual({ type: 'C', duration: 0.5, window: [1, 7] });
  });

  test('tokens back to notes: each of its class, inside its window from the one before, one after another', () => {
    const chords = [{ chord: parseChord('C'), start: 0, duration: 8 }];
    const tokens = ['C,0.500', 'S,0.250,<P5,A1>', 'C,0.250,<m3,d-3>', 'A,0.500,<P4,m-2>', 'X,0.333,<P8,P-8>', 'C,1.000,<m-3,d-7>'];
    const rng = new Rng(4);
    const notes = notesFromTokens(tokens, chords, () => rng.random(), 2);
    expect(notes.map((n) => n.start)).toEqual([2, 2.5, 2.75, 3, 3.5, 3.5 + 0.333]);
    const want = { C: 'chord', S: 'scale', A: 'approach', X: 'other' } as const;
    notes.forEach((n, k) => {
      const tok = parseToken(tokens[k]);
      expect(toneClass(n.pitch, chords[0].chord)).toBe(want[tok.type as 'C']);
      if (k > 0 && tok.window) {
        expect(n.pitch - notes[k - 1].pitch).toBeGreaterThanOrEqual(tok.window[0]);
        expect(n.pitch - notes[k - 1].pitch).toBeLessThanOrEqual(tok.window[1]);
      }
    });
  });
});
