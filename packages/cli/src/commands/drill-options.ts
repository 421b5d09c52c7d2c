/** What `paceline drill` and its subcommands share: exit codes and option parsers. */
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
