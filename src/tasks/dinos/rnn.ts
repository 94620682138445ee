/**
 * dinos, the course's model: a character-level RNN by hand (src/models/handwritten/char-rnn.ts),
 * one name per SGD step, BPTT, clipping, the hidden state carried between names, smoothed loss, 7
 * samples every 2,000 iterations. Ctrl-C saves the model so far and the state to continue from.
 */
import * as path from 'path';
import { NonFiniteLossError, SeqlabError, UsageError } from '../../core/errors';
import { writeLossChart } from '../../core/plot';
import { formatSeconds } from '../../core/progress';
import { Options, RunContext } from '../../core/task';
import { beginTraining, checkpointSaver, InterruptGuard } from '../../core/train';
import { CharRnn, initCharRnn } from '../../models/handwritten/char-rnn';
import { decode, encodeName, readNames, split, vocabulary, Vocab } from './data';
import { fromLayersModel, toLayersModel } from './model';

export interface DinosConfig {
  model?: 'rnn';
  corpus: string | null;
  iterations: number;
  hidden: number;
  lr: number;
  clip: number;
  valSplit: number;
}

/** What a resumed run needs besides the weights. */
interface RnnState {
  iteration: number;
  smoothedLoss: number;
  aPrev: number[];
  curve: [number, number][];
  reports: { iteration: number; loss: number; samples: string[] }[];
}

/** The longest line the RNN takes as one name (one SGD step each): longer lines are running text. */
export const MAX_NAME_LENGTH = 1000;

export const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Samples `n` names with seeds seed, seed+1, ... (the course prints 7 with seeds 0-6). */
export function sampleNames(rnn: CharRnn, v: Vocab, n: number, seed: number, opts: { temperature?: number; prime?: string } = {}): string[] {
  const prime = opts.prime ? encodeName(opts.prime, v).Y.slice(0, -1) : [];
  return Array.from({ length: n }, (_, k) => {
    const text = decode(rnn.sample(v.newline, seed + k, { temperature: opts.temperature, prime }), v);
    return (opts.prime ?? '') + text.replace(/\n$/, '');
  });
}

export function heldOutNll(rnn: CharRnn, held: readonly string[], v: Vocab) {
  let nll = 0;
  let chars = 0;
  for (const name of held) {
    const { X, Y } = encodeName(name, v);
    nll += rnn.nll(X, Y);
    chars += Y.length;
  }
  return { names: held.length, chars, nats: nll / chars, bits: nll / chars / Math.LN2 };
}

