/**
 * Files a user gives seqlab and files seqlab writes, with one clear line for every way they fail:
 * the system's reason by name (ENOENT, EISDIR, EACCES, EROFS, ENOSPC, ENOTDIR ...) and the path.
 * Every task reads its inputs and writes its outputs through here.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SeqlabError } from './errors';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'it is a folder, not a file',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EEXIST: 'it exists already',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
  ELOOP: 'too many symbolic links',
};

/** The reason of a file-system error in words, with its code: "permission denied (EACCES)". */
export function fsReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code && REASONS[code]) return `${REASONS[code]} (${code})`;
  if (code) return code;
  return err instanceof Error ? err.message : String(err);
}

/** True for errors thrown by the file system (they carry a code such as ENOENT). */
export function isFsError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

/** A SeqlabError saying what could not be done to which path, and why. */
export function fileError(verb: string, file: string, err: unknown): SeqlabError {
  return new SeqlabError(`cannot ${verb} ${file}: ${fsReason(err)}`);
}

/**
 * Reads a user's text file (`what` names it in errors: "corpus", "TSV file"). A folder, a missing
 * or unreadable file, and a binary file each get their own message.
 */
export function readTextFile(file: string, what = 'file'): string {
  checkReadableFile(file, what);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw fileError(`read ${what}`, file, err);
  }
  if (buf.includes(0)) throw new SeqlabError(`cannot read ${what} ${file}: it is not a text file`);
  return buf.toString('utf8');
}

/** Checks that a user's input file exists, is a file (not a folder) and can be read. */
export function checkReadableFile(file: string, what = 'file'): void {
  try {
    if (fs.statSync(file).isDirectory()) throw Object.assign(new Error('folder'), { code: 'EISDIR' });
    fs.accessSync(file, fs.constants.R_OK);
  } catch (err) {
    throw fileError(`read ${what}`, file, err);
  }
}

/** Writes a file whole or not at all: into a temporary file beside it, flushed, then renamed. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    writeFileSynced(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/** Writes and flushes to disk (fsync) before returning. */
export function writeFileSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Checks, before any work is done, that a file can be written where the user asked (an output
 * PNG, a WAV): its folder exists and is writable, and the path is not a folder.
 */
export function checkWritableFile(file: string, what = 'file'): void {
  const dir = path.dirname(path.resolve(file));
  try {
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw Object.assign(new Error('folder'), { code: 'EISDIR' });
    if (!fs.statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    fs.accessSync(dir, fs.constants.W_OK);
    if (fs.existsSync(file)) fs.accessSync(file, fs.constants.W_OK);
  } catch (err) {
    throw fileError(`write ${what}`, file, err);
  }
}

/**
 * Makes sure a folder exists and files can be created in it, by creating and removing a probe
 * file (access() says yes on read-only mounts for root). Throws a SeqlabError naming the reason.
 */
export function checkWritableDir(dir: string, what = 'folder'): void {
  let created: string[] = [];
  try {
    created = makeDirs(dir);
    const probe = path.join(dir, `.seqlab-probe-${process.pid}`);
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
  } catch (err) {
    throw fileError(`write ${what}`, dir, err);
  } finally {
    // the folders are made again by the first save: a run that fails before it leaves none behind
    for (const d of created.reverse()) fs.rmdirSync(d);
  }
}

/**
 * mkdir -p, one level at a time: Node's own recursive mkdir loops forever on some file systems
 * (/proc), where this gets the system's error instead.
 */
export function makeDirs(dir: string): string[] {
  const missing: string[] = [];
  let d = path.resolve(dir);
  while (!fs.existsSync(d)) {
    missing.unshift(d);
    const up = path.dirname(d);
    if (up === d) break;
    d = up;
  }
  for (const m of missing) fs.mkdirSync(m);
  return missing;
}

/** A user's text quoted for a message, shortened when long: 'abc' or 'abc…' (10,000 characters). */
export function quoted(text: string, max = 60): string {
  const chars = [...text];
  if (chars.length <= max) return `'${text}'`;
  return `'${chars.slice(0, max).join('')}…' (${chars.length.toLocaleString('en-US')} characters)`;
}
