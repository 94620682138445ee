/**
 * The one progress reporter. Human mode: a bar per epoch on stderr (when it is a terminal; plain
 * lines otherwise) with loss, metrics and ETA. JSON mode: one JSON object per line on stdout.
 * Quiet: nothing.
 */
import { SingleBar } from 'cli-progress';

export type OutputMode = 'human' | 'json' | 'quiet';

export type Metrics = Record<string, number>;

const fmt = (m: Metrics) =>
  Object.entries(m)
    .map(([k, v]) => `${k} ${Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(4)}`)
    .join('  ');

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 9.95) return `${s.toFixed(1)}s`;
  // rounded once, so 119.6 s is 2m00s (not 1m60s)
  const whole = Math.round(s);
  if (whole < 60) return `${whole}s`;
  const m = Math.floor(whole / 60);
  return m < 60 ? `${m}m${String(whole % 60).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class Reporter {
  private bar?: SingleBar;
  private epochStart = 0;
  private epochLabel = '';

  constructor(
    readonly mode: OutputMode,
    private readonly err: NodeJS.WriteStream = process.stderr,
    private readonly out: NodeJS.WritableStream = process.stdout,
  ) {}

  /** A line of information for a person (stderr): backend in use, where files went. */
  info(message: string): void {
    if (this.mode === 'human') this.err.write(message + '\n');
  }

  /** A warning is shown in every mode but quiet, on stderr. */
  warn(message: string): void {
    if (this.mode !== 'quiet') this.err.write(`warning: ${message}\n`);
  }

  /** A structured event: a JSON line in JSON mode, nothing otherwise. */
  event(kind: string, data: Record<string, unknown>): void {
    if (this.mode === 'json') this.out.write(JSON.stringify({ event: kind, ...data }) + '\n');
  }

  startEpoch(epoch: number, epochs: number, batches: number): void {
    this.startPhase(`epoch ${epoch}/${epochs}`, batches);
  }

  /** A bar for any stretch of work of `total` steps (an epoch, or iterations between two reports). */
  startPhase(label: string, total: number): void {
    this.epochStart = performance.now();
    this.epochLabel = label;
    const batches = total;
    if (this.mode !== 'human' || !this.err.isTTY) return;
    this.bar = new SingleBar(
      {
        format: `${this.epochLabel} [{bar}] {value}/{total}  {metrics}  ETA {eta_formatted}`,
        stream: this.err,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 20,
      },
    );
    this.bar.start(batches, 0, { metrics: '' });
  }

  batch(done: number, metrics: Metrics): void {
    this.bar?.update(done, { metrics: fmt(metrics) });
  }

  endEpoch(epoch: number, metrics: Metrics): void {
    this.bar?.stop();
    this.bar = undefined;
    const seconds = (performance.now() - this.epochStart) / 1000;
    this.info(`${this.epochLabel}  ${fmt(metrics)}  (${formatSeconds(seconds)})`);
    this.event('epoch', { epoch, seconds: +seconds.toFixed(2), ...metrics });
  }

  /**
   * A report line between stretches of work that are not epochs (every N iterations or steps):
   * ends the current bar, prints the line (its JSON event in --json mode), and starts the bar of
   * the next stretch, if there is one.
   */
  report(line: string, kind: string, data: Record<string, unknown>, next?: { label: string; total: number }): void {
    this.abort();
    this.info(line);
    this.event(kind, data);
    if (next && next.total > 0) this.startPhase(next.label, next.total);
  }

  /** Stops a bar mid-epoch (interrupt, error) so the next line starts clean. */
  abort(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}
