import { describe, expect, it } from 'vitest';
import type { CibVersion } from './version.js';
import { applyChange, classifyChange, compareCibVersions, parseCounter, readVersion, withVersion } from './version.js';
import { parseXml } from './xml.js';

const cib = (attrs: string, body = '<configuration><resources/></configuration><status/>') => parseXml(`<cib ${attrs}>${body}</cib>`).root;

describe('versions', () => {
  // Pacemaker reads counters with crm_element_value_int and clamps negatives: missing or junk is 0.
  it.each([
    [undefined, 0],
    ['', 0],
    ['7', 7],
    ['12abc', 12],
    ['abc', 0],
    ['-3', 0],
    ['  4', 4],
  ])('parses counter %j as %i', (value, expected) => {
    expect(parseCounter(value)).toBe(expected);
  });

  // Missing attributes count as 0, so a bare <cib> is version 0.0.0.
  it('reads a version with missing counters as 0', () => {
    expect(readVersion(cib('epoch="4"'))).toEqual({ adminEpoch: 0, epoch: 4, numUpdates: 0 });
  });

  // The order decides which CIB wins a sync: admin_epoch first, then epoch, then num_updates.
  it.each<[CibVersion, CibVersion, number]>([
    [{ adminEpoch: 0, epoch: 1, numUpdates: 0 }, { adminEpoch: 0, epoch: 1, numUpdates: 0 }, 0],
    [{ adminEpoch: 1, epoch: 0, numUpdates: 0 }, { adminEpoch: 0, epoch: 99, numUpdates: 99 }, 1],
    [{ adminEpoch: 0, epoch: 2, numUpdates: 0 }, { adminEpoch: 0, epoch: 1, numUpdates: 500 }, 1],
    [{ adminEpoch: 0, epoch: 1, numUpdates: 3 }, { adminEpoch: 0, epoch: 1, numUpdates: 4 }, -1],
    [{ adminEpoch: 0, epoch: 5, numUpdates: 0 }, { adminEpoch: 1, epoch: 0, numUpdates: 0 }, -1],
  ])('compares %j with %j', (a, b, sign) => {
    expect(Math.sign(compareCibVersions(a, b))).toBe(sign);
  });

  // A configuration change bumps epoch and resets num_updates; the counters stay in their place.
  it('bumps epoch for a configuration change', () => {
    const before = cib('admin_epoch="0" epoch="5" num_updates="3"');
    const after = parseXml('<cib admin_epoch="0" epoch="5" num_updates="3"><configuration><resources><primitive id="a"/></resources></configuration><status/></cib>').root;
    const out = applyChange(before, after);
    expect(out.attrs).toEqual({ admin_epoch: '0', epoch: '6', num_updates: '0' });
    expect(Object.keys(out.attrs)).toEqual(['admin_epoch', 'epoch', 'num_updates']);
    expect(classifyChange(before, after)).toBe('configuration');
  });

  // Status changes are frequent and must not look like configuration changes.
  it('bumps num_updates for a status-only change', () => {
    const before = cib('admin_epoch="0" epoch="5" num_updates="3"');
    const after = parseXml('<cib admin_epoch="0" epoch="5" num_updates="3"><configuration><resources/></configuration><status><node_state id="1"/></status></cib>').root;
    expect(applyChange(before, after).attrs).toEqual({ admin_epoch: '0', epoch: '5', num_updates: '4' });
  });

  // An operation that changed nothing must not move the version (Pacemaker makes no patch then).
  it('leaves an unchanged document alone, by reference', () => {
    const before = cib('epoch="5"');
    const copy = parseXml('<cib epoch="5"><configuration><resources/></configuration><status/></cib>').root;
    expect(applyChange(before, before)).toBe(before);
    expect(applyChange(before, copy)).toBe(copy);
    expect(classifyChange(before, copy)).toBe('none');
  });

  // Counters the CIB lacks are appended when set, so readers find all three afterwards.
  it('appends missing counters when setting a version', () => {
    const out = withVersion(cib('validate-with="pacemaker-3.9"'), { adminEpoch: 1, epoch: 2, numUpdates: 3 });
    expect(Object.keys(out.attrs)).toEqual(['validate-with', 'admin_epoch', 'epoch', 'num_updates']);
  });

  // A change to root attributes other than the counters (e.g. have-quorum) is a status-class change.
  it('classifies a root attribute change outside configuration as status', () => {
    const before = cib('epoch="1" have-quorum="0"');
    const after = cib('epoch="1" have-quorum="1"');
    expect(classifyChange(before, after)).toBe('status');
  });
});
