/**
 * The live Pacemaker-compatible tools (crm_mon, cibadmin, crm_resource, crm_attribute, crm_node,
 * crm_standby, crm_failcount, crm_verify -L, crm_shadow, stonith_admin with fencing levels) of the built binary against a three-node loopback cluster (the lab's
 * local driver, no root): outputs, changes seen by the cluster, and exit codes, including a bad
 * option, an unknown resource and a socket nobody listens on.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childElements, parseXml } from '@paceline/cib';
import { labDown, labUp, waitSettled, type LabState } from '@paceline/lab';
import { until, webDummyCib } from '../support/cluster.js';
import { missing, repoRoot } from '../support/env.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const bin = join(repoRoot, 'packages/cli/bin/paceline.js');
const reason = missing({ paths: [built] });


interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

describe.skipIf(reason !== undefined)(`the live Pacemaker-compatible tools on a local three-node cluster ${reason ? `(skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let lab: LabState;
  const name = `lvt${process.pid % 10000}`;
  const socket = (node = 'node1'): string => lab.nodes.find((x) => x.name === node)!.apiSocket;

  /** Runs `paceline TOOL ARGS --socket S` (CIB_file unset). */
  const pl = (args: readonly string[], node = 'node1'): Promise<Run> =>
    new Promise((resolve) => {
      const env = { ...process.env };
      delete env['CIB_file'];
      delete env['PACELINE_API_SOCKET'];
      execFile(process.execPath, [bin, ...args, '--socket', socket(node)], { env, timeout: 20_000 }, (err, out, errText) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        resolve({ code, out, err: errText });
      });
    });
  const ok = async (args: readonly string[], node = 'node1'): Promise<string> => {
    const r = await pl(args, node);
    expect(r, `paceline ${args.join(' ')}: ${r.err}`).toMatchObject({ code: 0 });
    return r.out;
  };
  const settle = (): Promise<unknown> => waitSettled(lab.nodes, { timeoutMs: 30_000 });
  const located = async (): Promise<string> => (/running on: (\S+)/.exec(await ok(['crm_resource', '--locate', '-r', 'web'])) ?? [])[1] ?? '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-live-tools-'));
    const cib = join(dir, 'cib.xml');
    writeFileSync(cib, webDummyCib(dir));
    lab = await labUp({ name, nodes: 3, driver: 'local', dir, cib, settleTimeoutMs: 60_000 });
  }, 90_000);

  afterAll(async () => {
    await labDown(dir, { name }).catch(() => undefined);
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('crm_mon: the summary, nodes and resources in text and XML; prints once when not on a terminal', async () => {
    await settle();
    const text = await ok(['crm_mon', '-1', '-r']);
    expect(text).toMatch(/^Cluster Summary:\n {2}\* Stack: corosync\n {2}\* Current DC: node\d \(version [^)]+\) - partition with quorum\n/);
    expect(text).toContain('  * 3 nodes configured\n  * 2 resource instances configured\n');
    expect(text).toContain('\nNode List:\n  * Online: [ node1 node2 node3 ]\n');
    expect(text).toMatch(/\nFull List of Resources:\n(?: {2}\* .*\n)*? {2}\* web\t\(ocf:paceline:Dummy\):\t Started node\d\n/);
    expect(text).toMatch(/ {2}\* fence-lab\t\(stonith:fence_lab\):\t Started node\d/);
    // Not a terminal: without -1 it prints once and exits.
    expect(await ok(['crm_mon', '-n'])).toMatch(/Node List:\n {2}\* Node node1: online:\n/);
    const ops = await ok(['crm_mon', '-1', '-o', '-t']);
    expect(ops).toMatch(/Operations:\n {2}\* Node: node1:/);
    expect(ops).toMatch(/\* \(\d+\) monitor: interval="1000ms" last-rc-change="[^"]+" exec-time="\d+ms"/);

    const xml = parseXml(await ok(['crm_mon', '--output-as=xml'], 'node2')).root;
    expect(xml.name).toBe('pacemaker-result');
    const nodes = childElements(childElements(xml, 'nodes')[0]!, 'node');
    expect(nodes.map((n) => [n.attrs['name'], n.attrs['online']])).toEqual([['node1', 'true'], ['node2', 'true'], ['node3', 'true']]);
    expect(nodes.filter((n) => n.attrs['is_dc'] === 'true')).toHaveLength(1);
    const web = childElements(childElements(xml, 'resources')[0]!, 'resource').find((r) => r.attrs['id'] === 'web')!;
    expect(web.attrs).toMatchObject({ resource_agent: 'ocf:paceline:Dummy', role: 'Started', active: 'true', nodes_running_on: '1' });
    expect(childElements(xml, 'status')[0]?.attrs).toEqual({ code: '0', message: 'OK' });
  }, 20_000);

  it('crm_node lists the members, the partition, quorum and the local node', async () => {
    expect(await ok(['crm_node', '-l'])).toBe('1 node1 member\n2 node2 member\n3 node3 member\n');
    expect(await ok(['crm_node', '-p'], 'node3')).toBe('node1 node2 node3\n');
    expect(await ok(['crm_node', '-q'])).toBe('1\n');
    expect(await ok(['crm_node', '-n'], 'node2')).toBe('node2\n');
    expect(await ok(['crm_node', '-i'], 'node3')).toBe('3\n');
  });

  it('cibadmin: query by scope and xpath, create and delete, exit codes of a missing object and of erase without --force', async () => {
    expect(await ok(['cibadmin', '-Q', '-o', 'resources'])).toMatch(/^<resources>[\s\S]*<primitive id="web"/);
    const missingObj = await pl(['cibadmin', '-Q', '--xpath', "//primitive[@id='nope']"]);
    expect(missingObj.code).toBe(105);
    await ok(['cibadmin', '-C', '-o', 'resources', '-X', '<primitive id="extra" class="ocf" provider="paceline" type="Dummy"><meta_attributes id="extra-meta"><nvpair id="extra-tr" name="target-role" value="Stopped"/></meta_attributes></primitive>'], 'node2');
    await until('extra on node3', async () => (await ok(['cibadmin', '-Q', '--xpath', "//primitive[@id='extra']"], 'node3')).includes('id="extra"'));
    const dup = await pl(['cibadmin', '-C', '-o', 'resources', '-X', '<primitive id="extra" class="ocf" provider="paceline" type="Dummy"/>']);
    expect(dup.code).not.toBe(0);
    await ok(['cibadmin', '-D', '-X', '<primitive id="extra"/>']);
    expect((await pl(['cibadmin', '-Q', '--xpath', "//primitive[@id='extra']"])).code).toBe(105);
    // A change naming an object that does not exist: the cluster's "no such object", exit 105.
    const modifyMissing = await pl(['cibadmin', '-M', '-o', 'resources', '-X', '<primitive id="nope" description="x"/>'], 'node2');
    expect(modifyMissing.code).toBe(105);
    const erase = await pl(['cibadmin', '-E']);
    expect(erase.code).toBe(107);
    expect(erase.err).toContain('--force');
    const noXml = await pl(['cibadmin', '-M', '-o', 'resources']);
    expect(noXml.code).toBe(64);
  }, 40_000);

  it('crm_resource: list, locate, parameters, why; unknown resource and bad option fail clearly', async () => {
    expect(await ok(['crm_resource', '--list'])).toMatch(/^Full List of Resources:\n[\s\S]* {2}\* web\t\(ocf:paceline:Dummy\):\t Started node\d/);
    const at = await located();
    expect(at).toMatch(/^node\d$/);
    expect(await ok(['crm_resource', '--get-parameter', 'pcmk_host_list', '-r', 'fence-lab'])).toBe('node1 node2 node3\n');
    expect(await ok(['crm_resource', '--set-parameter', 'resource-stickiness', '--meta', '-r', 'web', '-v', '200'], 'node2')).toContain("Set 'web' option: id=web-meta_attributes-resource-stickiness set=web-meta_attributes name=resource-stickiness value=200");
    expect(await ok(['crm_resource', '--get-parameter', 'resource-stickiness', '--meta', '-r', 'web'], 'node2')).toBe('200\n');
    await settle();
    const why = await ok(['crm_resource', '--why', '-r', 'web']);
    expect(why).toMatch(/^Resource web \(primitive ocf:paceline:Dummy\): now Started on node\d\n {2}Transition: no change\n/);
    expect(why).toMatch(/ {4}node\d: 200\n {6}\+200 {2}stickiness/);

    const unknown = await pl(['crm_resource', '--locate', '-r', 'nope']);
    expect(unknown).toMatchObject({ code: 105 });
    expect(unknown.err).toContain("Resource 'nope' not found");
    expect((await pl(['crm_resource', '--get-parameter', 'nothing', '-r', 'web'])).code).toBe(105);
    const bad = await pl(['crm_resource', '--bogus']);
    expect(bad.code).toBe(64);
    expect(bad.err).toContain("unknown option '--bogus'");
    expect((await pl(['crm_resource'])).code).toBe(64);
    const env = { ...process.env };
    delete env['CIB_file'];
    const nobody = await new Promise<Run>((resolve) =>
      execFile(process.execPath, [bin, 'crm_mon', '-1', '--socket', join(dir, 'nobody.sock')], { env }, (err, out, e) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, out, err: e })),
    );
    expect(nobody.code).toBe(102);
    expect(nobody.err).toContain('Could not connect');
  }, 40_000);

  it('crm_resource --move with a lifetime moves the resource; --clear removes the constraint', async () => {
    await settle();
    const from = await located();
    const to = ['node1', 'node2', 'node3'].find((n) => n !== from)!;
    await ok(['crm_resource', '--move', '-r', 'web', '-N', to, '--lifetime', 'PT10M'], 'node3');
    await until(`web on ${to}`, async () => (await located()) === to);
    expect(await ok(['cibadmin', '-Q', '-o', 'constraints'])).toContain('cli-prefer-web');
    await ok(['crm_resource', '--clear', '-r', 'web']);
    expect(await ok(['cibadmin', '-Q', '-o', 'constraints'])).not.toContain('cli-prefer-web');
  }, 30_000);

  it('crm_attribute, crm_standby and crm_failcount read and change attributes', async () => {
    await ok(['crm_attribute', '-N', 'node2', '-n', 'rack', '-v', 'r7', '-l', 'reboot']);
    await until('rack on node2', async () => (await pl(['crm_attribute', '-N', 'node2', '-n', 'rack', '-G', '-l', 'reboot'])).out === 'scope=status  name=rack value=r7\n');
    expect(await ok(['crm_mon', '-1', '-A'])).toMatch(/Node Attributes:\n[\s\S]*\* Node: node2:\n {4}\* rack +\t: r7/);
    await ok(['crm_attribute', '-N', 'node2', '-n', 'rack', '-D', '-l', 'reboot']);
    await until('rack gone', async () => (await pl(['crm_attribute', '-N', 'node2', '-n', 'rack', '-G', '-l', 'reboot'])).code === 105);

    await ok(['crm_attribute', '-n', 'cluster-recheck-interval', '-v', '5min']);
    expect(await ok(['crm_attribute', '-n', 'cluster-recheck-interval', '-G'], 'node3')).toBe('scope=crm_config  name=cluster-recheck-interval value=5min\n');
    expect(await ok(['crm_attribute', '-n', 'cluster-recheck-interval', '-G', '-q'], 'node3')).toBe('5min\n');
    expect((await pl(['crm_attribute', '-N', 'node9', '-n', 'x', '-G'])).code).toBe(105);
    await ok(['crm_attribute', '-t', 'nodes', '-N', 'node1', '-n', 'site', '-v', 'east']);
    await until('site on node1', async () => (await pl(['crm_attribute', '-t', 'nodes', '-N', 'node1', '-n', 'site', '-G', '-q'], 'node2')).out === 'east\n');
    expect((await pl(['crm_attribute', '-t', 'bogus', '-n', 'x', '-G'])).code).toBe(64);

    await ok(['crm_standby', '-N', 'node3', '-v', 'on']);
    await until('node3 standby', async () => (await pl(['crm_standby', '-N', 'node3', '-G'])).out === 'scope=nodes  name=standby value=on\n');
    await until('crm_mon shows the standby', async () => (await ok(['crm_mon', '-1'])).includes('  * Node node3: standby'));
    await ok(['crm_standby', '-N', 'node3', '-v', 'off']);
    await until('node3 back', async () => (await ok(['crm_mon', '-1'])).includes('Online: [ node1 node2 node3 ]'));

    expect(await ok(['crm_failcount', '-r', 'web', '-N', 'node1', '-G'])).toBe('scope=status  name=fail-count-web value=0\n');
    expect((await pl(['crm_failcount', '-r', 'nope', '-N', 'node1', '-G'])).code).toBe(105);
  }, 40_000);

  it('crm_verify -L checks the live CIB; crm_shadow copies it, shows the changes and commits them based on the version copied', async () => {
    const verify = await pl(['crm_verify', '-L', '-V']);
    expect(verify, verify.err).toMatchObject({ code: 0, out: '' });
    const shadowDir = join(dir, 'shadows');
    const sh = (args: readonly string[], active?: string): Promise<Run> =>
      new Promise((resolve) => {
        const env: NodeJS.ProcessEnv = { ...process.env, CIB_shadow_dir: shadowDir };
        for (const k of ['CIB_file', 'CIB_shadow', 'PACELINE_API_SOCKET']) delete env[k];
        if (active !== undefined) env['CIB_shadow'] = active;
        execFile(process.execPath, [bin, ...args], { env, timeout: 20_000 }, (err, out, e) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, out, err: e }));
      });
    const created = await sh(['crm_shadow', '-c', 'work', '--batch', '--socket', socket()]);
    expect(created, created.err).toMatchObject({ code: 0 });
    expect(created.out).toContain('CIB_shadow=work ; export CIB_shadow');
    expect((await sh(['crm_shadow', '-d', '--socket', socket()], 'work')).code).toBe(0);
    // A change in the copy only: the cluster does not see it until the commit.
    expect((await sh(['cibadmin', '-C', '-o', 'resources', '-X', '<primitive id="shadowed" class="ocf" provider="paceline" type="Dummy"><meta_attributes id="shadowed-m"><nvpair id="shadowed-tr" name="target-role" value="Stopped"/></meta_attributes></primitive>'], 'work')).code).toBe(0);
    const diff = await sh(['crm_shadow', '-d', '--socket', socket()], 'work');
    expect(diff.code).toBe(1);
    expect(diff.out).toMatch(/<change operation="create" path="\/cib\/configuration\/resources" position="\d+">\n {4}<primitive id="shadowed"/);
    expect((await pl(['cibadmin', '-Q', '--xpath', "//primitive[@id='shadowed']"])).code).toBe(105);
    expect((await sh(['crm_shadow', '-C', 'work', '--socket', socket()])).code).toBe(64);
    const commit = await sh(['crm_shadow', '-C', 'work', '--force', '--socket', socket('node2')]);
    expect(commit, commit.err).toMatchObject({ code: 0 });
    await until('shadowed on node3', async () => (await pl(['cibadmin', '-Q', '--xpath', "//primitive[@id='shadowed']"], 'node3')).code === 0);
    // The cluster changes meanwhile: a commit of an older copy is refused (103), not written over it.
    expect((await sh(['crm_shadow', '-c', 'stale', '--batch', '--socket', socket()])).code).toBe(0);
    await ok(['crm_attribute', '-n', 'cluster-recheck-interval', '-v', '7min']);
    expect((await sh(['cibadmin', '-D', '-X', '<primitive id="shadowed"/>'], 'stale')).code).toBe(0);
    const stale = await sh(['crm_shadow', '-C', 'stale', '--force', '--socket', socket()]);
    expect(stale.code).toBe(103);
    expect(stale.err).toContain("the cluster's CIB changed since the copy was taken");
    expect((await pl(['cibadmin', '-Q', '--xpath', "//primitive[@id='shadowed']"])).code).toBe(0);
    await ok(['cibadmin', '-D', '-X', '<primitive id="shadowed"/>']);
  }, 90_000);

  it('stonith_admin lists the devices, registers fencing levels in the CIB, reboots a node through the API, and shows it in the history', async () => {
    await settle();
    expect(await ok(['stonith_admin', '-L'])).toBe('fence-lab\n1 fence device found\n');
    expect(await ok(['stonith_admin', '-l', 'node3'], 'node2')).toBe('fence-lab\n1 fence device found\n');
    // Fencing levels land in the CIB's fencing-topology (every node has them), and go again.
    expect(await ok(['stonith_admin', '-r', 'node3', '-i', '1', '-v', 'fence-lab'])).toBe('');
    expect(await ok(['stonith_admin', '-r', 'rack=r1', '-i', '2', '-v', 'fence-lab'])).toBe('');
    const level = "//fencing-topology/fencing-level[@target='node3']";
    await until('the level on node3', async () => (await pl(['cibadmin', '-Q', '--xpath', level], 'node3')).out === '<fencing-level id="fl-node3-1" target="node3" index="1" devices="fence-lab"/>\n');
    expect((await pl(['stonith_admin', '-r', 'node3', '-i', '10', '-v', 'fence-lab'])).code).toBe(2);
    expect(await ok(['stonith_admin', '-d', 'node3', '-i', '1'], 'node2')).toBe('');
    expect(await ok(['stonith_admin', '-d', 'rack=r1', '-i', '0'])).toBe('');
    await until('the levels gone', async () => (await pl(['cibadmin', '-Q', '-o', 'configuration'], 'node3')).out.includes('<fencing-topology/>'));
    const unknown = await pl(['stonith_admin', '-B', 'node9']);
    expect(unknown.code).toBe(105);
    // --confirm is for a node verified down: refused for a member, unknown for a stranger.
    const member = await pl(['stonith_admin', '-C', 'node2']);
    expect(member.code).toBe(107);
    expect(member.err).toContain('node2 is a member of the cluster');
    expect((await pl(['stonith_admin', '-C', 'node9'])).code).toBe(105);
    expect(await ok(['stonith_admin', '-H', 'node3'])).toBe('0 events found\n');
    const fenced = await pl(['stonith_admin', '-B', 'node3'], 'node1');
    expect(fenced, fenced.err).toMatchObject({ code: 0, out: 'Node node3 fenced (reboot): OK\n' });
    // The outcome reaches the other members as a replicated message: node2 may apply it a moment
    // after node1 answered (as Pacemaker's fencers share their history asynchronously).
    let history = '';
    await until('node2 has the fencing in its history', async () => (history = await ok(['stonith_admin', '-H', '*'], 'node2')).startsWith('reboot of node3'));
    expect(history).toMatch(/^reboot of node3 successful: delegate=node1, client=stonith_admin, origin=node1, last-successful='\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [+-]\d\d:\d\d'\n1 event found\n$/);
    expect(await ok(['stonith_admin', '-H', 'node3', '-V'], 'node2')).toMatch(/^reboot of node3 successful: delegate=node1, client=stonith_admin, origin=node1, completed='[^']+'\n(?:.*\n)*\d+ events? found\n$/);
    expect(await ok(['stonith_admin', '-H', 'node3', '-q'], 'node2')).toMatch(/^\d{10}\n$/);
    const xml = parseXml(await ok(['stonith_admin', '-H', 'node3', '--output-as=xml'])).root;
    expect(childElements(childElements(xml, 'fence_history')[0]!, 'fence_event')[0]?.attrs).toMatchObject({ action: 'reboot', target: 'node3', status: 'success', delegate: 'node1' });
    // --cleanup forgets it on every node.
    expect(await ok(['stonith_admin', '-H', 'node3', '--cleanup'])).toBe('cleaning up fencing-history for node node3\n');
    await until('node2 has forgotten the fencing', async () => (await ok(['stonith_admin', '-H', '*'], 'node2')) === '0 events found\n');
    // node3 comes back and rejoins.
    await until('node3 back', async () => (await pl(['crm_node', '-l'])).out.includes('3 node3 member'), 40_000);
    await settle();
  }, 70_000);
});

