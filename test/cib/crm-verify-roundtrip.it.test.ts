// Real-tool check (spawns crm_verify): what paceline writes stays valid for Pacemaker. For every
// scheduler-corpus input, `crm_verify -V -x` gives the same exit code and the same diagnostics for
// the round-tripped XML as for the original, so an input Pacemaker accepts is still accepted.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseXml, writeXml } from '@paceline/cib';
import { missing, schedulerCorpusDir } from '../support/env.js';

const xmlDir = join(schedulerCorpusDir, 'xml');
const why = missing({ tools: ['crm_verify'], paths: [xmlDir] });
/** The machine and CI runners have 2 cores. */
const parallelRunsMax = 2;

interface VerifyResult {
  readonly exitCode: number;
  readonly output: string;
}

function crmVerify(file: string): Promise<VerifyResult> {
  return new Promise((resolve) => {
    execFile('crm_verify', ['-V', '-x', file], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ exitCode: code, output: `${stdout}${stderr}`.split(file).join('FILE') });
    });
  });
}

/** Runs `work` over `items` with at most `limit` in flight; results in input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

describe.skipIf(!!why)(`crm_verify accepts round-tripped corpus XML ${why ?? ''}`, () => {
  const tmp = why ? '' : mkdtempSync(join(tmpdir(), 'paceline-crm-verify-'));
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  // Every corpus input: same exit code and same -V diagnostics before and after the round trip.
  it('gives the same verdict and diagnostics for every corpus input after parse + write', async () => {
    const files = readdirSync(xmlDir).filter((f) => f.endsWith('.xml')).sort();
    expect(files.length).toBeGreaterThan(0);
    const started = Date.now();
    let acceptedCount = 0;
    const mismatches = await mapBounded(files, parallelRunsMax, async (f) => {
      const original = join(xmlDir, f);
      const written = join(tmp, f);
      writeFileSync(written, writeXml(parseXml(readFileSync(original, 'utf8'))));
      const [before, after] = [await crmVerify(original), await crmVerify(written)];
      if (before.exitCode === 0) acceptedCount++;
      if (before.exitCode === after.exitCode && before.output === after.output) return undefined;
      return `${f}: exit ${before.exitCode} -> ${after.exitCode}\n--- original\n${before.output}\n--- round-tripped\n${after.output}`;
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`crm_verify round trip: ${files.length} inputs (${acceptedCount} accepted), ${2 * files.length} runs in ${seconds} s`);
    expect(mismatches.filter((m) => m !== undefined)).toEqual([]);
    // Most of the corpus is valid; if none were accepted the tool is not really checking anything.
    expect(acceptedCount).toBeGreaterThan(files.length / 2);
  }, 900_000);
});
