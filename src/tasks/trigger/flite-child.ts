/** The child process of flite.ts's Flite: speaks the batches of words it is sent and sends the samples back. */
import { messageOf } from '../../core/errors';
import { FliteEngine, FliteWord } from './flite';

const engine = FliteEngine.load();
process.on('message', async ({ id, words, sampleRate }: { id: number; words: FliteWord[]; sampleRate: number }) => {
  try {
    const flite = await engine;
    const said = words.map((w) => {
      const samples = flite.speak(w.voice, w.text, sampleRate);
      (globalThis as { gc?: () => void }).gc?.();
      return samples;
    });
    process.send!({ id, said });
  } catch (err) {
    process.send!({ id, error: messageOf(err) });
  }
});
process.on('disconnect', async () => {
  (await engine.catch(() => undefined))?.close();
  process.exit(0);
});
