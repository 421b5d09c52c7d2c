/**
 * Round trip of `configure show`: the configuration each script leaves, shown in crm syntax and
 * read back on an empty CIB, must give the same XML, generated ids included (show leaves
 * generated ids out and prints the others as `$id=`, so the parser must regenerate the same ones).
 * Passing scripts are pinned in pinned-roundtrip.txt (PACELINE_BLESS=1 adds what passes).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseXml } from '@paceline/cib';
import { ConfigSession } from '../../packages/cli/src/crm/session.js';
import { renderShow } from '../../packages/cli/src/crm/show.js';
import { cibToText, runCrmOnCib } from '../../packages/cli/src/crm/script.js';
import { nodeCrmHost } from '../../packages/cli/src/commands/crm-host.js';
import { crmshCorpusDir, missing } from '../support/env.js';
import { gate, normaliseConfiguration, oracleCases } from './support.js';

const why = missing({ paths: [crmshCorpusDir] });
const testFile = 'test/crm/roundtrip.test.ts';
const pinnedPath = join(import.meta.dirname, 'pinned-roundtrip.txt');

describe.skipIf(!!why)(`crm show round trip ${why ?? ''}`, () => {
  // show -> parse -> the same configuration, for every script the oracle suite uses.
  const work = mkdtempSync(join(tmpdir(), 'paceline-crm-roundtrip-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('reads back what show prints (pinned)', () => {
    const base = readFileSync(join(crmshCorpusDir, 'cibtests', 'shadow.base'), 'utf8').replace('validate-with="pacemaker-2.0"', 'validate-with="pacemaker-3.0"');
    const all = oracleCases(crmshCorpusDir);
    const passing: string[] = [];
    for (const c of all) {
      const first = runCrmOnCib(c.script, base, { host: nodeCrmHost(undefined, work) });
      if (first.exitCode !== 0) continue;
      const shown = renderShow(new ConfigSession(first.cib));
      const second = runCrmOnCib(`configure\n${shown}\ncommit\n`, base);
      const a = normaliseConfiguration(cibToText(first.cib), true);
      const b = normaliseConfiguration(cibToText(second.cib), true);
      if (second.exitCode === 0 && a === b) passing.push(c.name);
      else console.log(`${c.name}: round trip differs (exit ${second.exitCode} ${second.output})\n--- show\n${shown}\n--- first\n${a}--- second\n${b}`);
    }
    console.log(`crm show round trip: ${passing.length} of ${all.length} scripts`);
    const v = gate(pinnedPath, 'Scripts whose configuration survives show -> parse unchanged', testFile, passing, all.map((c) => c.name));
    expect(v.regressions).toEqual([]);
    expect(parseXml(base).root.name).toBe('cib');
  });
});
