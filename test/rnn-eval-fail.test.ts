import { main } from '../src/cli';

// a failing check must make `seqlab eval rnn` exit non-zero, after printing the table
jest.mock('../src/tasks/rnn/checks', () => ({
  runChecks: async () => [
    { name: 'good row', expected: '1', got: '1', pass: true },
    { name: 'bad row', expected: '1', got: '2', pass: false },
  ],
}));

test('eval rnn exits 1 and names the failed checks', async () => {
  let out = '';
  let err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += s.toString()), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += s.toString()), true));
  const code = await main(['node', 'seqlab', 'eval', 'rnn', '--quiet']);
  o.mockRestore();
  e.mockRestore();
  expect(code).toBe(1);
  expect(out).toMatch(/bad row +1 +2 +FAIL/);
  expect(err.trim()).toBe('seqlab: 1 of 2 checks failed: bad row');
});
