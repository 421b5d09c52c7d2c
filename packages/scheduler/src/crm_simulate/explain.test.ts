import { describe, expect, it } from 'vitest';
import { parseCib } from '@paceline/cib';
import type { Action, ScheduleResult } from '../types.js';
import { explainResource } from './explain.js';
import { clusterState, node, rsc } from './test-fixtures.js';

const cib = parseCib(`<cib><configuration><resources>
  <primitive id="db" class="ocf" provider="heartbeat" type="Dummy"/><primitive id="ip" class="ocf" provider="heartbeat" type="Dummy"/>
</resources><constraints>
  <rsc_location id="db-avoids-n1" rsc="db" node="n1" score="-INFINITY"/>
  <rsc_colocation id="db-with-ip" rsc="db" with-rsc="ip" score="INFINITY"/>
  <rsc_order id="ip-then-db" first="ip" then="db" kind="Mandatory"/>
</constraints></configuration></cib>`);

function action(id: number, key: string, over: Partial<Action>): Action {
  return { id, key, rsc: undefined, task: 'start', intervalMs: 0, node: undefined, optional: false, runnable: true, pseudo: false, reason: undefined, inputs: [], ...over };
}

const result: ScheduleResult = {
  state: clusterState([node('n1'), node('n2', { standby: true })], [rsc('db', { meta: new Map([['target-role', 'Started']]) }), rsc('ip')]),
  transition: {
    actions: [
      action(0, 'ip_start_0', { rsc: 'ip', node: 'n2', runnable: false, reason: 'node availability' }),
      action(1, 'db_start_0', { rsc: 'db', node: 'n2', runnable: false, inputs: [0] }),
    ],
    summary: [],
  },
  scores: [
    { fn: 'pcmk__primitive_assign', rsc: 'db', node: 'n1', score: -1_000_000, contributions: [{ source: 'location', item: 'db-avoids-n1', score: -1_000_000 }] },
    { fn: 'pcmk__primitive_assign', rsc: 'db', node: 'n2', score: -1_000_000, contributions: [{ source: 'node-state', item: undefined, score: -1_000_000 }] },
  ],
  diagnostics: [],
};

describe('crm_simulate --explain', () => {
  // "Why is my resource stopped?": scores with their parts, the constraints that name it, and the
  // unrunnable action it waits for.
  it('explains a stopped resource', () => {
    const lines = explainResource(result, 'db', cib) ?? [];
    const text = lines.join('\n');
    expect(lines[0]).toBe('Resource db (primitive ocf:heartbeat:Dummy): now Stopped');
    expect(text).toContain('    n1: -INFINITY\n      -INFINITY  location db-avoids-n1');
    expect(text).toContain('    n2 (standby): -INFINITY\n      -INFINITY  node-state');
    expect(text).toContain('    location db-avoids-n1: db on n1 score -INFINITY');
    expect(text).toContain('    colocation db-with-ip: db with ip score INFINITY');
    expect(text).toContain('    order ip-then-db: ip start then db start (Mandatory)');
    expect(text).toContain('  Cannot start on n2 (waits for unrunnable ip_start_0 on n2)');
  });

  // An unknown name is reported as such (the CLI turns it into a usage error).
  it('returns nothing for an unknown resource', () => {
    expect(explainResource(result, 'nope', cib)).toBeUndefined();
  });
});
