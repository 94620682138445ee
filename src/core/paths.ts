/** Where seqlab itself is installed (the folder holding its package.json), from src/ or dist/src/. */
import * as fs from 'fs';
import * as path from 'path';

export function packageRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('seqlab: package.json not found above ' + __dirname);
    dir = up;
  }
  return dir;
}

export function seqlabVersion(): string {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version;
}
