/**
 * Before any test: type-check and build dist/ (tsc), so tests that run the real `bin/seqlab` in a
 * child process (Ctrl-C, streaming output) never run stale code, whether started by `npm test`
 * or by a bare `npx jest`. A type error fails the run here.
 */
const { execFileSync } = require('child_process');
const path = require('path');

module.exports = () => {
  const root = path.join(__dirname, '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
};
