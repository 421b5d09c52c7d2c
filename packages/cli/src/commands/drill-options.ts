/** What `paceline drill` and its subcommands share: exit codes and option parsers (the duration parser also serves `cluster init --ttl`). */
import { InvalidArgumentError } from 'commander';

export const DRILL_EXIT = { ok: 0, failed: 1, usage: 64 } as const;

export function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a positive whole number');
  return n;
}

export function wholeNumber(v: string): number {
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('a whole number');
  return n;
}

/** "90" (seconds), "90s", "30m", "2h", "1h30m", "2d", "500ms" → milliseconds; throws on anything else. */
export function parseDuration(v: string): number {
  const s = v.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const re = /(\d+)(ms|d|h|m|s)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(s)) !== null) {
    const n = Number(m[1]);
    total += n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || s.length === 0 || total <= 0) throw new InvalidArgumentError(`a duration like 60s, 30m, 1h30m (not '${v}')`);
  return total;
}