describe.skipIf(reason !== undefined)(`cibadmin and crm_mon offline on CIB_file ${reason ? `(skipped: ${reason})` : ''}`, () => {
  const run = (file: string, args: readonly string[]): Promise<Run> =>
    new Promise((resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env, CIB_file: file };
      delete env['PACELINE_API_SOCKET'];
      execFile(process.execPath, [bin, ...args], { env }, (err, out, errText) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, out, err: errText }));
    });

  it('stonith_admin -r / -d change the file\'s fencing-topology (the epoch bumped)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paceline-cibfile-'));
    try {
      const file = join(dir, 'cib.xml');
      writeFileSync(file, webDummyCib(dir));
      const epoch = (): string => parseXml(readFileSync(file, 'utf8')).root.attrs['epoch'] ?? '';
      const before = Number(epoch());
      expect(await run(file, ['stonith_admin', '-r', '@node[12]', '-i', '1', '-v', 'fence-lab', '-v', 'fence-other'])).toMatchObject({ code: 0, out: '', err: '' });
      expect(readFileSync(file, 'utf8')).toContain('<fencing-topology>\n      <fencing-level id="fl-node_12_-1" target-pattern="node[12]" index="1" devices="fence-lab,fence-other"/>\n    </fencing-topology>');
      expect(Number(epoch())).toBe(before + 1);
      expect((await run(file, ['stonith_admin', '-r', 'node1', '-i', '1'])).code).toBe(2);
      expect((await run(file, ['stonith_admin', '-d', '@node[12]', '-i', '1'])).code).toBe(0);
      expect(readFileSync(file, 'utf8')).toContain('<fencing-topology/>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('changes the file as cibadmin does, with its exit codes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paceline-cibfile-'));
    try {
      const file = join(dir, 'cib.xml');
      writeFileSync(file, webDummyCib(dir));
      expect((await run(file, ['cibadmin', '-C', '-o', 'resources', '-X', '<primitive id="extra" class="ocf" provider="paceline" type="Dummy"/>'])).code).toBe(0);
      expect((await run(file, ['cibadmin', '-C', '-o', 'resources', '-X', '<primitive id="extra" class="ocf" provider="paceline" type="Dummy"/>'])).code).toBe(108);
      expect((await run(file, ['cibadmin', '-M', '--xpath', "//primitive[@id='extra']", '-X', '<primitive id="extra" description="hello"/>'])).code).toBe(0);
      const q = await run(file, ['cibadmin', '-Q', '--xpath', "//primitive[@id='extra']"]);
      expect(q.out).toBe('<primitive id="extra" class="ocf" provider="paceline" type="Dummy" description="hello"/>\n');
      const root = parseXml((await run(file, ['cibadmin', '-Q'])).out).root;
      expect(root.attrs['epoch']).toBe('3');
      expect((await run(file, ['cibadmin', '-D', '-X', '<primitive id="extra"/>'])).code).toBe(0);
      expect((await run(file, ['cibadmin', '-Q', '--xpath', "//primitive[@id='extra']"])).code).toBe(105);
      expect((await run(file, ['cibadmin', '-E'])).code).toBe(107);
      const mon = await run(file, ['crm_mon', '-1', '-r']);
      expect(mon.out).toContain('Full List of Resources:\n  * web\t(ocf:paceline:Dummy):\t Stopped\n');
      expect((await run(file, ['cibadmin', '-E', '--force'])).code).toBe(0);
      expect((await run(file, ['cibadmin', '-Q', '-o', 'resources'])).out).toBe('<resources/>\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
