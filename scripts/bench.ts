/**
 * Benchmarks: `npm run bench -- nmt [--backends wasm,cpu] [--batch-sizes 100,256] [--steps 10] [--full [--seed N]]`
 *
 * For each available backend (each in its own process, so peak memory is its own) it times
 * training steps of the task's model and prints steps/s, examples/s and peak RSS. With --full it
 * also runs the real `seqlab train nmt --epochs 20` and reports the time to reach 99% held-out
 * exact match and the final figures.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { BackendName, initBackend } from '../src/core/backend';
import { packageRoot } from '../src/core/paths';

interface StepResult {
  backend: string;
  batchSize: number;
  msPerStep: number;
  stepsPerSecond: number;
  examplesPerSecond: number;
  peakRssMiB: number;
}

/** Benchmarks the date model's training step (run in a child process per backend). */
async function nmtSteps(backend: BackendName, batchSize: number, steps: number): Promise<StepResult> {
  const info = await initBackend(backend);
  const { buildModel, inputTensor, targetTensor, DEFAULTS } = await import('../src/tasks/nmt');
  const { generateDates } = await import('../src/tasks/nmt/dates');
  const model = buildModel(DEFAULTS.arch, 1);
  model.compile({ optimizer: tf.train.adam(0.005), loss: 'categoricalCrossentropy' });
  const pairs = generateDates(batchSize, 1);
  const x = inputTensor(pairs.map((p) => p.human));
  const y = targetTensor(pairs.map((p) => p.iso));
  for (let i = 0; i < 2; i++) await model.trainOnBatch(x, y); // warm-up
  const start = performance.now();
  for (let i = 0; i < steps; i++) await model.trainOnBatch(x, y);
  const ms = (performance.now() - start) / steps;
  return {
    backend: info.name,
    batchSize,
    msPerStep: +ms.toFixed(1),
    stepsPerSecond: +(1000 / ms).toFixed(2),
    examplesPerSecond: Math.round((batchSize * 1000) / ms),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function fullTraining(seed: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'seqlab-bench-'));
  const bin = path.join(packageRoot(), 'bin', 'seqlab');
  console.log(`\nfull run: seqlab train nmt --epochs 20 --seed ${seed} (checkpoint in ${dir})`);
  const start = performance.now();
  const run = spawnSync(process.execPath, [bin, 'train', 'nmt', '--epochs', '20', '--seed', seed, '--json', '--checkpoint', dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  const wall = (performance.now() - start) / 1000;
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
  let elapsed = 0;
  let reached: number | undefined;
  for (const e of lines.filter((l) => l.event === 'epoch')) {
    elapsed += e.seconds;
    console.log(`  epoch ${String(e.epoch).padStart(2)}  loss ${e.loss.toFixed(4)}  held-out exact ${(e.val_exact * 100).toFixed(2)}%  ${elapsed.toFixed(0)}s`);
    if (reached === undefined && e.val_exact >= 0.99) reached = elapsed;
  }
  const result = lines[lines.length - 1];
  const evalOut = execFileSync(process.execPath, [bin, 'eval', 'nmt', '--json', '--quiet', '--examples', '5000', '--checkpoint', dir], { encoding: 'utf8' });
  const ev = JSON.parse(evalOut.trim().split('\n').pop()!);
  console.log(`  wall time ${wall.toFixed(0)}s; 99% held-out exact match reached after ${reached === undefined ? 'never' : reached.toFixed(0) + 's'}; peak RSS ${result.peakRssMiB} MiB`);
  console.log(`  eval on 5,000 fresh dates: exact match ${(ev.exactMatch * 100).toFixed(2)}%`);
}

async function main(): Promise<void> {
  const task = process.argv[2];
  if (task === '--child') {
    const [backend, batch, steps] = process.argv.slice(3);
    console.log(JSON.stringify(await nmtSteps(backend as BackendName, Number(batch), Number(steps))));
    return;
  }
  if (task !== 'nmt') {
    console.error(`usage: npm run bench -- nmt [--backends wasm,cpu] [--batch-sizes 100,256] [--steps 10] [--full [--seed N]]` + (task ? ` (no benchmark for '${task}' yet)` : ''));
    process.exit(2);
  }
  const backends = arg('--backends', 'cuda,node,wasm,cpu').split(',');
  const batches = arg('--batch-sizes', '100,256').split(',');
  const steps = arg('--steps', '10');
  console.log(`nmt training step (date attention model), ${os.cpus().length} cores, node ${process.version}`);
  console.log('backend  batch   ms/step  steps/s  examples/s  peak RSS');
  for (const backend of backends) {
    for (const batch of batches) {
      const child = spawnSync(process.execPath, [__filename, '--child', backend, batch, backend === 'cpu' ? '3' : steps], { encoding: 'utf8' });
      const line = child.stdout.trim().split('\n').pop() ?? '';
      if (child.status !== 0 || !line.startsWith('{')) {
        console.log(`${backend.padEnd(8)} not available (${(child.stderr.trim().split('\n').pop() ?? '').replace(/^seqlab: /, '')})`);
        break;
      }
      const r: StepResult = JSON.parse(line);
      console.log(
        `${r.backend.padEnd(8)} ${String(r.batchSize).padStart(5)} ${r.msPerStep.toFixed(0).padStart(9)} ${r.stepsPerSecond.toFixed(2).padStart(8)} ${String(r.examplesPerSecond).padStart(11)} ${String(r.peakRssMiB).padStart(6)} MiB`,
      );
    }
  }
  if (process.argv.includes('--full')) fullTraining(arg('--seed', '1'));
}

main().catch((err) => {
  console.error(String(err?.message ?? err));
  process.exit(1);
});
