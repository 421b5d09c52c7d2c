/**
 * paceline's crm_simulate against Debian's crm_simulate 2.1.5 (a real process) on the synthetic
 * clusters of the scheduler benchmark (`synthCib`, node 1 lost), in both history shapes: every
 * resource's history on every node ('every-node', nothing to probe) and only on the node running it
 * ('running-node': Pacemaker probes every resource on every other online node, the shape whose
 * crm_simulate cost grows like the scheduler anchor's). `-R` output (status and Transition
 * Summary) must be the same, white space aside; the benchmark relies on it for its "summary same".
 * So must the transition graph's actions and their inputs (`-G`, compared by operation key and
 * node, since action ids are numbered differently): every probe, and every ordering Pacemaker
 * adds for probes (probe before start, before the stops of later group members that restart,
 * before the group's stopped), which is most of the benchmark's scheduling work on this shape.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { synthCib, writeXml } from '@paceline/cib';
import type { SynthOptions } from '@paceline/cib';
import { crmSimulate } from '../../packages/scheduler/src/crm_simulate/index.js';
import { missing, which } from '../support/env.js';
import { sectionBlock, sameText } from './corpus.js';

const why = missing({ tools: ['crm_simulate'] });

/** `KEY@NODE` of the first action element (rsc_op, pseudo_event, crm_event) in `xml`. */
function actionName(xml: string): string | undefined {
  const m = /<(?:rsc_op|pseudo_event|crm_event)\b[^>]*?\boperation_key="([^"]*)"([^>]*)>/.exec(xml);
  if (!m) return undefined;
  const node = /\bon_node="([^"]*)"/.exec(m[2] ?? '')?.[1];
  return `${m[1] ?? ''}@${node ?? ''}`;
}

/** A transition graph as `ACTION <- INPUT, INPUT, ...` lines (inputs sorted), sorted. */
function graphInputs(graph: string): string[] {
  const out: string[] = [];
  for (const synapse of graph.split('<synapse').slice(1)) {
    const [actionSet = '', inputs = ''] = synapse.split('<inputs');
    const action = actionName(actionSet);
    if (action === undefined) continue;
    const names = inputs
      .split('<trigger')
      .slice(1)
      .map((t) => actionName(t))
      .filter((n): n is string => n !== undefined)
      .sort();
    out.push(`${action} <- ${names.join(', ')}`);
  }
  return out.sort();
}

describe.skipIf(!!why)(`synthetic clusters against crm_simulate 2.1.5 ${why ?? ''}`, () => {
  const tmp = why ? '' : mkdtempSync(join(tmpdir(), 'paceline-synth-oracle-'));
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it.each([
    ['every-node', 4, 40],
    ['running-node', 4, 40],
    ['every-node', 8, 400],
    ['running-node', 8, 400],
  ] as const)('history %s, %d nodes x %d resources: same -R output', (history, nodes, resources) => {
    const opts: SynthOptions = { nodes, resources, seed: 1, withStatus: true, node1Lost: true, history };
    const text = writeXml(synthCib(opts));
    const file = join(tmp, `${history}-${nodes}x${resources}.xml`);
    writeFileSync(file, text);
    const graphFile = join(tmp, `${history}-${nodes}x${resources}.graph.xml`);
    const theirs = execFileSync(which('crm_simulate') ?? 'crm_simulate', ['-R', '-x', file, '-G', graphFile], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
    const ours = crmSimulate(text, { run: true, graph: true });
    expect(ours.stderr).toBe('');
    const summary = (out: string): string => sectionBlock(out, 'Transition Summary:');
    // The lost node is fenced and its resources move: a summary with something in it.
    expect(summary(theirs)).toContain("Fence (reboot) node1 'peer is no longer part of the cluster'");
    expect(summary(ours.stdout).split('\n').map((l) => l.trim())).toEqual(summary(theirs).split('\n').map((l) => l.trim()));
    expect(sameText(ours.stdout, theirs)).toBe(true);
    const theirGraph = graphInputs(readFileSync(graphFile, 'utf8'));
    expect(theirGraph.length).toBeGreaterThan(0);
    expect(graphInputs(ours.graphXml ?? '')).toEqual(theirGraph);
  });
});
