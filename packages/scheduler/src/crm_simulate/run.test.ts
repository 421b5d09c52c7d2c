import { describe, expect, it } from 'vitest';
import { parseXml } from '@paceline/cib';
import { crmSimulate } from './run.js';
import { formatCrmTime, parseCrmTime } from './time.js';

const twoNodes = `<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1" execution-date="1500000000">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="n1" uname="n1"/><node id="n2" uname="n2"/></nodes>
    <resources><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"/></resources>
    <constraints/>
  </configuration>
  <status>
    <node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/>
    <node_state id="n2" uname="n2" in_ccm="true" crmd="online" join="member" expected="member"/>
  </status>
</cib>`;

describe('crm_simulate input errors', () => {
  // A file that is not XML must not reach the scheduler: a clear message and exit 66 (no input).
  it('rejects text that is not XML', () => {
    const r = crmSimulate('<cib><configuration>', { simulate: true });
    expect(r.exitCode).toBe(66);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^crm_simulate: input is not valid XML/);
  });

  // Well-formed XML of another kind is not a CIB either.
  it('rejects XML that is not a CIB', () => {
    const r = crmSimulate('<foo/>', { simulate: true });
    expect(r.exitCode).toBe(66);
    expect(r.stderr).toBe('crm_simulate: input is not a CIB: the root element is <foo>, expected <cib>\n');
  });

  // A -t value that is no date is a usage error (64), like crm_simulate's option parsing.
  it('rejects a bad --set-datetime', () => {
    const r = crmSimulate(twoNodes, { run: true, now: 'yesterday' });
    expect(r.exitCode).toBe(64);
  });
});

describe('crm_simulate output shape', () => {
  // The saved execution date is announced before each status block, as crm_simulate does.
  it('announces the original execution date', () => {
    const r = crmSimulate(twoNodes, { simulate: true });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('Using the original execution date of: 2017-07-14 02:40:00Z');
    expect(lines.filter((l) => l.startsWith('Using the original execution date')).length).toBe(2);
    expect(lines).toContain('Current cluster status:');
    expect(lines).toContain('Transition Summary:');
    expect(lines).toContain('Executing Cluster Transition:');
    expect(lines).toContain('Revised Cluster Status:');
  });

  // -Q keeps stdout quiet; -O still gets the CIB with the simulated results recorded.
  it('is quiet with -Q and still produces the output CIB', () => {
    const r = crmSimulate(twoNodes, { simulate: true, quiet: true, saveOutput: true });
    expect(r.stdout).toBe('');
    const out = parseXml(r.outputCib ?? '').root;
    expect(out.name).toBe('cib');
  });

  // --output-as xml is one well-formed pacemaker-result document with a status element.
  it('writes a well-formed XML result', () => {
    const r = crmSimulate(twoNodes, { simulate: true, xml: true, request: 'crm_simulate -S' });
    const doc = parseXml(r.xml ?? '').root;
    expect(doc.name).toBe('pacemaker-result');
    const names = doc.children.filter((c) => c.kind === 'element').map((c) => (c.kind === 'element' ? c.name : ''));
    expect(names).toEqual(['cluster_status', 'actions', 'transition', 'revised_cluster_status', 'status']);
  });
});

describe('crm_simulate dates', () => {
  // The four corpus -t forms: ordinal dates, with and without time, and calendar date-times.
  it('parses the ISO 8601 forms crm_simulate -t accepts', () => {
    expect(formatCrmTime(parseCrmTime('2005-020')!)).toBe('2005-01-20 00:00:00Z');
    expect(formatCrmTime(parseCrmTime('2005-020T12:30')!)).toBe('2005-01-20 12:30:00Z');
    expect(formatCrmTime(parseCrmTime('2014-05-07 00:28:00')!)).toBe('2014-05-07 00:28:00Z');
    expect(formatCrmTime(parseCrmTime('2009-W01-1')!)).toBe('2008-12-29 00:00:00Z');
    expect(formatCrmTime(parseCrmTime('2020-02-29T23:00:00+02:00')!)).toBe('2020-02-29 21:00:00Z');
    expect(parseCrmTime('not a date')).toBeUndefined();
  });
});
