/**
 * Pictures a person would rather look at than read: heatmaps (attention maps) and line charts
 * (loss curves), as PNG bytes. Drawn with @napi-rs/canvas; returns undefined where that native
 * package is not available, so callers can say so instead of crashing.
 */
import * as path from 'path';
import { writeFileAtomic } from './files';

type CanvasModule = typeof import('@napi-rs/canvas');
type Ctx = ReturnType<ReturnType<CanvasModule['createCanvas']>['getContext']>;

let canvasModule: CanvasModule | null | undefined;
function canvas(): CanvasModule | null {
  if (canvasModule === undefined) {
    try {
      canvasModule = require('@napi-rs/canvas') as CanvasModule;
    } catch {
      canvasModule = null;
    }
  }
  return canvasModule;
}

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** viridis-like ramp from dark blue (0) through green to yellow (1) */
function colour(v: number): string {
  const c = rgb(v);
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function rgb(v: number): number[] {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const x = Math.min(1, Math.max(0, v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return stops[i].map((s, k) => Math.round(s + (stops[i + 1][k] - s) * f));
}

export interface HeatmapSpec {
  title: string;
  /** rows × columns, values in [0, 1] */
  matrix: number[][];
  rowLabels: string[];
  colLabels: string[];
  xLabel?: string;
  yLabel?: string;
}

export function heatmapPng(spec: HeatmapSpec): Buffer | undefined {
  const cv = canvas();
  if (!cv) return undefined;
  const rows = spec.matrix.length;
  const cols = spec.matrix[0]?.length ?? 0;
  const cell = 24;
  const left = 60;
  const top = 50;
  const width = left + cols * cell + 70;
  const height = top + rows * cell + 50;
  const c = cv.createCanvas(Math.max(width, 320), height);
  const g = c.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = '#000';
  g.font = `14px ${FONT}`;
  g.fillText(spec.title, 10, 22);
  const max = Math.max(1e-9, ...spec.matrix.flat());
  g.font = `13px ${FONT}`;
  g.textAlign = 'center';
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < cols; k++) {
      g.fillStyle = colour(spec.matrix[r][k] / max);
      g.fillRect(left + k * cell, top + r * cell, cell - 1, cell - 1);
    }
    g.fillStyle = '#000';
    g.fillText(spec.rowLabels[r] ?? '', left - 14, top + r * cell + cell * 0.7);
  }
  spec.colLabels.forEach((label, k) => g.fillText(label, left + k * cell + cell / 2, top + rows * cell + 16));
  g.font = `11px ${FONT}`;
  if (spec.xLabel) g.fillText(spec.xLabel, left + (cols * cell) / 2, top + rows * cell + 38);
  if (spec.yLabel) {
    g.save();
    g.translate(14, top + (rows * cell) / 2);
    g.rotate(-Math.PI / 2);
    g.fillText(spec.yLabel, 0, 0);
    g.restore();
  }
  // colour bar
  const barX = left + cols * cell + 20;
  for (let i = 0; i < rows * cell; i++) {
    g.fillStyle = colour(1 - i / (rows * cell));
    g.fillRect(barX, top + i, 12, 1);
  }
  g.fillStyle = '#000';
  g.textAlign = 'left';
  g.fillText(max.toFixed(2), barX + 15, top + 8);
  g.fillText('0', barX + 15, top + rows * cell);
  return c.toBuffer('image/png');
}

export interface LineChartSpec {
  title: string;
  xLabel: string;
  series: { name: string; points: [number, number][] }[];
  logY?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];

function drawAxes(g: Ctx, x0: number, y0: number, w: number, h: number): void {
  g.strokeStyle = '#444';
  g.lineWidth = 1;
  g.strokeRect(x0, y0, w, h);
}

export function lineChartPng(spec: LineChartSpec): Buffer | undefined {
  const cv = canvas();
  if (!cv) return undefined;
  const width = 640;
  const height = 400;
  const [x0, y0, w, h] = [70, 40, 540, 300];
  const c = cv.createCanvas(width, height);
  const g = c.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, width, height);
  // on a log axis, zero and negative values have no place: those points are left out
  const shown = (y: number) => Number.isFinite(y) && (!spec.logY || y > 0);
  const ty = (v: number) => (spec.logY ? Math.log10(v) : v);
  const all = spec.series.flatMap((s) => s.points).filter(([, y]) => shown(y));
  if (!all.length) return c.toBuffer('image/png');
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => ty(y));
  const [xmin, xmax] = [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)];
  let [ymin, ymax] = [Math.min(...ys), Math.max(...ys)];
  if (spec.logY) [ymin, ymax] = [Math.floor(ymin), Math.max(Math.ceil(ymax), Math.floor(ymin) + 1)];
  if (ymax - ymin < 1e-9) [ymin, ymax] = [ymin - 1, ymax + 1];
  const px = (x: number) => x0 + ((x - xmin) / (xmax - xmin)) * w;
  const py = (y: number) => y0 + h - ((ty(y) - ymin) / (ymax - ymin)) * h;
  drawAxes(g, x0, y0, w, h);
  g.fillStyle = '#000';
  g.font = `14px ${FONT}`;
  g.fillText(spec.title, x0, 24);
  g.font = `11px ${FONT}`;
  // y ticks: powers of ten on a log axis, quarters otherwise
  const ticks = spec.logY
    ? Array.from({ length: ymax - ymin + 1 }, (_, k) => ymin + k)
    : [0, 1, 2, 3, 4].map((k) => ymin + ((ymax - ymin) * k) / 4);
  for (const v of ticks) {
    const label = spec.logY ? (v >= 0 ? String(10 ** v) : `1e${v}`) : Number(v.toPrecision(3)).toString();
    const yy = y0 + h - ((v - ymin) / (ymax - ymin)) * h;
    g.fillText(label, x0 - 8 - g.measureText(label).width, yy + 4);
  }
  g.fillText(String(xmin), x0, y0 + h + 16);
  g.fillText(String(xmax), x0 + w - 12, y0 + h + 16);
  g.fillText(spec.xLabel, x0 + w / 2 - 20, y0 + h + 34);
  if (spec.logY) g.fillText('log scale', 8, y0 - 8);
  spec.series.forEach((s, k) => {
    g.strokeStyle = PALETTE[k % PALETTE.length];
    g.lineWidth = 2;
    g.beginPath();
    let drawing = false;
    for (const [x, y] of s.points) {
      if (!shown(y)) {
        drawing = false; // a gap where the value cannot be shown
        continue;
      }
      if (drawing) g.lineTo(px(x), py(y));
      else g.moveTo(px(x), py(y));
      drawing = true;
    }
    g.stroke();
    g.fillStyle = g.strokeStyle;
    // a dot at each point, so a curve of one epoch (or with gaps) still shows
    const visible = s.points.filter(([, y]) => shown(y));
    if (visible.length <= 60) {
      for (const [x, y] of visible) {
        g.beginPath();
        g.arc(px(x), py(y), 3, 0, 2 * Math.PI);
        g.fill();
      }
    }
    g.fillText(s.name, x0 + w - 290, y0 + 18 + 16 * k);
  });
  return c.toBuffer('image/png');
}

