// stonith_admin's offline parts: fencing levels as they land in the CIB's fencing-topology, and
// the history's text as stonith_admin 2.1.5 prints it (stonith__history_description).
import { describe, expect, it } from 'vitest';
import { parseXml, writeElement } from '@paceline/cib';
import type { FenceHistoryEntry } from '@paceline/controller';
import { confirmedDownState, historyOut, historyTime, levelTargetAttrs, topologyWith } from './stonith_admin.js';

const CIB = parseXml('<cib epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>').root;

describe('stonith_admin fencing levels (-r / -d)', () => {
  it('targets: NAME, @PATTERN, ATTR=VALUE', () => {
    expect(levelTargetAttrs('node1')).toEqual({ target: 'node1' });
    expect(levelTargetAttrs('@node[12]')).toEqual({ 'target-pattern': 'node[12]' });
    expect(levelTargetAttrs('rack=r1')).toEqual({ 'target-attribute': 'rack', 'target-value': 'r1' });
  });

  it('registers a level (a new fencing-topology), replaces the devices of one already there, adds others after it', () => {
    const first = topologyWith(CIB, { target: 'node1', index: 1, devices: ['ipmi1', 'psu1'] });
    expect(first.existed).toBe(false);
    expect(writeElement(first.topology, { indentSpaces: 0 })).toBe('<fencing-topology><fencing-level id="fl-node1-1" target="node1" index="1" devices="ipmi1,psu1"/></fencing-topology>');
    const withTopo = parseXml(writeElement(CIB).replace('<constraints/>', `<constraints/>${writeElement(first.topology, { indentSpaces: 0 })}`)).root;
    const again = topologyWith(withTopo, { target: 'node1', index: 1, devices: ['sbd'] });
    expect(again.existed).toBe(true);
    expect(writeElement(again.topology, { indentSpaces: 0 })).toBe('<fencing-topology><fencing-level id="fl-node1-1" target="node1" index="1" devices="sbd"/></fencing-topology>');
    const pattern = topologyWith(withTopo, { target: '@node[0-9]', index: 2, devices: ['sbd'] });
    expect(writeElement(pattern.topology, { indentSpaces: 0 })).toContain('<fencing-level id="fl-node_0-9_-2" target-pattern="node[0-9]" index="2" devices="sbd"/>');
  });

  it('removes one level, every level of a target with index 0, and nothing (no error) for a level not there', () => {
    const cib = parseXml(writeElement(CIB).replace('<constraints/>', '<constraints/><fencing-topology><fencing-level id="a" target="n1" index="1" devices="d1"/><fencing-level id="b" target="n1" index="2" devices="d2"/><fencing-level id="c" target="n2" index="1" devices="d1"/></fencing-topology>')).root;
    const ids = (r: ReturnType<typeof topologyWith>): string[] => r.topology.children.map((c) => (c.kind === 'element' ? c.attrs['id']! : ''));
    expect(ids(topologyWith(cib, { target: 'n1', index: 2 }))).toEqual(['a', 'c']);
    expect(ids(topologyWith(cib, { target: 'n1', index: 0 }))).toEqual(['c']);
    expect(ids(topologyWith(cib, { target: 'n9', index: 3 }))).toEqual(['a', 'b', 'c']);
  });

  it('refuses a level outside 1-9 and a registration without devices (exit 2, CRM_EX_INVALID_PARAM)', () => {
    expect(() => topologyWith(CIB, { target: 'n1', index: 0, devices: ['d'] })).toThrow(expect.objectContaining({ exitCode: 2, message: "Invalid level number '0' for topology level n1 (levels are 1-9)" }));
    expect(() => topologyWith(CIB, { target: 'n1', index: 10 })).toThrow(expect.objectContaining({ exitCode: 2 }));
    expect(() => topologyWith(CIB, { target: 'n1', index: 1, devices: [] })).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});

describe('stonith_admin --history text', () => {
  const at = 1_790_000_000;
  const h = (over: Partial<FenceHistoryEntry>): FenceHistoryEntry => ({ target: 'node3', action: 'reboot', ok: true, by: 'node1', wallSec: at, manual: true, ...over });

  it('the time: local date, time with microseconds and the zone', () => {
    expect(historyTime(at + 0.25)).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.250000 [+-]\d\d:\d\d$/);
  });

  it('without -V: the latest success only, "last-successful", then the count', () => {
    const history = [h({ wallSec: at - 100 }), h({ action: 'off', ok: false, reason: 'timed out', wallSec: at + 5, manual: false })];
    expect(historyOut(history, false, false).text).toEqual([`reboot of node3 successful: delegate=node1, client=stonith_admin, origin=node1, last-successful='${historyTime(at - 100)}'`, '1 event found']);
    expect(historyOut([], false, false).text).toEqual(['0 events found']);
  });

  it('-V: every operation, newest first, "completed", failures with their reason; -q: the latest success\'s epoch', () => {
    const history = [h({ action: 'off', ok: false, reason: 'timed out', wallSec: at, manual: false }), h({ action: 'off', wallSec: at + 60, by: 'node2', manual: false }), h({ action: 'on', wallSec: at + 90 })];
    expect(historyOut(history, true, false).text).toEqual([
      `unfencing of node3 successful: delegate=node1, client=stonith_admin, origin=node1, completed='${historyTime(at + 90)}'`,
      `turning off of node3 successful: delegate=node2, client=pacemaker-controld, origin=node2, completed='${historyTime(at + 60)}'`,
      `turning off of node3 failed (timed out): delegate=node1, client=pacemaker-controld, origin=node1, completed='${historyTime(at)}' (a later attempt from node2 succeeded)`,
      '3 events found',
    ]);
    expect(historyOut(history, false, true).text).toEqual([String(at + 90)]);
  });
});

describe('stonith_admin --confirm', () => {
  it('the node_state a confirmation leaves: down, without history or transient attributes; none when the CIB has no state', () => {
    const cib = parseXml(writeElement(CIB).replace('<status/>', '<status><node_state id="3" uname="node3" in_ccm="false" crmd="offline" join="down" expected="member"><transient_attributes id="3"/><lrm id="3"/></node_state></status>')).root;
    expect(confirmedDownState(cib, 'node3')).toEqual({ xpath: "/cib/status/node_state[@uname='node3']", xml: '<node_state id="3" uname="node3" in_ccm="false" crmd="offline" join="down" expected="down"/>' });
    expect(confirmedDownState(cib, 'node4')).toBeUndefined();
  });
});
