/**
 * paceline's crm_simulate against Debian's crm_simulate 2.1.5 (a real process) on CIBs that are not
 * in the corpus: the repository's cib-examples, and scenarios on a small cluster of our own whose
 * status the oracle itself produces (`crm_simulate -S -O`), so the history is Pacemaker's.
 *
 * For every case the "Current cluster status" block (and the injections) must be identical, byte
 * for byte; so must the "Transition Summary" block (column alignment included) unless the case is
 * marked as waiting for the scheduler (`decisionPinned: false`), in which case it is checked once
 * `NAME (decision)` is pinned. The whole output is compared ignoring white space, like the corpus;
 * matching cases are pinned in `pinned-oracle.txt` (a pinned case that stops matching fails;
 * PACELINE_BLESS=1 adds new ones).
 *
 * The oracle refuses status updates from a newer feature set than its own (3.16.1), so both sides
 * get the CIB text with crm_feature_set lowered to 3.16.1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmSimulate, type CrmSimulateOptions } from '../../packages/scheduler/src/crm_simulate/index.js';
import { missing, repoRoot, which } from '../support/env.js';
import { readPinned, sameText, sectionBlock, writePinned } from './corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const pinnedPath = join(here, 'pinned-oracle.txt');

/** A small symmetric cluster: a primitive with a preference, a group, an anonymous clone. */
const threeNodes = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="n1">
  <configuration>
    <crm_config><cluster_property_set id="opts"><nvpair id="opts-se" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/><node id="n3" uname="n3"/></nodes>
    <resources>
      <primitive id="ip" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="ip-mon" name="monitor" interval="10s"/></operations></primitive>
      <group id="g"><primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/><primitive id="b" class="ocf" provider="heartbeat" type="Dummy"/></group>
      <clone id="c"><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></clone>
    </resources>
    <constraints><rsc_location id="ip-prefers-n2" rsc="ip" node="n2" score="50"/></constraints>
  </configuration>
  <status>
    <node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="n2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="n3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>
`;

/** Promotable and globally-unique clones, a disabled and an unmanaged primitive. */
const promotable = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" dc-uuid="n1">
  <configuration>
    <crm_config><cluster_property_set id="opts"><nvpair id="opts-se" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/><node id="n3" uname="n3"/></nodes>
    <resources>
      <clone id="ms"><meta_attributes id="ms-meta"><nvpair id="ms-p" name="promotable" value="true"/><nvpair id="ms-pm" name="promoted-max" value="1"/></meta_attributes>
        <primitive id="st" class="ocf" provider="pacemaker" type="Stateful"><operations><op id="st-m1" name="monitor" interval="10s" role="Promoted"/><op id="st-m2" name="monitor" interval="11s" role="Unpromoted"/></operations></primitive></clone>
      <clone id="uc"><meta_attributes id="uc-meta"><nvpair id="uc-u" name="globally-unique" value="true"/><nvpair id="uc-max" name="clone-max" value="2"/></meta_attributes>
        <primitive id="u" class="ocf" provider="heartbeat" type="Dummy"/></clone>
      <primitive id="off" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="off-meta"><nvpair id="off-tr" name="target-role" value="Stopped"/></meta_attributes></primitive>
      <primitive id="um" class="ocf" provider="heartbeat" type="Dummy"><meta_attributes id="um-meta"><nvpair id="um-m" name="is-managed" value="false"/></meta_attributes></primitive>
    </resources>
    <constraints><rsc_location id="ms-on-n1" rsc="ms" role="Promoted" node="n1" score="100"/></constraints>
  </configuration>
  <status>
    <node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="n2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="n3" uname="n3" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>
`;

interface OracleCase {
  readonly name: string;
  /** CIB text, or a function of the work directory (for CIBs the oracle produced). */
  readonly cib: () => string;
  readonly args: readonly string[];
  /**
   * Whether the Transition Summary must already match (the scheduler's decision); the status
   * blocks, which are the renderer's, must match in every case.
   */
  readonly decisionPinned?: boolean;
}

function lowerFeatureSet(text: string): string {
  return text.replace(/crm_feature_set="3\.16\.2"/g, 'crm_feature_set="3.16.1"');
}

