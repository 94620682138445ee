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
  const c = stops[i].map((s, k) => Math.round(s + (stops[i + 1][k] - s) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
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
