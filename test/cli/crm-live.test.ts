// The crm shell's live plumbing that needs no cluster: where the CIB comes from when no file is
// given, command-line words back into a shell line, the shadow CIB level on a file backend, and
// the routing of live commands.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveBackendFor, runCrm, shellLine, splitTrailingFlags } from '../../packages/cli/src/commands/crm.js';
import { fileCibBackend, listShadows, nodeCrmHost } from '../../packages/cli/src/commands/crm-host.js';
import { configDiff, CrmDriver, liveCommand } from '../../packages/cli/src/commands/crm-shell.js';
import { clearstatePlan, verifyText } from '../../packages/cli/src/commands/crm-live.js';
import { parseXml } from '@paceline/cib';

const dir = mkdtempSync(join(tmpdir(), 'paceline-crm-live-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cib = (epoch: number, resources = '') =>
  `<cib epoch="${epoch}" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.0"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources>${resources}</resources><constraints/></configuration><status/></cib>\n`;

describe('the crm shell without a CIB file', () => {
  // Nobody on the socket: a named socket is a connection failure (102), the default one a usage error (64).
  it('says where it looked when no cluster answers', async () => {
    const saved = { file: process.env.CIB_file, sock: process.env.PACELINE_API_SOCKET };
    delete process.env.CIB_file;
    delete process.env.PACELINE_API_SOCKET;
    try {
      const nobody = join(dir, 'nobody.sock');
      const named = await liveBackendFor({ socket: nobody });
      expect(named).toMatchObject({ exitCode: 102 });
      expect('output' in named && named.output).toContain(`Could not connect to the cluster (API socket ${nobody})`);
      const r = await runCrm('resource move vip node2', { socket: nobody });
      expect(r.exitCode).toBe(102);
      process.env.PACELINE_API_SOCKET = nobody;
      expect((await runCrm('status')).exitCode).toBe(102);
    } finally {
      if (saved.file !== undefined) process.env.CIB_file = saved.file;
      if (saved.sock !== undefined) process.env.PACELINE_API_SOCKET = saved.sock;
      else delete process.env.PACELINE_API_SOCKET;
    }
  });

  // With a CIB file the one-shot and script paths stay offline, as before.
  it('stays offline on a CIB file', async () => {
    const file = join(dir, 'offline.xml');
    writeFileSync(file, cib(3));
    const r = await runCrm('configure primitive p1 ocf:pacemaker:Dummy', { cibFile: file });
    expect(r).toMatchObject({ exitCode: 0 });
    expect(readFileSync(file, 'utf8')).toMatch(/epoch="4"/);
    const live = await runCrm('resource move p1 node2', { cibFile: file });
    expect(live.exitCode).toBe(1);
    expect(live.output).toContain('not available offline');
  });

  it('turns command-line words back into one shell line; takes --socket and --cib-file from the end', () => {
    expect(shellLine(['primitive', 'vip', 'IPaddr2', 'params', 'ip=10.0.0.1', 'cidr_netmask=24'])).toBe('primitive vip IPaddr2 params ip=10.0.0.1 cidr_netmask=24');
    expect(shellLine(['location', 'l1', 'web', 'rule', '-inf:', 'not_defined', 'x', 'or', 'x', 'eq', "it's"])).toBe(`location l1 web rule -inf: not_defined x or x eq 'it'\\''s'`);
    expect(shellLine(['meta', 'description=a b'])).toBe(`meta 'description=a b'`);
    expect(splitTrailingFlags(['move', 'vip', 'node2', '--socket', '/s', 'PT5M'], {})).toEqual({ words: ['move', 'vip', 'node2', 'PT5M'], flags: { socket: '/s' } });
    expect(splitTrailingFlags(['show', '--cib-file=/f'], { socket: '/t' })).toEqual({ words: ['show'], flags: { socket: '/t', cibFile: '/f' } });
    expect(() => splitTrailingFlags(['show', '--socket'], {})).toThrow('--socket needs a value');
  });

  it('routes status and history at the top level to the live backend', () => {
    expect(liveCommand('top', ['history'])).toEqual(['history', []]);
    expect(liveCommand('top', ['history', 'log', '5'])).toEqual(['history', ['log', '5']]);
    expect(liveCommand('top', ['status', 'full'])).toEqual(['top', ['status', 'full']]);
    expect(liveCommand('resource', ['move', 'vip', 'node2', 'PT5M'])).toEqual(['resource', ['move', 'vip', 'node2', 'PT5M']]);
  });

  it('diffs two configurations in crm syntax', () => {
    const a = cib(1, '<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>');
    const b = cib(2, '<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/><primitive id="b" class="ocf" provider="pacemaker" type="Dummy"/>');
    expect(configDiff(a, b, 'live', 'shadow.x')).toBe('--- live\n+++ shadow.x\n+primitive b ocf:pacemaker:Dummy');
    expect(configDiff(b, a, 'x', 'y')).toBe('--- x\n+++ y\n-primitive b ocf:pacemaker:Dummy');
    expect(configDiff(a, a, 'x', 'y')).toBe('');
  });

  it('verifies a configuration: constraint on a missing resource, and a good one', () => {
    const bad = verifyText(cib(1, '<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>').replace('<constraints/>', '<constraints><rsc_location id="l" rsc="nope" node="n1" score="10"/></constraints>'));
    expect(bad.ok).toBe(false);
    expect(bad.text).toContain('nope');
    // As crm_verify: stonith-enabled (the default) without a fencing resource is an error.
    const noFencing = verifyText(cib(1, '<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>').replace(/<crm_config>.*<\/crm_config>/, '<crm_config/>'));
    expect(noFencing).toMatchObject({ ok: false });
    expect(noFencing.text).toContain('stonith-enabled is true but no fencing');
    const good = cib(1, '<primitive id="a" class="ocf" provider="pacemaker" type="Dummy"/>');
    expect(verifyText(good)).toEqual({ ok: true, text: '' });
  });

  // The cib level on a CIB file: a shadow copy is edited, diffed, committed back; the file's version guards the commit.
  it('keeps shadow CIBs: new, edit, diff, use, commit, delete', async () => {
    const file = join(dir, 'main.xml');
    const shadows = join(dir, 'shadows');
    writeFileSync(file, cib(5));
    const d = await CrmDriver.open(fileCibBackend(file), { host: nodeCrmHost(undefined, dir), interactive: false, shadowDir: shadows });
    expect((await d.input('cib new s1')).output).toContain('created shadow s1');
    expect((await d.input('cib new s1')).output).toContain('exists');
    expect(d.current.name).toBe(join(shadows, 'shadow.s1'));
    expect((await d.input('configure primitive p1 ocf:pacemaker:Dummy')).ok).toBe(true);
    expect(readFileSync(file, 'utf8')).not.toContain('p1');
    expect((await d.input('cib diff')).output).toBe(`--- ${file}\n+++ shadow.s1\n+primitive p1 ocf:pacemaker:Dummy`);
    expect((await d.input('cib delete s1')).output).toContain('in use');
    expect((await d.input('cib use')).ok).toBe(true);
    expect(d.current.name).toBe(file);
    // Someone changed the file since the copy: the commit is refused, the file keeps their change.
    writeFileSync(file, cib(6));
    expect((await d.input('cib commit s1')).output).toContain('changed since the shadow was copied (now 0.6.0, copied 0.5.0): nothing written');
    expect(readFileSync(file, 'utf8')).toBe(cib(6));
    writeFileSync(file, cib(5));
    expect((await d.input('cib commit s1')).ok).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('id="p1"');
    expect((await d.input('cib use nope')).output).toContain('does not exist');
    expect((await d.input('cib new ../x')).output).toContain('not a valid shadow name');
    expect(listShadows(shadows)).toEqual(['s1']);
    expect((await d.input('cib delete s1')).ok).toBe(true);
    expect(existsSync(join(shadows, 'shadow.s1'))).toBe(false);
  });
});

describe('node clearstate, decided on the CIB as crmsh 4.4 does', () => {
  const withStatus = (states: string): string => cib(1).replace('<status/>', `<status>${states}</status>`);
  const plan = (states: string, node: string) => clearstatePlan(parseXml(withStatus(states)).root, node);

  it('an online controller: a resource cleanup instead; corosync still counting the node: refused', () => {
    expect(plan('<node_state id="2" uname="node2" in_ccm="true" crmd="online" join="member" expected="member"/>', 'node2')).toEqual({ kind: 'cleanup' });
    // Newer Pacemaker writes in_ccm/crmd as timestamps: non-zero is true.
    expect(plan('<node_state id="2" uname="node2" in_ccm="1700000000" crmd="1700000000"/>', 'node2')).toEqual({ kind: 'cleanup' });
    expect(plan('<node_state id="2" uname="node2" in_ccm="true" crmd="offline"/>', 'node2')).toEqual({ kind: 'refuse', message: "Node is offline according to Pacemaker, but online according to corosync. First shut down node 'node2'" });
  });

  it('a lost node: its node_state as a fencing confirmation leaves it (down, no history, no transient attributes)', () => {
    const states = '<node_state id="3" uname="node3" in_ccm="false" crmd="online" join="member" expected="member"><transient_attributes id="3"/><lrm id="3"><lrm_resources/></lrm></node_state>';
    // crmd="online" with in_ccm false is an unclean node: Pacemaker's controller would have set crmd offline on loss.
    expect(plan(states.replace('crmd="online"', 'crmd="offline"'), 'node3')).toEqual({
      kind: 'clear',
      xpath: "/cib/status/node_state[@uname='node3']",
      xml: '<node_state id="3" uname="node3" in_ccm="false" crmd="offline" join="down" expected="down"/>',
    });
    expect(plan('', 'node3')).toEqual({ kind: 'clear' });
  });
});