/** Writes a training chart as `loss.png` in a checkpoint folder; returns its path, or undefined without a canvas. */
export function writeLossChart(dir: string, spec: LineChartSpec): string | undefined {
  const png = lineChartPng(spec);
  if (!png) return undefined;
  const file = path.join(dir, 'loss.png');
  writeFileAtomic(file, png);
  return file;
}

export interface TrackPlotSpec {
  title: string;
  /** seconds shown */
  seconds: number;
  /** time-major [frames × bands] (already on a log scale), drawn as an image, low bands at the bottom */
  image: { data: Float32Array; frames: number; bands: number };
  /** curves in [0, 1] under the image */
  tracks: { name: string; times: ArrayLike<number>; values: ArrayLike<number> }[];
  /** a dashed horizontal line in the track panel */
  threshold?: number;
  /** moments marked with a red line through both panels */
  markers?: number[];
}

/** A spectrogram with probability tracks under it, a threshold and marked moments (trigger's detect and sample). */
export function trackPng(spec: TrackPlotSpec): Buffer | undefined {
  const cv = canvas();
  if (!cv) return undefined;
  const [x0, w] = [50, 1000];
  const [imgTop, imgH] = [34, 180];
  const [trTop, trH] = [imgTop + imgH + 12, 130];
  const c = cv.createCanvas(x0 + w + 20, trTop + trH + 40);
  const g = c.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  const { data, frames, bands } = spec.image;
  // colour scale: 2nd to 99.5th percentile of a sample of the values
  const sample = Array.from({ length: Math.min(data.length, 20000) }, (_, i) => data[Math.floor((i * data.length) / Math.min(data.length, 20000))]).filter(Number.isFinite).sort((a, b) => a - b);
  const lo = sample[Math.floor(sample.length * 0.02)] ?? 0;
  const hi = sample[Math.floor(sample.length * 0.995)] ?? 1;
  const img = g.createImageData(w, imgH);
  for (let x = 0; x < w; x++) {
    const f = Math.min(frames - 1, Math.floor((x * frames) / w));
    for (let y = 0; y < imgH; y++) {
      const b = Math.min(bands - 1, Math.floor(((imgH - 1 - y) * bands) / imgH));
      const v = frames ? data[f * bands + b] : lo;
      const [r, gg, bb] = rgb((v - lo) / (hi - lo || 1));
      const at = (y * w + x) * 4;
      img.data[at] = r;
      img.data[at + 1] = gg;
      img.data[at + 2] = bb;
      img.data[at + 3] = 255;
    }
  }
  g.putImageData(img, x0, imgTop);
  drawAxes(g, x0, trTop, w, trH);
  const px = (t: number) => x0 + (t / (spec.seconds || 1)) * w;
  const py = (v: number) => trTop + trH - Math.min(1, Math.max(0, v)) * trH;
  g.fillStyle = '#000';
  g.font = `14px ${FONT}`;
  g.fillText(spec.title, x0, 22);
  g.font = `11px ${FONT}`;
  for (const v of [0, 0.5, 1]) g.fillText(String(v), x0 - 22, py(v) + 4);
  const step = spec.seconds > 120 ? 60 : spec.seconds > 30 ? 10 : 1;
  for (let t = 0; t <= spec.seconds + 1e-9; t += step) g.fillText(`${t}`, px(t) - 4, trTop + trH + 14);
  g.fillText(step === 60 ? 'minutes × 60 s' : 'seconds', x0 + w / 2 - 20, trTop + trH + 30);
  if (spec.threshold !== undefined) {
    g.strokeStyle = '#888';
    g.setLineDash([6, 4]);
    g.beginPath();
    g.moveTo(x0, py(spec.threshold));
    g.lineTo(x0 + w, py(spec.threshold));
    g.stroke();
    g.setLineDash([]);
  }
  spec.tracks.forEach((tr, k) => {
    g.strokeStyle = PALETTE[k % PALETTE.length];
    g.lineWidth = 1.5;
    g.beginPath();
    for (let j = 0; j < tr.values.length; j++) (j ? g.lineTo.bind(g) : g.moveTo.bind(g))(px(tr.times[j]), py(tr.values[j]));
    g.stroke();
    g.fillStyle = PALETTE[k % PALETTE.length];
    g.fillText(tr.name, x0 + w - 260, trTop + 14 + 14 * k);
  });
  g.strokeStyle = '#e00';
  g.lineWidth = 2;
  for (const t of spec.markers ?? []) {
    g.beginPath();
    g.moveTo(px(t), imgTop);
    g.lineTo(px(t), trTop + trH);
    g.stroke();
  }
  return c.toBuffer('image/png');
}

