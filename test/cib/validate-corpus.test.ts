import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateCibText, type Diagnostic } from '../../packages/cib/src/validate.js';
import { missing, schedulerCorpusDir } from '../support/env.js';

const why = missing({ paths: [`${schedulerCorpusDir}/xml`] });

describe.skipIf(!!why)(`validateCib over the scheduler corpus ${why ?? ''}`, () => {
  // Every corpus CIB validates without throwing, and every diagnostic is well-formed; the counts
  // are printed so a change in verdicts shows in the log (the crm_verify comparison is the oracle suite).
  it('validates all corpus inputs', () => {
    const dir = `${schedulerCorpusDir}/xml`;
    const files = readdirSync(dir).filter((f) => f.endsWith('.xml'));
    expect(files.length).toBeGreaterThan(700);
    let withErrors = 0;
    let withWarnings = 0;
    const codes = new Map<string, number>();
    for (const f of files) {
      const diags: Diagnostic[] = validateCibText(readFileSync(`${dir}/${f}`, 'utf8'));
      for (const d of diags) {
        expect(d.code).toMatch(/^[a-z0-9-]+$/);
        expect(['error', 'warning']).toContain(d.severity);
        codes.set(`${d.severity} ${d.code}`, (codes.get(`${d.severity} ${d.code}`) ?? 0) + 1);
      }
      if (diags.some((d) => d.severity === 'error')) withErrors++;
      else if (diags.length > 0) withWarnings++;
    }
    console.log(`validateCib: ${files.length} corpus CIBs, ${withErrors} with errors, ${withWarnings} with only warnings`);
    console.log([...codes].sort().map(([k, n]) => `  ${k}: ${n}`).join('\n'));
  });
});
