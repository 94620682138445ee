/**
 * dinos --model lstm: a tfjs character LSTM for any text (src/tasks/dinos/model.ts), trained with
 * the shared loop: a checkpoint every epoch, --resume, Ctrl-C, held-out NLL and samples per epoch.
 */
import * as path from 'path';
import { adam } from '../../core/optimizer';
import { SeqlabError, UsageError } from '../../core/errors';
import { writeLossChart } from '../../core/plot';
import { formatSeconds } from '../../core/progress';
import { deriveSeed, Rng } from '../../core/rng';
import { Options, RunContext } from '../../core/task';
import { beginTraining, checkpointSaver, interruption, trainLoop } from '../../core/train';
import { readNames, split, vocabFrom, vocabulary } from './data';
import { buildLstmLm, LstmLmConfig, namesNll, sampleLstm, textIndices, windowBatch } from './model';
import { capitalise } from './rnn';

export interface LstmRunConfig extends LstmLmConfig {
  model: 'lstm';
  corpus: string | null;
  valSplit: number;
  batchSize: number;
  lr: number;
}

export async function trainLstm(_args: string[], options: Options, ctx: RunContext) {
  const epochs = options.epochs as number;
  const resumed = await beginTraining('dinos', options, ctx, {
    epochs,
    check: (m) => {
      if ((m.hyperparameters as { model?: string }).model !== 'lstm') throw new SeqlabError(`the checkpoint at ${ctx.checkpointDir} holds the hand-written RNN, not an LSTM`);
    },
  });
  const meta = resumed.meta;
  const config: LstmRunConfig = meta
    ? (meta.hyperparameters as unknown as LstmRunConfig)
    : {
        model: 'lstm',
        corpus: options.corpus ? path.resolve(options.corpus as string) : null,
        valSplit: options.valSplit as number,
        layers: options.layers as number,
        units: options.units as number,
        dropout: options.dropout as number,
        seqLen: options.seqLen as number,
        batchSize: options.batchSize as number,
        lr: (options.lr as number | undefined) ?? 0.003,
      };
  const seed = meta?.seed ?? ctx.seed;
  const { names, source } = readNames(config.corpus ?? undefined);
  const vocab = meta ? vocabFrom(meta.vocabularies.chars as string[]) : vocabulary(names);
  const { train: trainNames, held } = split(names, config.valSplit);
  const text = textIndices(trainNames, vocab);
  const L = config.seqLen;
  if (text.length <= L + 1) throw new UsageError(`the corpus is shorter than --seq-len ${L}`);
  const windowStarts = Array.from({ length: Math.floor((text.length - L - 1) / Math.max(1, L >> 2)) + 1 }, (_, i) => i * Math.max(1, L >> 2));
  const batchesPerEpoch = Math.max(1, Math.floor(windowStarts.length / config.batchSize));
  const model = resumed.model ?? buildLstmLm(vocab.chars.length, config, seed);
  if (!resumed.model) model.compile({ optimizer: adam(config.lr), loss: 'categoricalCrossentropy' });
  ctx.reporter.info(
    `dinos lstm: ${trainNames.length} names from ${source} (${held.length} held out), vocabulary ${vocab.chars.length}, ` +
      `${config.layers}x LSTM(${config.units}) dropout ${config.dropout}, windows of ${L}, batch ${config.batchSize}, Adam ${config.lr}`,
  );
  let order = { epoch: 0, starts: [] as number[] };
  const saver = checkpointSaver(ctx, { task: 'dinos', seed, hyperparameters: { ...config }, vocabularies: { chars: vocab.chars } }, meta);
  const result = await trainLoop({
    model,
    epochs,
    resumed: meta,
    batchesPerEpoch,
    batch(epoch, i) {
      if (order.epoch !== epoch) order = { epoch, starts: new Rng(deriveSeed(seed, 'dinos-lstm-windows', epoch)).shuffle([...windowStarts]) };
      return windowBatch(text, order.starts.slice(i * config.batchSize, (i + 1) * config.batchSize), L, vocab.chars.length);
    },
    async validate() {
      const metrics: Record<string, number> = {};
      if (held.length) {
        const { nll, chars } = await namesNll(model, held, vocab);
        metrics.val_nll = nll / chars;
      }
      for (const t of [0.5, 1]) {
        const samples: string[] = [];
        for (let k = 0; k < 5; k++) samples.push(capitalise(await sampleLstm(model, vocab, seed + k, t)));
        ctx.reporter.info(`  temperature ${t}: ${samples.join(', ')}`);
      }
      return metrics;
    },
    save: (epoch, history, interrupted) => saver.save(model, epoch, history, { interrupted }),
    reporter: ctx.reporter,
  });
  if (result.status === 'interrupted') throw interruption(result, ctx.checkpointDir, 'dinos', `seqlab train dinos --model lstm --epochs ${epochs}`, ctx.print);
  writeLossChart(ctx.checkpointDir, {
    title: `dinos lstm (${source})`,
    xLabel: 'epoch',
    series: [
      { name: 'train loss (nats/char)', points: result.history.map((h) => [h.epoch, h.loss]) },
      { name: 'held-out NLL (nats/char)', points: result.history.map((h) => [h.epoch, h.val_nll]) },
    ],
  });
  const last = result.history[result.history.length - 1];
  ctx.print(`trained ${result.epoch} epochs in ${formatSeconds(result.seconds)}` + (last?.val_nll !== undefined ? `; held-out ${last.val_nll.toFixed(3)} nats/char` : ''));
  ctx.print(`checkpoint: ${ctx.checkpointDir}`);
  return { model: 'lstm', epochs: result.epoch, seconds: +result.seconds.toFixed(1), heldOutNats: last?.val_nll, history: result.history };
}