export async function trainRnn(_args: string[], options: Options, ctx: RunContext) {
  const resumed = await beginTraining('dinos', options, ctx, {
    unit: 'iteration',
    check: (m) => {
      if ((m.hyperparameters as { model?: string }).model === 'lstm') throw new UsageError(`the checkpoint at ${ctx.checkpointDir} holds an LSTM: resume it with --model lstm`);
      if (!m.state) {
        throw new UsageError(`the checkpoint at ${ctx.checkpointDir} finished its ${m.epoch} iterations and keeps no state to continue from (only an interrupted run does): train again without --resume`);
      }
    },
  });
  const saved = resumed.meta?.hyperparameters as unknown as DinosConfig | undefined;
  const state = resumed.meta?.state as unknown as RnnState | undefined;
  const seed = resumed.meta?.seed ?? ctx.seed;
  const config: DinosConfig = {
    ...(saved ?? {
      model: 'rnn',
      corpus: options.corpus ? path.resolve(options.corpus as string) : null,
      hidden: options.hidden as number,
      lr: (options.lr as number | undefined) ?? 0.01,
      clip: options.clip as number,
      valSplit: options.valSplit as number,
    }),
    iterations: options.iterations as number,
  };
  const { names, source } = readNames(config.corpus ?? undefined);
  const long = names.findIndex((n) => [...n].length > MAX_NAME_LENGTH);
  if (long >= 0) {
    throw new UsageError(
      `${source} has a line of ${[...names[long]].length.toLocaleString('en-US')} characters: the RNN learns one name per line (at most ${MAX_NAME_LENGTH}); for running text use --model lstm`,
    );
  }
  const vocab = vocabulary(names);
  const { train: trainNames, held } = split(names, config.valSplit);
  if (!trainNames.length) throw new UsageError('--val-split leaves no names to train on');
  const examples = trainNames.map((n) => encodeName(n, vocab));
  const rnn = new CharRnn(resumed.model ? await fromLayersModel(resumed.model) : initCharRnn(config.hidden, vocab.chars.length, seed));
  const every = options.reportEvery as number;
  ctx.reporter.info(
    `dinos: ${trainNames.length} names from ${source} (${held.length} held out), vocabulary ${vocab.chars.length}, ` +
      `RNN n_a ${config.hidden}, SGD lr ${config.lr}, clip ±${config.clip}, ${config.iterations} iterations`,
  );
  const aPrev = state ? Float64Array.from(state.aPrev) : new Float64Array(config.hidden);
  let loss = state?.smoothedLoss ?? -Math.log(1 / vocab.chars.length) * 7; // the course's initial smoothed loss
  const curve: [number, number][] = state?.curve ?? [];
  const reports = state?.reports ?? [];
  const first = state?.iteration ?? 0;
  if (first >= config.iterations) ctx.reporter.info(`the checkpoint has ${first} iterations already; nothing to do (raise --iterations)`);
  const saver = checkpointSaver(ctx, { task: 'dinos', seed, hyperparameters: { ...config }, vocabularies: { chars: vocab.chars } }, resumed.meta);
  const save = (done: number, finished: boolean) =>
    saver.save(toLayersModel(rnn.p, vocab.chars.length, config.hidden), done, reports.map((r) => ({ epoch: r.iteration, seconds: 0, loss: r.loss })), {
      ...(finished ? {} : { state: { iteration: done, smoothedLoss: loss, aPrev: Array.from(aPrev), curve, reports } satisfies RnnState }),
    });
  const guard = new InterruptGuard(ctx.reporter, 'saving the model so far and the state to resume from');
  const start = performance.now();
  let trainMs = 0;
  let j = first;
  try {
    for (; j < config.iterations; j++) {
      const { X, Y } = examples[j % examples.length];
      const t0 = performance.now();
      const current = rnn.optimize(X, Y, aPrev, config.lr, config.clip);
      trainMs += performance.now() - t0;
      if (!Number.isFinite(current)) throw new NonFiniteLossError(`iteration ${j}`, '--lr or --clip');
      loss = loss * 0.999 + current * 0.001;
      if (j % 100 === 0) {
        curve.push([j, loss]);
        ctx.reporter.batch(j % every, { loss });
        if (await guard.yield()) break;
      }
      if (j % every === 0 || j === config.iterations - 1) {
        const samples = sampleNames(rnn, vocab, 7, 0).map(capitalise);
        reports.push({ iteration: j, loss: +loss.toFixed(4), samples });
        const next = Math.min(j + every, config.iterations - 1);
        ctx.reporter.report(`iteration ${j}, loss ${loss.toFixed(6)}: ${samples.join(', ')}`, 'progress', { iteration: j, loss, samples }, { label: `iterations ${j + 1}-${next}`, total: next - j });
      }
    }
  } finally {
    guard.dispose();
  }
  const interrupted = j < config.iterations;
  const done = interrupted ? j + 1 : j;
  await save(done, !interrupted);
  const chart = writeLossChart(ctx.checkpointDir, { title: `dinos: smoothed loss (${source})`, xLabel: 'iteration', series: [{ name: 'smoothed loss', points: curve }] });
  const seconds = (performance.now() - start) / 1000;
  const perSecond = Math.round((done - first) / Math.max(trainMs / 1000, 1e-9));
  if (interrupted) {
    ctx.print(`interrupted after ${done} of ${config.iterations} iterations; the model so far is saved in ${ctx.checkpointDir}`);
    const where = options.checkpoint ? ` --checkpoint ${ctx.checkpointDir}` : '';
    ctx.print(`resume with: seqlab train dinos --iterations ${config.iterations} --resume${where}`);
    throw new SeqlabError('training interrupted (resumable checkpoint saved)', 130);
  }
  const heldNll = held.length ? heldOutNll(rnn, held, vocab) : undefined;
  ctx.print(
    `trained ${config.iterations} iterations in ${formatSeconds(seconds)} (${perSecond} iterations/s); ` +
      `smoothed loss ${loss.toFixed(3)}` + (heldNll ? `; held-out ${heldNll.nats.toFixed(3)} nats/char` : ''),
  );
  ctx.print(`checkpoint: ${ctx.checkpointDir}` + (chart ? ' (loss curve: loss.png)' : ''));
  return { iterations: config.iterations, seconds: +seconds.toFixed(2), iterationsPerSecond: perSecond, loss, reports, heldOut: heldNll };
}
