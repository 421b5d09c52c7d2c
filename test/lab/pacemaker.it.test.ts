/**
 * `paceline drill vip-failover --against pacemaker`: the Pacemaker lab's pieces without root
 * (crm_mon XML, corosync.conf, the comparison table), and, with PACELINE_PACEMAKER_DRILL=1, one
 * run of each series through the commander command on real Pacemaker + Corosync in namespaces
 * (about two minutes: the lab takes ~30 s to form and Pacemaker's failover ~9 s, so it stays
 * out of the default CI run).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corosyncConf, formatComparison, labNamespaces, pacemakerMissing, parseCrmMonXml, type DrillReport } from '@paceline/lab';
import { inCi, missing, repoRoot } from '../support/env.js';
import { drillOutput } from './drill-support.js';

const CRM_MON = `<?xml version="1.0"?>
<pacemaker-result api-version="2.29" request="crm_mon -1 --output-as=xml">
  <summary>
    <stack type="corosync"/>
    <current_dc present="true" version="2.1.5-a3f44794f94" name="node2" id="2" with_quorum="true" mixed_version="false"/>
  </summary>
  <nodes>
    <node name="node1" id="1" online="true" standby="false" resources_running="2" type="member"/>
    <node name="node2" id="2" online="true" standby="false" resources_running="0" type="member"/>
    <node name="node3" id="3" online="false" standby="false" resources_running="0" type="member"/>
  </nodes>
  <resources>
    <resource id="vip" resource_agent="ocf:heartbeat:IPaddr2" role="Started" active="true" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="1">
      <node name="node1" id="1" cached="true"/>
    </resource>
    <resource id="dummy" resource_agent="ocf:heartbeat:Dummy" role="Stopped" active="false" orphaned="false" blocked="false" managed="true" failed="false" failure_ignored="false" nodes_running_on="0"/>
  </resources>
</pacemaker-result>
`;

describe('pacemaker lab pieces (no root)', () => {
  it('reads the DC, quorum, online nodes and where resources run from crm_mon XML', () => {
    const s = parseCrmMonXml(CRM_MON)!;
    expect(s.dc).toBe('node2');
    expect(s.quorate).toBe(true);
    expect(s.online).toEqual(['node1', 'node2']);
    expect(s.started.get('vip')).toEqual(['node1']);
    expect(s.started.get('dummy')).toEqual([]);
    expect(parseCrmMonXml('crm_mon: Error: cluster is not available on this node')).toBeUndefined();
    const noDc = parseCrmMonXml(CRM_MON.replace('present="true"', 'present="false"'))!;
    expect(noDc.dc).toBeUndefined();
  });

  it('writes a knet corosync.conf with the node list, and the token only when asked', () => {
    const nodes = [1, 2, 3].map((i) => ({ name: `node${i}`, id: i, address: `10.77.5.${10 + i}` }));
    const c = corosyncConf({ cluster: 'pm1', nodes });
    expect(c).toContain('transport: knet');
    expect(c).toContain('cluster_name: pm1');
    expect(c).toMatch(/name: node3\n\s+nodeid: 3\n\s+ring0_addr: 10\.77\.5\.13/);
    expect(c).not.toContain('token:');
    expect(corosyncConf({ cluster: 'pm1', nodes, token: 1000 })).toContain('token: 1000');
  });

  it('prints both series in one table', () => {
    const rep = (ms: number[], passed: number): DrillReport => ({
      scenario: 'vip-failover',
      seed: 1,
      startedAt: '',
      requested: ms.length,
      runs: ms.map((m, i) => ({ run: i + 1, passed: i < passed, failover_ms: m, fault: 'power off node1', reasons: i < passed ? [] : ['x'], invariants: [], timeline: [] })),
      summary: { count: ms.length, passed, min: Math.min(...ms), median: [...ms].sort((a, b) => a - b)[1], max: Math.max(...ms) },
    });
    const text = formatComparison('vip-failover', 1, [
      { stack: 'paceline', fencing: true, report: rep([900, 1000, 1100], 3) },
      { stack: 'pacemaker', fencing: false, report: rep([8000, 8700, 9100], 2) },
    ]);
    const lines = text.split('\n');
    expect(lines[1]).toMatch(/^stack\s+runs\s+passed\s+min ms\s+median ms\s+max ms\s+fencing$/);
    expect(lines[2]).toMatch(/^paceline\s+3\s+3\s+900\s+1000\s+1100\s+on$/);
    expect(lines[3]).toMatch(/^pacemaker\s+3\s+2\s+8000\s+8700\s+9100\s+off$/);
    expect(text).toContain('pacemaker run 3: x');
  });
});

const wanted = process.env.PACELINE_PACEMAKER_DRILL === '1';
const built = join(repoRoot, 'packages/cli/dist/main.js');
const why = wanted ? missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3', 'nsenter', 'unshare'], paths: [built] }) : 'set PACELINE_PACEMAKER_DRILL=1';
const lacks = wanted && why === undefined ? pacemakerMissing() : [];
if (lacks.length > 0 && inCi) throw new Error(`PACELINE_PACEMAKER_DRILL=1 but ${lacks.join(', ')} missing`);

describe.skipIf(why !== undefined || lacks.length > 0)(`paceline drill vip-failover --against pacemaker ${why ?? lacks.join(', ')}`, () => {
  let out = '';
  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'pl-pcmk-test-'));
  });
  afterAll(() => {
    if (out !== '') rmSync(out, { recursive: true, force: true });
  });

  it('runs one failover on each stack and prints both series as JSON', async () => {
    const { stdout, code, stderr } = await drillOutput(['vip-failover', '--against', 'pacemaker', '--repeat', '1', '--seed', '3', '--dir', out]);
    expect(stdout, stderr.split('\n').slice(-15).join('\n')).toMatch(/^\{/);
    const r = JSON.parse(stdout) as { against: string; seed: number; paceline: DrillReport & { fencing: boolean }; pacemaker: DrillReport & { fencing: boolean } };
    expect(r.against).toBe('pacemaker');
    expect(r.seed).toBe(3);
    for (const s of [r.paceline, r.pacemaker]) {
      expect(s.runs.map((x) => x.reasons)).toEqual([[]]);
      expect(s.runs[0]!.failover_ms).toBeGreaterThan(0);
      expect(s.summary.passed).toBe(1);
    }
    expect(r.pacemaker.fencing).toBe(false);
    // Pacemaker's failover with corosync's default token is several seconds (the anchors: 7.8-9.2 s).
    expect(r.pacemaker.runs[0]!.failover_ms).toBeGreaterThan(3000);
    expect(r.pacemaker.runs[0]!.failover_ms).toBeLessThan(30_000);
    expect(code).toBe(0);
    expect(labNamespaces(`pm${(process.pid % 46656).toString(36)}`)).toEqual([]);
  }, 300_000);
});
