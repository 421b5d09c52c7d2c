/**
 * The crmsh 4.4.1 corpus against paceline's crm grammar:
 * - every configure line of testcases and cibtests is parsed; the accepted ones are pinned
 *   (test/crm/pinned-accepted.txt) so acceptance can only grow;
 * - each cibtests/NNN.input produces the configuration of NNN.exp.xml (pinned-cibtests.txt).
 * Re-pin after review: PACELINE_BLESS=1 npx vitest run test/crm/corpus.test.ts
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../packages/cli/src/crm/parser.js';
import { cibToText, runCrmOnCib } from '../../packages/cli/src/crm/script.js';
import { crmshCorpusDir, missing } from '../support/env.js';
import { corpusConfigureLines, gate, normaliseConfiguration } from './support.js';

const why = missing({ paths: [crmshCorpusDir] });
const testFile = 'test/crm/corpus.test.ts';
const pinnedAccepted = join(import.meta.dirname, 'pinned-accepted.txt');
const pinnedCibtests = join(import.meta.dirname, 'pinned-cibtests.txt');

describe.skipIf(!!why)(`crmsh corpus ${why ?? ''}`, () => {
  // Every configure line the crmsh regression tests feed the shell: how many our grammar accepts.
  it('accepts the corpus configure lines (pinned, can only grow)', () => {
    const lines = corpusConfigureLines(crmshCorpusDir);
    const accepted: string[] = [];
    const rejected: string[] = [];
    for (const l of lines) {
      const r = parseCommand(l.tokens, { ocf11: false });
      if (r.ok) accepted.push(l.where);
      else rejected.push(`${l.where}: ${r.message} :: ${l.text.trim().slice(0, 120)}`);
    }
    console.log(`crm corpus: ${accepted.length} of ${lines.length} configure lines accepted`);
    for (const r of rejected) console.log(`  rejected ${r}`);
    const v = gate(pinnedAccepted, 'Corpus configure lines (file:line) the crm grammar accepts', testFile, accepted, lines.map((l) => l.where));
    if (v.newlyPassing.length) console.log(`newly accepted, not pinned: ${v.newlyPassing.join(' ')}`);
    expect(v.regressions).toEqual([]);
    expect(lines.length).toBeGreaterThan(150);
  });

  // cibtests: a shell session on shadow.base must leave the configuration crmsh's test expects.
  it('reproduces the cibtests expected configurations (pinned)', () => {
    const dir = join(crmshCorpusDir, 'cibtests');
    const base = readFileSync(join(dir, 'shadow.base'), 'utf8');
    const names = readdirSync(dir).filter((f) => f.endsWith('.input')).map((f) => f.replace(/\.input$/, '')).sort();
    const passing: string[] = [];
    for (const n of names) {
      const res = runCrmOnCib(readFileSync(join(dir, `${n}.input`), 'utf8'), base);
      const got = normaliseConfiguration(cibToText(res.cib));
      const want = normaliseConfiguration(readFileSync(join(dir, `${n}.exp.xml`), 'utf8'));
      if (got === want) passing.push(n);
      else console.log(`cibtests/${n} differs (exit ${res.exitCode}: ${res.output})\n--- got\n${got}--- want\n${want}`);
    }
    console.log(`cibtests: ${passing.length} of ${names.length} produce the expected configuration`);
    const v = gate(pinnedCibtests, 'cibtests whose configuration matches NNN.exp.xml', testFile, passing, names);
    expect(v.regressions).toEqual([]);
  });
});
