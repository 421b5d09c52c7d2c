/**
 * The shared authkey file, like corosync-keygen's: 256 random bytes, owner read-only (0400).
 * Every node of a cluster holds the same file; packets are authenticated with keys derived from it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, renameSync, writeFileSync, writeSync, constants as fsc } from 'node:fs';

export const AUTHKEY_BYTES_DEFAULT = 256;
export const AUTHKEY_BYTES_MIN = 32;
export const AUTHKEY_BYTES_MAX = 4096;
export const AUTHKEY_PATH_DEFAULT = '/etc/paceline/authkey';

export type KeyError =
  | { code: 'authkey-exists'; path: string }
  | { code: 'authkey-unreadable'; path: string; detail: string }
  | { code: 'authkey-size'; path: string; bytes: number }
  | { code: 'authkey-permissions'; path: string; mode: string }
  | { code: 'authkey-bad-size-request'; bytes: number };

export type KeyResult<T> = { ok: true; value: T } | { ok: false; error: KeyError };

/** Writes a new key file with mode 0400; refuses to replace an existing file unless `force`. */
export function writeAuthKey(path: string, opts: { bytes?: number; force?: boolean } = {}): KeyResult<{ bytes: number }> {
  const bytes = opts.bytes ?? AUTHKEY_BYTES_DEFAULT;
  if (!Number.isInteger(bytes) || bytes < AUTHKEY_BYTES_MIN || bytes > AUTHKEY_BYTES_MAX) return { ok: false, error: { code: 'authkey-bad-size-request', bytes } };
  const flags = fsc.O_WRONLY | fsc.O_CREAT | (opts.force ? fsc.O_TRUNC : fsc.O_EXCL);
  let fd: number;
  try {
    fd = openSync(path, flags, 0o400);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') return { ok: false, error: { code: 'authkey-exists', path } };
    return { ok: false, error: { code: 'authkey-unreadable', path, detail: e.message } };
  }
  try {
    writeSync(fd, randomBytes(bytes));
  } finally {
    closeSync(fd);
  }
  return { ok: true, value: { bytes } };
}

/** Reads a key file; refuses keys readable by group or others, and sizes outside 32..4096 bytes. */
export function readAuthKey(path: string): KeyResult<Buffer> {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY);
  } catch (err) {
    return { ok: false, error: { code: 'authkey-unreadable', path, detail: (err as Error).message } };
  }
  try {
    const st = fstatSync(fd);
    if ((st.mode & 0o077) !== 0) return { ok: false, error: { code: 'authkey-permissions', path, mode: (st.mode & 0o777).toString(8) } };
    const key = readFileSync(fd);
    if (key.length < AUTHKEY_BYTES_MIN || key.length > AUTHKEY_BYTES_MAX) return { ok: false, error: { code: 'authkey-size', path, bytes: key.length } };
    return { ok: true, value: key };
  } finally {
    closeSync(fd);
  }
}

export function describeKeyError(e: KeyError): string {
  switch (e.code) {
    case 'authkey-exists':
      return `${e.path} already exists; use --force to replace it (every node must then get the new key)`;
    case 'authkey-unreadable':
      return `cannot open ${e.path}: ${e.detail}`;
    case 'authkey-size':
      return `${e.path} holds ${e.bytes} bytes; a key must hold ${AUTHKEY_BYTES_MIN}..${AUTHKEY_BYTES_MAX}`;
    case 'authkey-permissions':
      return `${e.path} has mode ${e.mode}; it must not be readable by group or others (chmod 0400)`;
    case 'authkey-bad-size-request':
      return `key size ${e.bytes} is outside ${AUTHKEY_BYTES_MIN}..${AUTHKEY_BYTES_MAX} bytes`;
    default: {
      const never: never = e;
      return String(never);
    }
  }
}

/**
 * The incarnation for this start of the node: the wall-clock milliseconds, but always above the
 * one recorded at the previous start, so a clock stepped backwards cannot make a restarted node
 * look like its own stale past (peers ignore lower incarnations). Records the new value.
 */
export function nextIncarnation(path: string, nowMs: number): number {
  let last = 0;
  try {
    last = Number(readFileSync(path, 'utf8').trim()) || 0;
  } catch {
    // First start, or the file was removed: the clock alone decides.
  }
  const incarnation = Math.max(Math.floor(nowMs), last + 1);
  writeFileSync(`${path}.tmp`, `${incarnation}\n`);
  renameSync(`${path}.tmp`, path);
  return incarnation;
}
