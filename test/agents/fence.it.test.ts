/**
 * Real-process suite: the fence agents. fence_dummy through both input forms (stdin key=value
 * as Pacemaker's fencer sends them, and command-line options); fence_lab against a lab node made
 * of a process group and a network namespace this suite creates (power off kills exactly the
 * node's processes and takes its link down, power on boots it again); fence_ssh's answers for a
 * host that cannot be reached (inside an empty namespace, so no traffic leaves the machine).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/env.js';
import { agentsDir, alive, createNetns, runAgent, tempDir } from './support.js';

const why = missing({ tools: ['dash', 'ip', 'setsid'] });
const fence = (name: string) => join(agentsDir, 'stonith', name);

describe.skipIf(!!why)(`fence_dummy (real-process suite) ${why ?? ''}`, () => {
  const tmp = tempDir('fence-dummy');
  afterAll(() => tmp.remove());
  const stateFile = join(tmp.path, 'calls');
  const calls = () => readFileSync(stateFile, 'utf8').trim().split('\n');

  it('takes key=value lines on stdin, with port and nodename, and records each call', () => {
    // This is exactly what Pacemaker's fencer writes to a fence agent's stdin.
    const off = runAgent(fence('fence_dummy'), [], { input: `action=off\nport=node2\nstate_file=${stateFile}\nnodename=node2\n` });
    expect(off.rc).toBe(0);
    expect(calls().at(-1)).toMatch(/^\d+ action=off plug=node2 result=success$/);
    // status: 2 means off, 0 on; a plug comes from nodename when port is absent.
    expect(runAgent(fence('fence_dummy'), [], { input: `action=status\nnodename=node2\nstate_file=${stateFile}\n` }).rc).toBe(2);
    expect(runAgent(fence('fence_dummy'), [], { input: `action=on\nplug=node2\nstate_file=${stateFile}\n` }).rc).toBe(0);
    expect(runAgent(fence('fence_dummy'), [], { input: `option=status\nport=node2\nstate_file=${stateFile}\n` }).rc).toBe(0);
  });

  it('takes command-line options, fails the configured actions, and lists plugs', () => {
    // Operators and stonith_admin call fence agents with -o/-n; drills make fencing fail on demand.
    const run = (...args: string[]) => runAgent(fence('fence_dummy'), [...args, `--state-file=${stateFile}`]);
    expect(run('-o', 'reboot', '-n', 'node3', '--result=fail', '--fail-actions=reboot,off').rc).toBe(1);
    expect(calls().at(-1)).toMatch(/action=reboot plug=node3 result=fail$/);
    expect(run('-o', 'status', '-n', 'node3', '--result=fail', '--fail-actions=reboot,off').rc).toBe(0);
    expect(run('--action=off', '--plug=node3').rc).toBe(0);
    const list = run('-o', 'list', '--plugs=node1,node2 node3');
    expect(list.rc).toBe(0);
    expect(list.stdout).toBe('node1,\nnode2,\nnode3,\n');
    const listStatus = run('-o', 'list-status', '--plugs=node3');
    expect(listStatus.stdout).toBe('node3,,off\n');
    expect(run('-o', 'monitor').rc).toBe(0);
  });

  it('fails an unknown action, a missing plug and a bad result value with a message', () => {
    // A fencing request that cannot be carried out must never read as success.
    const bogus = runAgent(fence('fence_dummy'), ['-o', 'explode', `--state-file=${stateFile}`]);
    expect(bogus.rc).toBe(1);
    expect(bogus.stderr).toContain("unrecognised action 'explode'");
    expect(runAgent(fence('fence_dummy'), ['-o', 'off', `--state-file=${stateFile}`]).rc).toBe(1);
    expect(runAgent(fence('fence_dummy'), ['-o', 'off', '-n', 'x', '--result=maybe', `--state-file=${stateFile}`]).rc).toBe(1);
    expect(runAgent(fence('fence_dummy'), ['-x']).rc).toBe(1);
  });
});

const labWhy = missing({ tools: ['ip', 'setsid'], root: true, netns: true });

describe.skipIf(!!labWhy)(`fence_lab against a lab node (real-process suite) ${labWhy ?? ''}`, () => {
  const lab = tempDir('lab');
  let node: ReturnType<typeof createNetns>;
  let wire: ReturnType<typeof createNetns>;
  const started: ChildProcess[] = [];
  const nodeDir = () => join(lab.path, 'nodes/node1');

  /** Starts a detached process (its own session and group) and returns it. */
  function detached(cmd: string, args: string[]): ChildProcess {
    const c = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    c.unref();
    started.push(c);
    return c;
  }

  beforeAll(() => {
    node = createNetns('labnode');
    wire = createNetns('labwire');
    node.ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'node1', 'netns', wire.name);
    node.ip('link', 'set', 'eth0', 'up');
    wire.ip('link', 'set', 'node1', 'up');
    mkdirSync(nodeDir(), { recursive: true });
    mkdirSync(join(lab.path, 'nodes/node2'), { recursive: true });
    writeFileSync(join(nodeDir(), 'netns'), `${node.name}\n`);
    // The boot script of the contract: start the node in its namespace and write its pid.
    const boot = join(nodeDir(), 'boot');
    writeFileSync(boot, `#!/bin/sh\nsetsid ip netns exec ${node.name} sh -c 'sleep 1000 & sleep 1000; wait' </dev/null >/dev/null 2>&1 &\necho $! > "$LAB_DIR/nodes/$NODE/pid"\n`);
    chmodSync(boot, 0o755);
  });

  afterAll(() => {
    // Whole groups, even when their leader died: a failed test must not leave sleepers behind.
    for (const c of started) if (c.pid) spawnSync('kill', ['-KILL', '--', `-${c.pid}`], { stdio: 'ignore' });
    const pid = Number(readFileSync(join(nodeDir(), 'pid'), 'utf8').trim());
    if (pid > 0) spawnSync('kill', ['-KILL', '--', `-${pid}`], { stdio: 'ignore' });
    node?.remove();
    wire?.remove();
    lab.remove();
  });

  const run = (action: string, extra = '') => runAgent(fence('fence_lab'), [], { input: `action=${action}\nport=node1\nlab_dir=${lab.path}\npower_timeout=10\n${extra}` });
  const linkUp = () => /state UP/.test(node.ip('-o', 'link', 'show', 'eth0'));

  it('powers a node off: its process group and namespace processes die, its link goes down, others live', async () => {
    // The drills rely on fence_lab to make a node truly dead, and on nothing else dying with it.
    // The node's group has a member outside its namespace, and the namespace a process outside
    // the group: off must find both (by process group and by namespace).
    const main = detached('sh', ['-c', `sleep 1000 & ip netns exec ${node.name} sleep 1000 & wait`]);
    const inNamespace = detached('ip', ['netns', 'exec', node.name, 'sleep', '1000']);
    const bystander = detached('sleep', ['1000']);
    writeFileSync(join(nodeDir(), 'pid'), `${main.pid}\n`);
    await new Promise((res) => setTimeout(res, 300));
    const groupBefore = pgroup(main.pid!);
    expect(groupBefore.length).toBeGreaterThanOrEqual(2);
    expect(run('status').rc).toBe(0);

    const off = run('off');
    expect(off.rc, off.stderr).toBe(0);
    await new Promise((res) => setTimeout(res, 200));
    for (const pid of groupBefore) expect(alive(pid)).toBe(false);
    expect(alive(inNamespace.pid!)).toBe(false);
    expect(alive(bystander.pid!)).toBe(true);
    expect(linkUp()).toBe(false);
    expect(readFileSync(join(nodeDir(), 'power'), 'utf8')).toMatch(/^off \d+/);
    expect(run('status').rc).toBe(2);
  });

  it('powers a node on through its boot script, with its link up again', () => {
    // After fencing, the lab brings the node back for the next round of the drill.
    const on = run('on');
    expect(on.rc, on.stderr).toBe(0);
    expect(run('status').rc).toBe(0);
    expect(linkUp()).toBe(true);
    const pid = Number(readFileSync(join(nodeDir(), 'pid'), 'utf8').trim());
    expect(spawnSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' }).stdout.trim()).toBe(node.name);
  });

  it('reboots a node (off, then powered on without waiting) and lists the lab nodes', () => {
    // reboot is Pacemaker's default fencing action.
    const before = readFileSync(join(nodeDir(), 'pid'), 'utf8').trim();
    expect(run('reboot').rc).toBe(0);
    expect(alive(Number(before))).toBe(false);
    // The reboot is done once the node is off; it boots again on its own, without the agent waiting.
    const end = Date.now() + 10_000;
    while (run('status').rc !== 0 && Date.now() < end) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    expect(run('status').rc).toBe(0);
    expect(readFileSync(join(nodeDir(), 'pid'), 'utf8').trim()).not.toBe(before);
    const list = runAgent(fence('fence_lab'), ['-o', 'list', `--lab-dir=${lab.path}`]);
    expect(list.stdout).toBe('node1,\nnode2,\n');
    expect(runAgent(fence('fence_lab'), ['-o', 'monitor', `--lab-dir=${lab.path}`]).rc).toBe(0);
  });

  it('fails without a lab, for an unknown node, and to power on a node with no boot script', () => {
    // Fencing that cannot act must fail loudly, so the cluster does not assume the node is dead.
    expect(runAgent(fence('fence_lab'), ['-o', 'off', '-n', 'node1']).rc).toBe(1);
    expect(runAgent(fence('fence_lab'), ['-o', 'off', '-n', 'node9', `--lab-dir=${lab.path}`]).rc).toBe(1);
    expect(runAgent(fence('fence_lab'), ['-o', 'off', '-n', '../x', `--lab-dir=${lab.path}`]).rc).toBe(1);
    const on = runAgent(fence('fence_lab'), ['-o', 'on', '-n', 'node2', `--lab-dir=${lab.path}`]);
    expect(on.rc).toBe(1);
    expect(on.stderr).toMatch(/no boot script/);
    expect(existsSync(join(lab.path, 'nodes/node2/power'))).toBe(false);
  });
});