/** Our options for the crm_simulate arguments the cases use. */
function toOptions(args: readonly string[]): CrmSimulateOptions {
  const o: { -readonly [K in keyof CrmSimulateOptions]: CrmSimulateOptions[K] } = { run: true };
  const list = (key: 'nodeUp' | 'nodeDown' | 'nodeFail' | 'opInject' | 'opFail', v: string | undefined): void => {
    o[key] = [...(o[key] ?? []), v ?? ''];
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-R') o.run = true;
    else if (a === '-S') o.simulate = true;
    else if (a === '-d') list('nodeDown', args[++i]);
    else if (a === '-u') list('nodeUp', args[++i]);
    else if (a === '-f') list('nodeFail', args[++i]);
    else if (a === '-i') list('opInject', args[++i]);
    else if (a === '-F') list('opFail', args[++i]);
    else if (a === '-q') o.quorum = args[++i] ?? '';
    else throw new Error(`oracle suite: unsupported argument ${a ?? ''}`);
  }
  return o;
}

const why = missing({ tools: ['crm_simulate'], paths: [join(repoRoot, 'cib-examples')] });

describe.skipIf(!!why)(`crm_simulate compared with Pacemaker 2.1.5's ${why ?? ''}`, () => {
  let work = '';
  const results = new Map<string, boolean>();

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'paceline-oracle-'));
    writeFileSync(join(work, 'three.xml'), threeNodes);
    writeFileSync(join(work, 'promotable.xml'), promotable);
    // The started clusters, as Pacemaker records them: the bases of the failure scenarios.
    runOracle(['-S', '-x', join(work, 'three.xml'), '-O', join(work, 'started.xml')]);
    runOracle(['-S', '-x', join(work, 'promotable.xml'), '-O', join(work, 'promotable-started.xml')]);
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
    const pinned = readPinned(pinnedPath);
    const passing = [...results].filter(([, ok]) => ok).map(([n]) => n);
    if (process.env.PACELINE_BLESS === '1') writePinned(pinnedPath, 'Oracle cases whose whole crm_simulate output (or, "NAME (decision)", Transition Summary) matches Pacemaker 2.1.5', new Set([...pinned, ...passing]), 'test/scheduler/crm-simulate-oracle.it.test.ts');
    const fresh = passing.filter((n) => !pinned.has(n));
    if (fresh.length > 0) console.log(`oracle cases matching but not pinned: ${fresh.join(' ')} (PACELINE_BLESS=1 pins them)`);
  });

  const examples = readdirSync(join(repoRoot, 'cib-examples')).filter((f) => f.endsWith('.xml')).sort();
  const cases: OracleCase[] = [
    ...examples.map((f) => ({ name: `${f} -R`, cib: () => lowerFeatureSet(readFileSync(join(repoRoot, 'cib-examples', f), 'utf8')), args: ['-R'] })),
    ...examples.map((f) => ({ name: `${f} -S`, cib: () => lowerFeatureSet(readFileSync(join(repoRoot, 'cib-examples', f), 'utf8')), args: ['-S'] })),
    { name: 'three -S', cib: () => threeNodes, args: ['-S'] },
    { name: 'three -S start fails', cib: () => threeNodes, args: ['-S', '-F', 'a_start_0@n1=1'] },
    { name: 'started -R', cib: () => readFileSync(join(work, 'started.xml'), 'utf8'), args: ['-R'] },
    { name: 'started -S node down', cib: () => readFileSync(join(work, 'started.xml'), 'utf8'), args: ['-S', '-d', 'n2'] },
    { name: 'started -S monitor failed', cib: () => readFileSync(join(work, 'started.xml'), 'utf8'), args: ['-S', '-i', 'ip_monitor_10000@n2=7'] },
    { name: 'started -S clone instance failed', cib: () => readFileSync(join(work, 'started.xml'), 'utf8'), args: ['-S', '-i', 'd_monitor_0@n3=1'] },
    { name: 'started -S node fails', cib: () => readFileSync(join(work, 'started.xml'), 'utf8'), args: ['-S', '-f', 'n1'] },
    { name: 'started -S new node up', cib: () => readFileSync(join(work, 'started.xml'), 'utf8'), args: ['-S', '-u', 'n4'], decisionPinned: false },
    { name: 'started -S quorum lost alone', cib: () => readFileSync(join(work, 'started.xml'), 'utf8'), args: ['-S', '-q', '0'], decisionPinned: false },
    { name: 'started -S quorum lost and node down', cib: () => readFileSync(join(work, 'started.xml'), 'utf8'), args: ['-S', '-q', '0', '-d', 'n3'], decisionPinned: false },
    { name: 'promotable -S', cib: () => promotable, args: ['-S'], decisionPinned: false },
    { name: 'promotable started -R', cib: () => readFileSync(join(work, 'promotable-started.xml'), 'utf8'), args: ['-R'], decisionPinned: false },
    { name: 'promotable started -S node down', cib: () => readFileSync(join(work, 'promotable-started.xml'), 'utf8'), args: ['-S', '-d', 'n1'], decisionPinned: false },
    { name: 'promotable started -S promoted monitor failed', cib: () => readFileSync(join(work, 'promotable-started.xml'), 'utf8'), args: ['-S', '-i', 'st_monitor_10000@n1=1'], decisionPinned: false },
  ];

  for (const c of cases) {
    // Each case: the same CIB and arguments through both implementations.
    it(`${c.name}: status and Transition Summary identical to Pacemaker's`, () => {
      const cibText = c.cib();
      const file = join(work, `${c.name.replace(/[^A-Za-z0-9.-]+/g, '_')}.xml`);
      writeFileSync(file, cibText);
      const expected = clockFree(runOracle([...c.args, '-x', file]));
      const result = crmSimulate(cibText, { ...toOptions(c.args), currentTimeSec: Math.floor(Date.now() / 1000) });
      expect(result.stderr).toBe('');
      const ours = { stdout: clockFree(result.stdout) };
      const whole = sameText(ours.stdout, expected);
      results.set(c.name, whole);
      const pinned = readPinned(pinnedPath);
      const headings = ['Current cluster status:', 'Performing Requested Modifications:'];
      if (c.decisionPinned !== false || pinned.has(`${c.name} (decision)`)) headings.push('Transition Summary:');
      for (const heading of headings) {
        expect(sectionBlock(ours.stdout, heading), heading).toBe(sectionBlock(expected, heading));
      }
      results.set(`${c.name} (decision)`, sectionBlock(ours.stdout, 'Transition Summary:') === sectionBlock(expected, 'Transition Summary:'));
      if (pinned.has(c.name)) expect(ours.stdout.replace(/\s+/g, '')).toBe(expected.replace(/\s+/g, ''));
    });
  }
});

