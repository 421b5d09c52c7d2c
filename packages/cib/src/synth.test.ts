import { describe, expect, it } from 'vitest';
import { allResources, readCib } from './read.js';
import { synthCib } from './synth.js';
import { parseXml, writeXml } from './xml.js';
import type { Group } from './model.js';

describe('synthCib', () => {
  // Benchmarks compare runs across machines and versions: the same options must give the same bytes.
  it('is deterministic for a seed and differs across seeds', () => {
    const a = writeXml(synthCib({ nodes: 4, resources: 40, seed: 7, withStatus: true }));
    const b = writeXml(synthCib({ nodes: 4, resources: 40, seed: 7, withStatus: true }));
    const c = writeXml(synthCib({ nodes: 4, resources: 40, seed: 8, withStatus: true }));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  // The anchor's shape: N nodes, R Dummy primitives in groups of 4-5, preferences, orders, anti-colocations.
  it('builds the anchor shape', () => {
    const m = readCib(synthCib({ nodes: 8, resources: 400, seed: 1, withStatus: false }));
    const conf = m.configuration!;
    expect(conf.nodes.map((n) => n.uname)).toEqual(['node1', 'node2', 'node3', 'node4', 'node5', 'node6', 'node7', 'node8']);
    const groups = conf.resources!.resources.filter((r): r is Group => r.kind === 'group');
    const dummies = allResources(m).filter((r) => r.kind === 'primitive' && r.type === 'Dummy');
    expect(dummies.length).toBe(400);
    for (const g of groups.slice(0, -1)) expect([4, 5]).toContain(g.children.length);
    const kinds = conf.constraints!.constraints.map((c) => c.kind);
    expect(kinds.filter((k) => k === 'rsc_location').length).toBe(groups.length);
    expect(kinds.filter((k) => k === 'rsc_order').length).toBeGreaterThan(0);
    expect(kinds.filter((k) => k === 'rsc_colocation').length).toBeGreaterThan(0);
    expect(m.status!.nodeStates).toEqual([]);
  });

  // Status: every resource started on its preferred node (start + monitor) and probed elsewhere.
  it('records the history of every resource on every node', () => {
    const m = readCib(synthCib({ nodes: 3, resources: 10, groupSize: 5, seed: 1, withStatus: true, node1Lost: true }));
    const states = m.status!.nodeStates;
    expect(states.map((s) => [s.uname, s.inCcm, s.crmd, s.join, s.expected])).toEqual([
      ['node1', 'false', 'offline', 'down', 'member'],
      ['node2', 'true', 'online', 'member', 'member'],
      ['node3', 'true', 'online', 'member', 'member'],
    ]);
    const running = new Map<string, string>();
    for (const s of states) {
      expect(s.lrm!.resources.length).toBe(11); // 10 Dummy + the fencing device
      for (const r of s.lrm!.resources) {
        const ops = r.ops.map((o) => `${o.operationKey}:${o.rcCode}`);
        if (ops.length === 2) {
          expect(ops).toEqual([`${r.id}_start_0:0`, `${r.id}_monitor_10000:0`]);
          running.set(r.id, s.uname!);
        } else expect(ops).toEqual([`${r.id}_monitor_0:7`]);
      }
    }
    expect(running.size).toBe(11);
    // Each group runs where its location constraint prefers it.
    const groups = new Map(m.configuration!.resources!.resources.filter((r): r is Group => r.kind === 'group').map((g) => [g.id, g]));
    for (const c of m.configuration!.constraints!.constraints) {
      if (c.kind !== 'rsc_location') continue;
      for (const member of groups.get(c.rsc!)!.children) expect(running.get(member.id)).toBe(c.node);
    }
  });

  // history 'running-node': only the node running a resource records it (start + monitor), so
  // Pacemaker must probe it everywhere else; the fencing device likewise.
  it('records only the running node\'s history with history: running-node', () => {
    const opts = { nodes: 3, resources: 10, groupSize: 5, seed: 1, withStatus: true, node1Lost: true } as const;
    const every = readCib(synthCib(opts)).status!.nodeStates;
    const running = readCib(synthCib({ ...opts, history: 'running-node' })).status!.nodeStates;
    expect(running.map((s) => s.uname)).toEqual(every.map((s) => s.uname));
    const ids = (states: typeof every, started: boolean): string[][] =>
      states.map((s) => s.lrm!.resources.filter((r) => !started || r.ops.some((o) => o.operation === 'start')).map((r) => r.id));
    // Exactly the resources each node runs, with the same two records.
    expect(ids(running, false)).toEqual(ids(every, true));
    expect(ids(running, false).flat().sort()).toHaveLength(11);
    for (const s of running) {
      for (const r of s.lrm!.resources) expect(r.ops.map((o) => `${o.operationKey}:${o.rcCode}`)).toEqual([`${r.id}_start_0:0`, `${r.id}_monitor_10000:0`]);
    }
    // The configuration is the same document either way.
    expect(writeXml(synthCib({ ...opts, history: 'running-node', withStatus: false }))).toBe(writeXml(synthCib({ ...opts, withStatus: false })));
  });

  // The generated text is ordinary CIB XML: it parses back to the same tree.
  it.each([
    [2, 9],
    [4, 300], // about 0.5 MB: the writer's batches and buffer chunks all come into play
  ])('writes XML that parses back identically (%d nodes, %d resources)', (nodes, resources) => {
    const doc = synthCib({ nodes, resources, seed: 3, withStatus: true });
    const text = writeXml(doc);
    const again = parseXml(text);
    expect(again.root).toEqual(doc.root);
    expect(writeXml(again)).toBe(text);
  });
});
