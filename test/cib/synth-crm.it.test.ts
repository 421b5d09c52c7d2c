// Real-tool check (spawns crm_verify and crm_simulate): the synthetic CIBs the benchmarks use are
// valid for Pacemaker and mean what they claim: all started and settled (Pacemaker plans nothing),
// or, with node 1 lost, Pacemaker fences node 1 and moves only what ran there.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCib, synthCib, writeXml } from '@paceline/cib';
import type { SynthOptions } from '@paceline/cib';
import { missing } from '../support/env.js';

const why = missing({ tools: ['crm_verify', 'crm_simulate'] });

function run(tool: string, args: string[]): { exitCode: number; output: string } {
  try {
    return { exitCode: 0, output: execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) };
  } catch (e) {
    const err = e as { status?: number; stdout?: string; stderr?: string };
    return { exitCode: err.status ?? -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** The "Transition Summary" lines of crm_simulate's output. */
function transitionSummary(output: string): string[] {
  const lines = output.split('\n');
  const start = lines.findIndex((l) => l.startsWith('Transition Summary'));
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (!l.startsWith('  ')) break;
    out.push(l.trim().replace(/^\* /, ''));
  }
  return out;
}

describe.skipIf(!!why)(`synthetic CIBs under Pacemaker ${why ?? ''}`, () => {
  const tmp = why ? '' : mkdtempSync(join(tmpdir(), 'paceline-synth-'));
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  const write = (name: string, opts: SynthOptions): string => {
    const file = join(tmp, name);
    writeFileSync(file, writeXml(synthCib(opts)));
    return file;
  };

  // All started, all history recorded with Pacemaker's digests: a valid CIB with nothing to do.
  it('is valid and settled when every node is up', () => {
    const file = write('up.xml', { nodes: 4, resources: 40, seed: 1, withStatus: true });
    expect(run('crm_verify', ['-V', '-x', file])).toEqual({ exitCode: 0, output: '' });
    expect(transitionSummary(run('crm_simulate', ['-R', '-x', file]).output)).toEqual([]);
  });

  // Node 1 lost: fence it, and move exactly the resources it ran (restarts of ordered dependants aside).
  it('makes Pacemaker fence node 1 and move its resources when node 1 is lost', () => {
    const opts: SynthOptions = { nodes: 4, resources: 40, seed: 1, withStatus: true, node1Lost: true };
    const file = write('lost.xml', opts);
    const summary = transitionSummary(run('crm_simulate', ['-R', '-x', file]).output);
    expect(summary[0]).toBe("Fence (reboot) node1 'peer is no longer part of the cluster'");
    const onNode1 = readCib(synthCib(opts))
      .status!.nodeStates[0]!.lrm!.resources.filter((r) => r.ops.some((o) => o.operation === 'start'))
      .map((r) => r.id)
      .sort();
    const moved = summary
      .filter((l) => l.startsWith('Move'))
      .map((l) => /^Move\s+(\S+)\s+\( node1 -> node\d+ \)/.exec(l)?.[1] ?? `unexpected: ${l}`)
      .sort();
    expect(onNode1.length).toBeGreaterThan(0);
    expect(moved).toEqual(onNode1);
  });
});