/** Injected last-failure times are the wall clock on both sides: blank them out. */
function clockFree(text: string): string {
  return text.replace(/(last-failure-[^=\s]*=)\d+/g, '$1<now>');
}

describe.skipIf(!!why)(`paceline's simulated results read back by Pacemaker 2.1.5 ${why ?? ''}`, () => {
  // The status paceline writes for -S -O must mean the same to Pacemaker: after starting the small
  // cluster, Pacemaker sees every resource where paceline put it and has nothing left to do.
  it('records results Pacemaker reads as the cluster paceline simulated', () => {
    const work = mkdtempSync(join(tmpdir(), 'paceline-readback-'));
    try {
      const ours = crmSimulate(threeNodes, { simulate: true, saveOutput: true });
      const file = join(work, 'ours.xml');
      writeFileSync(file, ours.outputCib ?? '');
      const pacemaker = runOracle(['-R', '-x', file]);
      const revised = sectionBlock(ours.stdout, 'Revised Cluster Status:').replace('Revised Cluster Status:', 'Current cluster status:');
      expect(sectionBlock(pacemaker, 'Current cluster status:').replace(/\s+/g, '')).toBe(revised.replace(/\s+/g, ''));
      expect(sectionBlock(pacemaker, 'Transition Summary:').trim()).toBe('Transition Summary:');
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});

function runOracle(args: readonly string[]): string {
  const tool = which('crm_simulate') ?? 'crm_simulate';
  return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}