export interface PianoRollSpec {
  title: string;
  /** notes in quarters; `kind` picks the colour and the legend entry */
  notes: { pitch: number; start: number; duration: number; kind: string }[];
  /** kinds in legend order, with their colours */
  kinds: [string, string][];
  /** notes drawn in grey beneath (the accompaniment) */
  background?: { pitch: number; start: number; duration: number }[];
  /** labels along the top: chord symbols at their start (quarters) */
  labels?: { at: number; text: string }[];
  quarters: number;
  /** quarters per bar line */
  bar?: number;
}

const NOTE_NAMES = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];

/** A piano roll: time across, pitch up, bar lines, chord symbols over the bars, notes coloured by kind. */
export function pianoRollPng(spec: PianoRollSpec): Buffer | undefined {
  const cv = canvas();
  if (!cv) return undefined;
  const all = [...spec.notes, ...(spec.background ?? [])];
  const lo = Math.min(...all.map((n) => n.pitch), 60) - 1;
  const hi = Math.max(...all.map((n) => n.pitch), 72) + 1;
  const [x0, top] = [44, 56];
  const w = Math.max(600, Math.min(2400, Math.round(spec.quarters * 18)));
  const rowH = Math.max(3, Math.min(10, Math.floor(520 / (hi - lo + 1))));
  const h = (hi - lo + 1) * rowH;
  const c = cv.createCanvas(x0 + w + 20, top + h + 40);
  const g = c.getContext('2d');
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  const px = (q: number) => x0 + (q / (spec.quarters || 1)) * w;
  const py = (p: number) => top + (hi - p) * rowH;
  // rows of the black keys shaded, Cs named
  for (let p = lo; p <= hi; p++) {
    if ([1, 3, 6, 8, 10].includes(((p % 12) + 12) % 12)) {
      g.fillStyle = '#f3f3f3';
      g.fillRect(x0, py(p), w, rowH);
    }
    if (p % 12 === 0) {
      g.fillStyle = '#000';
      g.font = `10px ${FONT}`;
      g.fillText(`${NOTE_NAMES[0]}${p / 12 - 1}`, 6, py(p) + rowH);
    }
  }
  g.strokeStyle = '#bbb';
  g.lineWidth = 1;
  for (let q = 0; q <= spec.quarters + 1e-9; q += spec.bar ?? 4) {
    g.beginPath();
    g.moveTo(px(q), top);
    g.lineTo(px(q), top + h);
    g.stroke();
  }
  g.fillStyle = '#ccc';
  for (const n of spec.background ?? []) g.fillRect(px(n.start), py(n.pitch) + 1, Math.max(1, px(n.start + n.duration) - px(n.start) - 1), rowH - 2);
  const colours = new Map(spec.kinds);
  for (const n of spec.notes) {
    g.fillStyle = colours.get(n.kind) ?? '#000';
    g.fillRect(px(n.start), py(n.pitch), Math.max(2, px(n.start + n.duration) - px(n.start) - 1), rowH);
  }
  g.fillStyle = '#000';
  g.font = `14px ${FONT}`;
  g.fillText(spec.title, x0, 20);
  g.font = `11px ${FONT}`;
  let lastEnd = -Infinity;
  for (const l of spec.labels ?? []) {
    const x = px(l.at) + 2;
    if (x < lastEnd) continue; // no overprinting when chords change quickly
    g.fillText(l.text, x, top - 6);
    lastEnd = x + g.measureText(l.text).width + 4;
  }
  let lx = x0;
  for (const [kind, col] of spec.kinds) {
    g.fillStyle = col;
    g.fillRect(lx, 30, 10, 10);
    g.fillStyle = '#000';
    g.fillText(kind, lx + 14, 39);
    lx += 24 + g.measureText(kind).width;
  }
  g.fillText(`${spec.quarters / (spec.bar ?? 4)} bars`, x0 + w / 2 - 20, top + h + 20);
  return c.toBuffer('image/png');
}