const sshWhy = missing({ tools: ['ssh'], root: true, netns: true });

describe.skipIf(!!sshWhy)(`fence_ssh without a reachable host (real-process suite) ${sshWhy ?? ''}`, () => {
  let ns: ReturnType<typeof createNetns>;
  beforeAll(() => {
    ns = createNetns('fencessh');
  });
  afterAll(() => ns?.remove());
  const run = (input: string) => runAgent(fence('fence_ssh'), [], { input, netns: ns.name });

  it('reports an unreachable host as off, cannot power on, and validates its key file', () => {
    // fence_ssh takes silence for "off"; it must never claim it powered a machine on.
    const host = 'ipaddr=192.0.2.1\nport=node1\npower_timeout=5\n';
    expect(run(`action=status\n${host}`).rc).toBe(2);
    const off = run(`action=off\n${host}`);
    expect(off.rc).toBe(0);
    expect(off.stderr).toMatch(/does not answer ssh: already off/);
    const on = run(`action=on\n${host}`);
    expect(on.rc).toBe(1);
    expect(on.stderr).toMatch(/cannot power a machine on/);
    expect(run(`action=off\n${host}identity_file=/nonexistent/key\n`).rc).toBe(1);
    expect(run('action=off\n').rc).toBe(1);
    expect(run(`action=list\n${host}`).stdout).toBe('192.0.2.1,\n');
  });
});

/** Pids whose process group is pgid. */
function pgroup(pgid: number): number[] {
  const out = spawnSync('ps', ['-e', '-o', 'pid=,pgid='], { encoding: 'utf8' }).stdout ?? '';
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, g]) => g === pgid)
    .map(([p]) => p!);
}
