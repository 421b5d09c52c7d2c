/**
 * Round trip of `configure show`: the configuration each script leaves, shown in crm syntax and
 * read back on an empty CIB, must give the same XML, generated ids included (show leaves
 * generated ids out, so the parser must regenerate the same ones; like crmsh's it also leaves out
 * attribute set ids, unreferenced rule ids and op ids, which scripts that give their own then lose).
 * Passing scripts are pinned in pinned-roundtrip.txt (PACELINE_BLESS=1 adds what passes).
 *
 * The same for every CIB of Pacemaker's scheduler corpus, ids aside: crmsh's show prints no
 * nvpair, op, expression or unreferenced rule ids, so a CIB written by other tools reads back with
 * generated ones; the rest (attributes, structure) must survive, children compared in any order
 * as crmsh's xml_equals does. Pinned in pinned-roundtrip-scheduler.txt.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseXml } from '@paceline/cib';
import { ConfigSession } from '../../packages/cli/src/crm/session.js';
import { renderShow } from '../../packages/cli/src/crm/show.js';
import { cibToText, runCrmOnCib } from '../../packages/cli/src/crm/script.js';
import { nodeCrmHost } from '../../packages/cli/src/commands/crm-host.js';
import { crmshCorpusDir, missing, schedulerCorpusDir } from '../support/env.js';
import { gate, normaliseConfiguration, oracleCases, stripIds } from './support.js';

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
      const second = runCrmOnCib(`configure\n${shown}\ncommit force\n`, base);
      // Equal as crmsh's xml_equals has it (children in any order but members' and sets'), and
      // attributes at their defaults aside: crmsh drops them when it reads a CIB, so show leaves them out.
      const a = normaliseConfiguration(stripIds(cibToText(first.cib), true), true, true);
      const b = normaliseConfiguration(stripIds(cibToText(second.cib), true), true, true);
      if (second.exitCode === 0 && a === b) passing.push(c.name);
      else console.log(`${c.name}: round trip differs (exit ${second.exitCode} ${second.output})\n--- show\n${shown}\n--- first\n${a}--- second\n${b}`);
    }
    console.log(`crm show round trip: ${passing.length} of ${all.length} scripts`);
    const v = gate(pinnedPath, 'Scripts whose configuration survives show -> parse unchanged', testFile, passing, all.map((c) => c.name));
    expect(v.regressions).toEqual([]);
    expect(parseXml(base).root.name).toBe('cib');
  });
});

const whySched = missing({ paths: [schedulerCorpusDir] });

describe.skipIf(!!whySched)(`crm show round trip, scheduler corpus ${whySched ?? ''}`, () => {
  it('reads back what show prints for every scheduler corpus CIB, ids aside (pinned)', () => {
    const dir = join(schedulerCorpusDir, 'xml');
    const all: string[] = [];
    const passing: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.xml')).sort()) {
      all.push(f);
      const text = readFileSync(join(dir, f), 'utf8');
      const root = parseXml(text).root;
      // Read back on an empty CIB of the same schema (role names and features depend on it).
      const base = `<cib validate-with="${root.attrs['validate-with'] ?? 'pacemaker-3.0'}" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>`;
      const shown = renderShow(new ConfigSession(root));
      const second = runCrmOnCib(`configure\n${shown}\ncommit force\n`, base);
      const a = normaliseConfiguration(stripIds(text), true, true);
      const b = normaliseConfiguration(stripIds(cibToText(second.cib)), true, true);
      if (second.exitCode === 0 && a === b) passing.push(f);
      else if (process.env.PACELINE_CRM_VERBOSE) console.log(`${f}: round trip differs (exit ${second.exitCode} ${second.output})\n--- show\n${shown}\n--- first\n${a}--- second\n${b}`);
    }
    console.log(`crm show round trip (scheduler corpus, ids aside): ${passing.length} of ${all.length} CIBs`);
    const v = gate(join(import.meta.dirname, 'pinned-roundtrip-scheduler.txt'), 'Scheduler corpus CIBs whose configuration survives show -> parse (ids aside)', testFile, passing, all);
    expect(v.regressions).toEqual([]);
    expect(all.length).toBeGreaterThan(100);
  }, 300_000);
});
