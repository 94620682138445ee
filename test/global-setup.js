/**
 * Before any test: compile the WebAssembly kernels and type-check and build dist/ (asc, tsc), so tests that run the real `bin/seqlab` in a
 * child process (Ctrl-C, streaming output) never run stale code, whether started by `npm test`
 * or by a bare `npx jest`. A type error fails the run here.
 */
const { execFileSync } = require('child_process');
const path = require('path');

/** `npm run kernels`, as package.json says it: asc commands joined by && (the plain and the relaxed-SIMD build) */
const KERNEL_BUILDS = require('../package.json').scripts.kernels.split(' && ').map((command) => command.split(' ').slice(1));

module.exports = () => {
  const root = path.join(__dirname, '..');
  for (const args of KERNEL_BUILDS) execFileSync(process.execPath, [path.join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js'), ...args], { stdio: 'inherit', cwd: root });
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
};
