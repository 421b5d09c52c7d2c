/**
 * `configure show` against the crmsh 4.4.1 transcripts: each `.TRY` section of
 * testcases/NAME.exp is replayed from its `.INP:` lines (what the shell saw) on the sample CIB
 * crmsh's harness makes for each file (on the cibtests base, schema raised to pacemaker-3.0),
 * and every `show` (crm syntax) is compared with the transcript's output, white space collapsed
 * and shell messages (WARNING/INFO/ERROR lines) left out. Matching shows are pinned in
 * pinned-transcripts.txt (PACELINE_BLESS=1 npx vitest run test/crm/transcripts.test.ts).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cibToText, runCrmOnCib } from '../../packages/cli/src/crm/script.js';
import { nodeCrmHost } from '../../packages/cli/src/commands/crm-host.js';
import { crmshCorpusDir, missing } from '../support/env.js';
import { gate } from './support.js';

const why = missing({ paths: [crmshCorpusDir] });
const testFile = 'test/crm/transcripts.test.ts';
const pinnedPath = join(import.meta.dirname, 'pinned-transcripts.txt');

interface Expected {
  readonly name: string;
  readonly text: string;
}

interface Section {
  readonly file: string;
  readonly title: string;
  readonly inputs: string[];
  readonly shows: Expected[];
}

const messageRe = /^(\x1b\[[0-9;]*m)?(WARNING|INFO|ERROR|DEBUG)\b/;

function sections(file: string, text: string): Section[] {
  const out: Section[] = [];
  let cur: Section | undefined;
  let collecting: { name: string; lines: string[] } | undefined;
  let level = 'top';
  const flush = (): void => {
    if (collecting && cur) cur.shows.push({ name: collecting.name, text: collecting.lines.join('\n') });
    collecting = undefined;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('.TRY ')) {
      flush();
      cur = { file, title: line.slice(5), inputs: [], shows: [] };
      level = 'top';
      out.push(cur);
    } else if (line.startsWith('.INP: ') && cur) {
      flush();
      const inp = line.slice(6);
      cur.inputs.push(inp);
      const words = inp.trim().split(/\s+/);
      if (words[0] === 'configure' && words.length === 1) level = 'configure';
      else if (['up', 'end', 'quit', 'cd', 'options', 'script'].includes(words[0] ?? '')) level = 'other';
      if (level === 'configure' && words[0] === 'show' && words[1] !== 'xml' && !/^(changed|related:|type:)/.test(words[1] ?? '')) {
        collecting = { name: `${file}: ${cur.title.trim()} @${cur.inputs.length} ${inp.trim()}`, lines: [] };
      }
    } else if (line.startsWith('.EXT ') || line.startsWith('.SETENV')) {
      // external tools crmsh ran: not output
    } else if (collecting && !messageRe.test(line)) collecting.lines.push(line);
  }
  flush();
  return out;
}

/**
 * The CIB each testcase file of crmsh 4.4.1's harness starts from: test/crm-interface's
 * crm_mksample (a node, a few resources, op_defaults), made on an empty shadow CIB.
 */
const sampleScript = `configure
node node1
primitive p0 ocf:pacemaker:Dummy
primitive p1 ocf:pacemaker:Dummy
primitive p2 ocf:heartbeat:Delay \\
\tparams startdelay=2 mondelay=2 stopdelay=2
primitive p3 ocf:pacemaker:Dummy
primitive st stonith:null params hostlist=node1
clone c1 p1
clone m1 p2 meta promotable=true
op_defaults timeout=60s
commit
`;

const collapse = (s: string): string => s.replace(/\s+/g, ' ').trim();

describe.skipIf(!!why)(`crm show transcripts ${why ?? ''}`, () => {
  // filter runs its commands (sed) for real, in a scratch directory.
  const work = mkdtempSync(join(tmpdir(), 'paceline-crm-transcripts-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // Every crm-syntax show in the transcripts, replayed and compared.
  it('prints show as crmsh 4.4.1 does (pinned)', () => {
    const dir = join(crmshCorpusDir, 'testcases');
    // crmsh's own test machine had a schema with bundles and alerts; the cibtests base says pacemaker-2.0.
    const base = readFileSync(join(crmshCorpusDir, 'cibtests', 'shadow.base'), 'utf8').replace('validate-with="pacemaker-2.0"', 'validate-with="pacemaker-3.0"');
    const made = runCrmOnCib(sampleScript, base);
    expect(made.exitCode, made.output).toBe(0);
    const sample = cibToText(made.cib);
    const all: string[] = [];
    const passing: string[] = [];
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.exp')).sort()) {
      // The harness runs a file's sections one after another on the same CIB, which starts as
      // its sample (crm_setup and crm_mksample before each testcase file).
      let cib = sample;
      for (const sec of sections(f, readFileSync(join(dir, f), 'utf8'))) {
        const got: string[] = [];
        const res = runCrmOnCib(`${sec.inputs.join('\n')}\n`, cib, { onShow: (args, text) => {
            // Only the shows the transcript parser collects (crm syntax, not changed/related:/type:), to stay aligned.
            if (args[0] !== 'xml' && !/^(changed|related:|type:)/.test(args[0] ?? '')) got.push(text);
          }, host: nodeCrmHost(undefined, work) });
        cib = cibToText(res.cib);
        sec.shows.forEach((want, i) => {
          all.push(want.name);
          const mine = got[i];
          if (mine !== undefined && collapse(mine) === collapse(want.text)) passing.push(want.name);
          else console.log(`${want.name}: differs\n--- paceline\n${mine ?? '(no output)'}\n--- crmsh\n${want.text}`);
        });
      }
    }
    console.log(`crm show transcripts: ${passing.length} of ${all.length} shows match`);
    const v = gate(pinnedPath, 'Transcript shows (file: section #input) that paceline prints as crmsh does', testFile, passing, all);
    expect(v.regressions).toEqual([]);
    expect(all.length).toBeGreaterThan(10);
  });
});
