import { parseXml } from '@paceline/cib';
import { describe, expect, it } from 'vitest';
import { fenceHistoryDigest, fenceLevelsFor, mergeFenceHistory, readFenceHistory, type FenceHistoryRecord, type FenceHistoryState } from './fencing.js';

function cib(topology: string, nodes = '<node id="1" uname="n1"/><node id="2" uname="n2"><instance_attributes id="n2-ia"><nvpair id="n2-rack" name="rack" value="r2"/></instance_attributes></node><node id="3" uname="web3"/>') {
  return parseXml(`<cib><configuration><crm_config/><nodes>${nodes}</nodes><resources/><constraints/><fencing-topology>${topology}</fencing-topology></configuration><status/></cib>`).root;
}

const levels = (root: ReturnType<typeof cib>, target: string) => fenceLevelsFor(root, target).map((l) => `${l.index}:${l.devices.join(',')}`);

describe('fenceLevelsFor', () => {
  // The exact target wins over patterns and attributes, as in Pacemaker's fencer; levels sort by index.
  it('finds the levels of a node by name first, then by pattern or attribute, lowest index first', () => {
    const root = cib(
      '<fencing-level id="p" index="1" target-pattern="^n[0-9]$" devices="pdu"/>' +
        '<fencing-level id="a2" index="2" target-attribute="rack" target-value="r2" devices="pdu-b1,pdu-b2"/>' +
        '<fencing-level id="a1" index="1" target-attribute="rack" target-value="r2" devices="ipmi-r2"/>' +
        '<fencing-level id="x2" index="2" target="n1" devices="pdu-a,pdu-b"/>' +
        '<fencing-level id="x1" index="1" target="n1" devices="ipmi1"/>',
    );
    expect(levels(root, 'n1')).toEqual(['1:ipmi1', '2:pdu-a,pdu-b']);
    // n2 matches the pattern first (document order), so the attribute's levels do not apply.
    expect(levels(root, 'n2')).toEqual(['1:pdu']);
    expect(levels(root, 'web3')).toEqual([]);
  });

  // target-attribute matches a node attribute of the nodes section; a pattern is a regular expression.
  it('matches by node attribute, and a pattern anywhere in the name', () => {
    const root = cib('<fencing-level id="a" index="1" target-attribute="rack" target-value="r2" devices="ipmi-r2"/><fencing-level id="p" index="1" target-pattern="eb" devices="pdu"/>');
    expect(levels(root, 'n2')).toEqual(['1:ipmi-r2']);
    expect(levels(root, 'n1')).toEqual([]);
    expect(levels(root, 'web3')).toEqual(['1:pdu']);
  });

  // A bad pattern or level must not break fencing of other nodes.
  it('ignores an unreadable pattern, levels without devices and indexes outside 1-9', () => {
    const root = cib('<fencing-level id="bad" index="1" target-pattern="([" devices="d"/><fencing-level id="e" index="1" target="n1" devices=""/><fencing-level id="z" index="10" target="n1" devices="d"/><fencing-level id="ok" index="3" target="n1" devices="d"/>');
    expect(levels(root, 'web3')).toEqual([]);
    expect(levels(root, 'n1')).toEqual(['3:d']);
  });
});

const rec = (id: string, wallMs: number, target = 'n3'): FenceHistoryRecord => ({ id, target, action: 'reboot', ok: true, by: 'n1', device: 'd', wallMs });

describe('mergeFenceHistory', () => {
  // Members merge the histories they receive in whatever order: all must end with the same one.
  it('is a union by id, oldest first, bounded, whatever the order of merging', () => {
    const a: FenceHistoryState = { entries: [rec('a', 1), rec('c', 3)], cleared: {} };
    const b: FenceHistoryState = { entries: [rec('b', 2), rec('c', 3)], cleared: {} };
    const c: FenceHistoryState = { entries: [rec('d', 4), rec('e', 0)], cleared: {} };
    const one = mergeFenceHistory(mergeFenceHistory(a, b, 3), c, 3);
    const two = mergeFenceHistory(c, mergeFenceHistory(b, a, 3), 3);
    expect(one.entries.map((e) => e.id)).toEqual(['b', 'c', 'd']);
    expect(two).toEqual(one);
    expect(fenceHistoryDigest(one)).toBe(fenceHistoryDigest(two));
    expect(fenceHistoryDigest(one)).not.toBe(fenceHistoryDigest(a));
  });

  // stonith_admin --cleanup --history: a member that missed it must not bring the entries back.
  it('drops entries a cleanup marker covers, for one target or all', () => {
    const old: FenceHistoryState = { entries: [rec('x', 10, 'n2'), rec('y', 20, 'n3'), rec('z', 40, 'n3')], cleared: {} };
    const cleared = mergeFenceHistory(old, { entries: [], cleared: { n3: 30 } });
    expect(cleared.entries.map((e) => e.id)).toEqual(['x', 'z']);
    expect(mergeFenceHistory(old, cleared).entries.map((e) => e.id)).toEqual(['x', 'z']);
    const all = mergeFenceHistory(cleared, { entries: [], cleared: { '*': 40 } });
    expect(all.entries).toEqual([]);
    expect(all.cleared).toEqual({ n3: 30, '*': 40 });
  });

  // A history from a disk or a peer is data: malformed entries are dropped, not trusted.
  it('reads a history leniently', () => {
    const h = readFenceHistory({ entries: [rec('a', 1), { id: 2 }, null], cleared: { n1: 5, n2: 'x' } });
    expect(h.entries.map((e) => e.id)).toEqual(['a']);
    expect(h.cleared).toEqual({ n1: 5 });
    expect(readFenceHistory('junk')).toEqual({ entries: [], cleared: {} });
  });
});
