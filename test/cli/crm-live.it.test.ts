/**
 * The crm shell live on a three-node loopback cluster (the lab's local driver, no root), through
 * the same path `paceline crm ...`, `paceline resource ...` and `paceline -f SCRIPT` take when no
 * CIB file is set (`runCrm`), and through the interactive shell's driver:
 *
 * - configure + commit from a script lands once, on every node;
 * - a commit whose base changed under it (another client updated the configuration) is refused,
 *   writes nothing and keeps the edits; a status-only change in between is not a conflict;
 * - resource move with a lifetime / clear, start / stop / restart, cleanup, why, param / meta;
 * - node standby / online, attributes; maintenance on / off; status, history; a shadow CIB.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import type { StatusResult } from '@paceline/controller';
import { labDown, labUp, waitSettled, type LabState } from '@paceline/lab';
import { registerCrmCommands, runCrm, type CrmOutcome } from '../../packages/cli/src/commands/crm.js';
import { nodeCrmHost } from '../../packages/cli/src/commands/crm-host.js';
import { liveCibBackend } from '../../packages/cli/src/commands/crm-live.js';
import { CrmDriver, runCrmShell } from '../../packages/cli/src/commands/crm-shell.js';
import { PassThrough } from 'node:stream';
import { apiCall, until, webDummyCib } from '../support/cluster.js';
import { missing, repoRoot } from '../support/env.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const reason = missing({ paths: [built] });

describe.skipIf(reason !== undefined)(`the crm shell live on a local three-node cluster ${reason ? `(skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let lab: LabState;
  const name = `sl${process.pid % 10000}`;
  const socket = (node = 'node1'): string => lab.nodes.find((x) => x.name === node)!.apiSocket;
  const savedCibFile = process.env.CIB_file;

  /** `paceline crm TEXT` (a command line or a script) against `node`'s API. */
  const crm = (text: string, node = 'node1'): Promise<CrmOutcome> => runCrm(text, { socket: socket(node) });
  const ok = async (text: string, node = 'node1'): Promise<string> => {
    const r = await crm(text, node);
    expect(r, `crm ${text}`).toMatchObject({ exitCode: 0 });
    return r.output;
  };
  const status = (node = 'node1'): Promise<StatusResult> => apiCall<StatusResult>(lab, node, 'status');
  const cibXml = async (node = 'node1'): Promise<string> => (await apiCall<{ xml: string }>(lab, node, 'cib.query', {})).xml;
  const located = async (rsc: string): Promise<string[]> => [...((await status()).resources.find((r) => r.id === rsc)?.nodes ?? [])];
  const settle = (): Promise<unknown> => waitSettled(lab.nodes, { timeoutMs: 30_000 });

  /** `paceline ARGS` as the binary parses them (the crm commands' registration), in this process. */
  const cli = async (args: readonly string[]): Promise<{ code: number; out: string; err: string }> => {
    const program = new Command('paceline').exitOverride().enablePositionalOptions();
    registerCrmCommands(program);
    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
    const before = process.exitCode;
    try {
      process.exitCode = 0;
      await program.parseAsync([...args], { from: 'user' });
      return { code: Number(process.exitCode ?? 0), out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
      process.exitCode = before;
    }
  };

  beforeAll(async () => {
    delete process.env.CIB_file;
    dir = mkdtempSync(join(tmpdir(), 'paceline-crm-live-'));
    const cib = join(dir, 'cib.xml');
    writeFileSync(cib, webDummyCib(dir));
    lab = await labUp({ name, nodes: 3, driver: 'local', dir, cib, settleTimeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    if (savedCibFile !== undefined) process.env.CIB_file = savedCibFile;
    await labDown(dir, { name }).catch(() => undefined);
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('commits a configure script once, on every node; show reads it back; verify and errors', async () => {
    const epoch = (xml: string): number => Number(/<cib [^>]*\bepoch="(\d+)"/.exec(xml)![1]);
    const before = epoch(await cibXml());
    const script = join(dir, 'add.crm');
    writeFileSync(script, 'configure\nprimitive extra ocf:paceline:Dummy \\\n  op monitor interval=2s \\\n  meta target-role=Stopped\nlocation extra-pref extra 50: node2\ncommit\nend\n');
    expect(await ok(readFileSync(script, 'utf8'))).toBe('');
    for (const n of ['node1', 'node2', 'node3']) await until(`extra on ${n}`, async () => (await cibXml(n)).includes('id="extra-monitor-2s"'));
    // One replace: the epoch moved by one.
    expect(epoch(await cibXml('node3'))).toBe(before + 1);
    expect(await ok('configure show extra extra-pref', 'node2')).toBe('primitive extra ocf:paceline:Dummy \\\n\top monitor interval=2s \\\n\tmeta target-role=Stopped\nlocation extra-pref extra 50: node2');
    expect(await ok('configure verify')).toBe('');
    // A bad line names its position and stops the script; the commit after it never happens.
    const bad = await crm('configure\nprimitive p9 ocf:paceline:Dummy\nprimitive\ncommit\n');
    expect(bad.exitCode).toBe(1);
    expect(bad.output).toMatch(/line 3, column 1/);
    expect(await cibXml()).not.toContain('id="p9"');
  }, 30_000);

  it('refuses a commit when another client changed the configuration, keeps the edits, and commits them after a refresh', async () => {
    const d = await CrmDriver.open(liveCibBackend({ socket: socket('node2') }), { host: nodeCrmHost(undefined, dir), interactive: true });
    expect((await d.input('configure')).ok).toBe(true);
    expect((await d.input('primitive p2 ocf:paceline:Dummy meta target-role=Stopped')).ok).toBe(true);
    // A status-only change (a transient attribute) in between is not a conflict for the next commit...
    await apiCall(lab, 'node3', 'node.attribute', { node: 'node3', name: 'probe-mark', value: '1', lifetime: 'reboot' });
    // ...but another client's configuration change is.
    const v = (await status('node3')).cibVersion;
    await apiCall(lab, 'node3', 'cib.update', { baseVersion: v, op: 'modify', scope: 'crm_config', xml: '<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-batch-limit" name="batch-limit" value="7"/></cluster_property_set></crm_config>' });
    const refused = await d.input('commit');
    expect(refused.ok).toBe(false);
    expect(refused.output).toMatch(/ERROR: commit: the cluster's configuration changed since it was read \(now 0\.\d+\.\d+, read 0\.\d+\.\d+\): nothing written/);
    expect(refused.output).toContain('your changes are kept');
    expect(await cibXml('node1')).not.toContain('id="p2"');
    expect(await cibXml('node1')).toContain('value="7"');
    // Nothing lost: the edit is still there, uncommitted; saved, re-read, loaded and committed.
    expect(d.shell.dirty).toBe(true);
    expect((await d.input('show changed')).output).toContain('primitive p2 ocf:paceline:Dummy');
    expect((await d.input('save p2.crm')).ok).toBe(true);
    expect((await d.input('refresh')).output).toContain('CIB re-read');
    expect((await d.input('load update p2.crm')).ok).toBe(true);
    await apiCall(lab, 'node3', 'node.attribute', { node: 'node3', name: 'probe-mark', lifetime: 'reboot' });
    const committed = await d.input('commit');
    expect(committed, committed.output).toMatchObject({ ok: true });
    await until('p2 everywhere', async () => (await cibXml('node3')).includes('id="p2"'));
    // The other client's change survived the commit.
    expect(await cibXml('node3')).toContain('value="7"');
    // A second commit with nothing new writes nothing and succeeds.
    expect((await d.input('commit')).ok).toBe(true);
  }, 30_000);

  it('resource: move with a lifetime and clear; locate; why; param and meta; cleanup; unknown resource', async () => {
    await settle();
    const from = (await located('web'))[0]!;
    const to = ['node1', 'node2', 'node3'].find((n) => n !== from)!;
    expect(await ok(`resource move web ${to} PT5M`, 'node3')).toContain(`moving web to ${to}: constraint cli-prefer-web, for PT5M`);
    await until(`web on ${to}`, async () => (await located('web')).join() === to);
    const constraint = await apiCall<{ xml: string }>(lab, 'node1', 'cib.query', { xpath: "//rsc_location[@id='cli-prefer-web']" });
    expect(constraint.xml).toMatch(/<date_expression [^>]*operation="lt" end="\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ"/);
    expect(await ok('resource locate web')).toBe(`resource web is running on: ${to}`);
    expect(await ok('resource status extra')).toBe('resource extra is NOT running');
    expect(await ok('resource unmigrate web')).toBe('');
    expect(await cibXml()).not.toContain('cli-prefer-web');
    await settle();
    const why = await ok('resource why web');
    expect(why).toMatch(/^Resource web \(primitive ocf:paceline:Dummy\): now Started on node\d\n {2}Transition: no change\n/);

    expect(await ok('resource param extra set fake 42')).toBe('');
    expect(await ok('resource param extra show fake', 'node3')).toBe('42');
    expect(await ok('resource meta web set resource-stickiness 100')).toBe('');
    expect(await ok('resource meta web show resource-stickiness')).toBe('100');
    expect(await ok('resource meta web delete resource-stickiness')).toBe('');
    expect((await crm('resource meta web show resource-stickiness')).exitCode).toBe(105);
    expect(await ok('resource cleanup web')).toBe('Cleaned up web on all nodes');
    expect(await ok('resource failcount web show node1')).toBe('scope=status  name=fail-count-web value=0');

    const unknown = await crm('resource move nope node1');
    expect(unknown.exitCode).toBe(105);
    expect(unknown.output).toContain('ERROR: resource nope does not exist');
    const badNode = await crm('resource move web node9');
    expect(badNode.exitCode).toBe(105);
    expect((await crm('resource frobnicate web')).exitCode).toBe(64);
  }, 40_000);

  it('one-shot commands and -f scripts as the command line gives them', async () => {
    await settle();
    const from = (await located('web'))[0]!;
    const to = ['node1', 'node2', 'node3'].find((n) => n !== from)!;
    const move = await cli(['resource', 'move', 'web', to, 'PT5M', '--socket', socket('node2')]);
    expect(move, move.err).toMatchObject({ code: 0, out: `INFO: moving web to ${to}: constraint cli-prefer-web, for PT5M\n` });
    await until(`web on ${to}`, async () => (await located('web')).join() === to);
    expect(await cli(['crm', '--socket', socket(), 'resource', 'locate', 'web'])).toMatchObject({ code: 0, out: `resource web is running on: ${to}\n` });
    const script = join(dir, 'clear.crm');
    writeFileSync(script, 'resource\n  clear web\n  up\nconfigure show type:location\n');
    const r = await cli(['crm', '-f', script, '--socket', socket('node3')]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).not.toContain('cli-prefer-web');
    expect(r.out).toContain('location extra-pref extra 50: node2');
    const shown = await cli(['configure', '--socket', socket(), 'show', 'web']);
    expect(shown.out).toMatch(/^primitive web ocf:paceline:Dummy/);
    // The interactive shell: same driver, prompt names the live CIB.
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (b: Buffer) => (text += b.toString()));
    const shell = runCrmShell({ backend: liveCibBackend({ socket: socket('node3') }), input, output, historyFile: join(dir, 'history') });
    input.end('resource\nlocate web\nstatus bogus\nup\nquit\n');
    expect(await shell).toBe(0);
    expect(text).toContain('paceline(live)# paceline(live)resource# ');
    expect(text).toContain('resource web is running on: node');
    expect(text).toContain('ERROR: resource bogus does not exist');
    const nope = await cli(['resource', 'locate', 'nope', '--socket', socket()]);
    expect(nope).toMatchObject({ code: 105, out: '' });
    expect(nope.err).toBe('ERROR: resource nope does not exist\n');
  }, 30_000);

  it('resource start, stop and restart (waiting for each) through a script', async () => {
    expect(await ok('resource start extra')).toBe('');
    await until('extra running', async () => (await located('extra')).length === 1);
    await settle();
    const dc = (await status()).dc!;
    const seen = (await ok('history', dc)).split('\n').length;
    // Restart returns once the resource stopped and started again: two transitions, in that order.
    expect(await ok('resource\nrestart extra\nup\n', 'node2')).toBe('INFO: ordering extra to stop\nINFO: ordering extra to start');
    expect((await located('extra')).length).toBe(1);
    const after = (await ok('history', dc)).split('\n').slice(seen - 1).join('\n');
    expect(after).toMatch(/Stop\s+extra[\s\S]*\n.*Start\s+extra/);
    expect(await ok('resource stop extra')).toBe('');
    await until('extra stopped', async () => (await located('extra')).length === 0);
  }, 40_000);

  it('node: standby with a lifetime and online; attributes; list; maintenance mode; status; history', async () => {
    expect(await ok('node list')).toBe('node1(1): member\nnode2(2): member\nnode3(3): member');
    expect(await ok('node standby node3 reboot')).toBe('INFO: node3 is in standby until it reboots');
    await until('node3 standby', async () => (await status()).nodes.find((n) => n.name === 'node3')!.standby);
    expect(await ok('node show node3')).toMatch(/^node3\(3\): member \(standby\)\n(?:.*\n)*\tstandby=on \(reboot\)/);
    expect(await ok('node online node3')).toBe('');
    await until('node3 online', async () => !(await status()).nodes.find((n) => n.name === 'node3')!.standby);
    expect(await ok('node standby node2')).toBe('INFO: node2 is in standby');
    await until('node2 standby', async () => (await status()).nodes.find((n) => n.name === 'node2')!.standby);
    expect(await ok('status')).toMatch(/\* Node node2: standby/);
    expect(await ok('node online node2')).toBe('');
    await until('node2 online', async () => !(await status()).nodes.find((n) => n.name === 'node2')!.standby);

    expect(await ok('node attribute node1 set rack r7')).toBe('');
    await until('rack', async () => (await crm('node attribute node1 show rack', 'node2')).output === 'scope=nodes  name=rack value=r7');
    expect(await ok('node attribute node1 delete rack')).toBe('');
    await until('rack gone', async () => (await crm('node attribute node1 show rack', 'node2')).exitCode === 105);
    expect(await ok('node utilization node2 set cpu 4')).toBe('');
    expect(await ok('node utilization node2 show cpu')).toBe('4');
    expect((await crm('node standby node9')).exitCode).toBe(105);
    // crmsh 4.4: clearstate of a node whose controller is online cleans its resources up instead.
    expect(await ok('node clearstate node3')).toBe('Cleaned up all resources on node3');
    expect((await crm('node clearstate node9')).exitCode).toBe(105);

    expect(await ok('maintenance on')).toBe('INFO: maintenance mode on for the whole cluster');
    expect(await cibXml()).toMatch(/name="maintenance-mode" value="true"/);
    expect(await ok('maintenance off')).toBe('INFO: maintenance mode off for the whole cluster');
    expect(await cibXml()).toMatch(/name="maintenance-mode" value="false"/);

    const st = await ok('status');
    expect(st).toMatch(/^Cluster Summary:\n {2}\* Stack: corosync\n {2}\* Current DC: node\d/);
    expect(await ok('cluster status')).toMatch(/^Cluster \S+: 3 of 3 nodes online, partition with quorum, DC node\d/);
    const dc = (await status()).dc!;
    expect(await ok('history', dc)).toMatch(/^transition \d+ at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: \d+ actions, (complete|aborted) in \d+ ms/m);
    // The scheduler inputs the DC saved, from its data directory, and one replayed.
    const data = join(lab.nodes.find((n) => n.name === dc)!.dir, 'data');
    const inputs = await ok(`history peinputs ${data}`);
    expect(inputs).toMatch(/^pe-input-1\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/m);
    expect(await ok(`history peinput 1 ${data}`)).toMatch(/Transition Summary:\n(?:.*\n)*? {2}\* Start +web +\( node\d \)/);
    expect((await crm(`history peinput 99999 ${data}`)).exitCode).toBe(105);
  }, 60_000);

  it('cib: a shadow copy edited, diffed against the cluster and committed to it', async () => {
    const shadows = join(dir, 'shadows');
    const d = await CrmDriver.open(liveCibBackend({ socket: socket('node1') }), { host: nodeCrmHost(undefined, dir), interactive: false, shadowDir: shadows });
    expect((await d.input('cib new trial')).output).toContain('configure now works on it');
    expect(existsSync(join(shadows, 'shadow.trial'))).toBe(true);
    expect((await d.input('configure primitive p3 ocf:paceline:Dummy meta target-role=Stopped')).ok).toBe(true);
    expect(await cibXml()).not.toContain('id="p3"');
    expect(readFileSync(join(shadows, 'shadow.trial'), 'utf8')).toContain('id="p3"');
    expect((await d.input('cib diff trial')).output).toContain('+primitive p3 ocf:paceline:Dummy');
    expect((await d.input('cib list')).output).toBe('trial');
    expect((await d.input('cib use live')).ok).toBe(true);
    const commit = await d.input('cib commit trial');
    expect(commit, commit.output).toMatchObject({ ok: true });
    await until('p3 live', async () => (await cibXml('node2')).includes('id="p3"'));
    expect((await d.input('cib delete trial')).ok).toBe(true);
    expect((await d.input('cib list')).output).toContain('no shadow CIBs');
  }, 30_000);

  it('configure erase, then load replace: the configuration saved before comes back, each in one commit', async () => {
    const saved = join(dir, 'before.crm');
    expect(await ok(`configure save ${saved}`)).toBe('');
    // The cluster refuses a configuration that leaves stonith enabled without a device, and says why.
    const refused = await crm('configure\nerase\ncommit\n');
    expect(refused.exitCode).toBe(1);
    expect(refused.output).toContain('stonith-enabled is true but no fencing (class stonith) resource is defined');
    expect(await cibXml()).toContain('id="web"');
    expect(await ok('configure\nerase\nproperty stonith-enabled=false\ncommit\n')).toBe('');
    await until('erased', async () => !(await cibXml('node2')).includes('<primitive'));
    expect(await ok(`configure\nload replace ${saved}\ncommit\n`)).toBe('');
    await until('loaded', async () => (await cibXml('node3')).includes('id="web"') && (await cibXml('node3')).includes('id="fence-lab"'));
    await until('web runs again', async () => (await located('web')).length === 1, 30_000);
  }, 60_000);

  // Fencing goes through the node API's fence.request when the nodes have it (a reboot by fence_lab).
  it('node fence: the node is rebooted by its device and rejoins, or the shell says the API cannot', async () => {
    const hasFencing = await apiCall(lab, 'node1', 'fence.devices', {}).then(
      () => true,
      (e: { code?: string }) => (e.code === 'unknown-method' ? false : Promise.reject(e)),
    );
    const r = await crm('node fence node3', 'node1');
    if (!hasFencing) {
      expect(r.exitCode).toBe(69);
      expect(r.output).toContain("node fence node3: this node's API has no fence method (fence.request): nothing done");
      return;
    }
    expect(r, r.output).toMatchObject({ exitCode: 0 });
    expect(r.output).toMatch(/^INFO: node3 fenced \(reboot\) by fence-lab/);
    await until('the fencing recorded', async () => {
      const h = await apiCall<{ history: { target: string; action: string; ok: boolean }[] }>(lab, 'node1', 'fence.history', { target: 'node3' });
      return h.history.some((e) => e.target === 'node3' && e.action === 'reboot' && e.ok);
    });
    await until('node3 back', async () => (await status()).nodes.find((n) => n.name === 'node3')!.online, 40_000);
  }, 60_000);
});
