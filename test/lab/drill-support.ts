/**
 * Shared pieces of the drill suites: run `paceline drill ...` through the commander command (the
 * same code the binary runs), capturing stdout as the JSON report, and the checks every
 * scenario's run must pass.
 */
import { Command } from 'commander';
import { expect, vi } from 'vitest';
import { registerDrillCommand } from '../../packages/cli/src/commands/drill.js';

export interface JsonRun {
  run: number;
  passed: boolean;
  failover_ms: number;
  from?: string;
  to?: string;
  reasons: string[];
  invariants: { name: string; status: string; detail?: string }[];
  timeline: { offsetMs: number; kind: string; node?: string; rsc?: string; detail: string }[];
  metrics?: Record<string, number>;
}

export interface JsonReport {
  scenario: string;
  seed: number;
  requested: number;
  runs: JsonRun[];
  summary: { count: number; passed: number; min?: number; median?: number; max?: number };
}

/** Runs `paceline drill ARGS... --output json`; returns what it printed and its exit code. */
export async function drillOutput(args: readonly string[]): Promise<{ stdout: string; code: number; stderr: string }> {
  const program = new Command('paceline').exitOverride();
  registerDrillCommand(program);
  let stdout = '';
  let stderr = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += chunk.toString();
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += chunk.toString();
    return true;
  });
  const before = process.exitCode;
  try {
    await program.parseAsync(['drill', ...args, '--output', 'json'], { from: 'user' });
  } finally {
    write.mockRestore();
    err.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { stdout, code, stderr };
}

/** Runs `paceline drill ARGS... --output json`; returns the parsed report and the exit code. */
export async function drillJson(args: readonly string[]): Promise<{ report: JsonReport; code: number; stderr: string }> {
  const { stdout, code, stderr } = await drillOutput(args);
  if (stdout.trim() === '') throw new Error(`paceline drill ${args.join(' ')} printed no report: ${stderr.split('\n').filter((l) => !l.startsWith('waiting to settle')).slice(-8).join('\n')}`);
  return { report: JSON.parse(stdout) as JsonReport, code, stderr };
}

/** The checks of a passed power-off run: its invariants (sorted names=ok), and a timeline in order with fencing before the first start of `rsc`. */
export function expectPassedPowerOffRun(run: JsonRun, invariants: readonly string[], rsc: string, maxFailoverMs: number): void {
  expect(run.reasons).toEqual([]);
  expect(run.passed).toBe(true);
  expect(run.invariants.map((i) => `${i.name}=${i.status}`).sort()).toEqual(invariants.map((n) => `${n}=ok`).sort());
  expect(run.failover_ms).toBeGreaterThan(0);
  expect(run.failover_ms).toBeLessThan(maxFailoverMs);
  expect(run.to).toBeDefined();
  expect(run.to).not.toBe(run.from);
  const t = (kind: string, r?: string): number => {
    const e = run.timeline.find((x) => x.kind === kind && (r === undefined || x.rsc === r));
    expect(e, `${kind}${r ? ` ${r}` : ''} in the timeline`).toBeDefined();
    return e!.offsetMs;
  };
  expect(t('fault')).toBe(0);
  expect(t('detection')).toBeGreaterThan(0);
  expect(t('fence')).toBeGreaterThan(t('detection'));
  expect(t('start', rsc)).toBeGreaterThanOrEqual(t('fence'));
  expect(t('answering')).toBe(run.failover_ms);
  expect(t('answering')).toBeGreaterThan(t('start', rsc));
  for (let i = 1; i < run.timeline.length; i++) expect(run.timeline[i]!.offsetMs).toBeGreaterThanOrEqual(run.timeline[i - 1]!.offsetMs);
}
