/**
 * Validation against the real crm_verify (Pacemaker 2.1.5), the oracle for what is an error:
 * - every crafted bad CIB that crm_verify rejects or logs, paceline reports too;
 * - no corpus CIB that crm_verify accepts gets an error from paceline (false errors stay at zero).
 * Runs crm_verify once per file (two at a time); skipped without crm_verify outside CI.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateCibText } from '../../packages/cib/src/validate.js';
import { missing, schedulerCorpusDir } from '../support/env.js';
import { BAD_CIBS, craftCib } from './bad-cibs.js';

const why = missing({ tools: ['crm_verify'], paths: [`${schedulerCorpusDir}/xml`] });

interface Verdict {
  readonly rc: number;
  readonly output: string;
}

function crmVerify(file: string): Promise<Verdict> {
  return new Promise((resolve) => {
    execFile('crm_verify', ['-VV', '-x', file], { timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const rc = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ rc, output: `${stdout}${stderr}` });
    });
  });
}

/** Run `fn` over `items`, `width` at a time, keeping the order of results. */
async function pool<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

describe.skipIf(!!why)(`validateCib against crm_verify ${why ?? ''}`, () => {
  const work = mkdtempSync(join(tmpdir(), 'paceline-validate-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // The base CIB is accepted by crm_verify, so each bad case differs from a valid CIB by one problem.
  it('crm_verify accepts the base CIB', async () => {
    const f = join(work, 'base.xml');
    writeFileSync(f, craftCib());
    expect((await crmVerify(f)).rc).toBe(0);
  });

  // For each crafted problem, crm_verify rejects it (or logs it) and paceline reports it too.
  it.each(BAD_CIBS.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const f = join(work, `${c.name}.xml`);
    writeFileSync(f, c.xml);
    const v = await crmVerify(f);
    if (c.crmVerify === 'rejects') expect(v.rc, v.output).not.toBe(0);
    else expect(v.rc, v.output).toBe(0);
    if (c.crmVerify === 'logs') expect(v.output).toContain(c.logged ?? '');
    const ours = validateCibText(c.xml).filter((d) => d.code === c.code);
    expect(ours.length, c.why).toBeGreaterThan(0);
    if (c.crmVerify === 'rejects') expect(ours.some((d) => d.severity === 'error')).toBe(true);
    // Where crm_verify exits 0 and paceline only warns, paceline must not report any error either.
    if (c.crmVerify !== 'rejects' && c.severity === 'warning') expect(validateCibText(c.xml).filter((d) => d.severity === 'error')).toEqual([]);
  });

  // Over the whole corpus: no error from paceline where crm_verify finds none, and the counts side by side.
  it('reports no errors on corpus CIBs that crm_verify accepts', async () => {
    const dir = `${schedulerCorpusDir}/xml`;
    const files = readdirSync(dir).filter((f) => f.endsWith('.xml')).sort();
    let done = 0;
    const verdicts = await pool(files, 2, async (f) => {
      const v = await crmVerify(join(dir, f));
      if (++done % 100 === 0) console.log(`crm_verify: ${done}/${files.length}`);
      return v;
    });
    const falseErrors: string[] = [];
    let theirs = 0;
    let ours = 0;
    let both = 0;
    files.forEach((f, i) => {
      const v = verdicts[i] as Verdict;
      const cvError = /Errors found during check/.test(v.output);
      const errors = validateCibText(readFileSync(join(dir, f), 'utf8')).filter((d) => d.severity === 'error');
      if (cvError) theirs++;
      if (errors.length > 0) ours++;
      if (cvError && errors.length > 0) both++;
      if (!cvError && errors.length > 0) falseErrors.push(`${f}: ${errors.map((e) => `${e.code} ${e.element} ${e.id ?? ''}: ${e.message}`).join('; ')}`);
    });
    console.log(`corpus: ${files.length} CIBs; crm_verify errors in ${theirs}; paceline errors in ${ours}; both ${both}; paceline-only ${falseErrors.length}`);
    expect(falseErrors).toEqual([]);
  }, 1_800_000);
});
