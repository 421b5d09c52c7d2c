/**
 * The netns lab end to end with a stand-in node command (the daemon answers no API here):
 * namespaces and addresses, the fence_lab contract (run the real agent), link faults,
 * partitions, the fault verbs, and `down` removing everything, twice.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { faults, labDown, labExec, labNamespaces, labStatus, labUp, listNamespaces, namespacePids, nodePid, type LabState } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { alive, labName, procState, sleep, STANDIN } from './support.js';

const why = missing({ root: true, tools: ['ip', 'nft', 'ping', 'setsid'], netns: true });
const LAB = labName('tn');

function pingFrom(ns: string, ip: string): boolean {
  return spawnSync('ip', ['netns', 'exec', ns, 'ping', '-n', '-c', '1', '-W', '1', ip], { stdio: 'ignore' }).status === 0;
}

function fenceLab(dir: string, action: string, plug: string): { status: number; stderr: string } {
  const r = spawnSync(join(repoRoot, 'agents/stonith/fence_lab'), [], { input: `action=${action}\nplug=${plug}\nlab_dir=${dir}\npower_timeout=10\n`, encoding: 'utf8' });
  return { status: r.status ?? 128, stderr: r.stderr };
}

describe.skipIf(!!why)(`lab: netns driver ${why ?? ''}`, () => {
  let dir = '';
  let lab: LabState;
  const ns = (node: string) => lab.nodes.find((n) => n.name === node)!.netns!;
  const ip = (node: string) => lab.nodes.find((n) => n.name === node)!.address.split(':')[0]!;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-lab-test-'));
    lab = await labUp({ name: LAB, nodes: 3, driver: 'netns', dir, nodeCommand: STANDIN, settle: false });
  });

  afterAll(async () => {
    try {
      await labDown(dir, { name: LAB });
    } finally {
      for (const n of listNamespaces()) if (n.startsWith(`pl-${LAB}-`)) spawnSync('ip', ['netns', 'del', n]);
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes the namespaces, the files of the lab contract and the configs', () => {
    expect(labNamespaces(LAB).sort()).toEqual([`pl-${LAB}-client`, `pl-${LAB}-n1`, `pl-${LAB}-n2`, `pl-${LAB}-n3`, `pl-${LAB}-sw`]);
    const key = statSync(join(dir, 'authkey'));
    expect(key.mode & 0o777).toBe(0o400);
    expect(key.size).toBe(256);
    for (const n of lab.nodes) {
      expect(readFileSync(join(n.dir, 'netns'), 'utf8').trim()).toBe(n.netns);
      expect(statSync(join(n.dir, 'boot')).mode & 0o111).not.toBe(0);
      const pid = nodePid(n)!;
      expect(alive(pid)).toBe(true);
      // The node runs in its namespace and leads its own process group.
      expect(namespacePids(n.netns!)).toContain(pid);
      expect(Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2])).toBe(pid);
      const cfg = JSON.parse(readFileSync(n.config, 'utf8')) as { node: { id: number; name: string }; nodes: { addresses: string[] }[]; messaging: { links: { transport: string }[]; authkeyPath: string } };
      expect(cfg.node).toEqual({ id: n.id, name: n.name });
      expect(cfg.nodes.map((x) => x.addresses[0])).toEqual(lab.nodes.map((x) => x.address));
      expect(cfg.messaging.links).toEqual([{ transport: 'udpu' }]);
      expect(cfg.messaging.authkeyPath).toBe(join(dir, 'authkey'));
    }
    expect(lab.nodes.map((n) => n.address)).toEqual([1, 2, 3].map((i) => `10.77.${lab.subnetIndex}.${10 + i}:5405`));
  });

  it('connects every node and the client on one bridge', () => {
    for (const a of ['node1', 'node2', 'node3']) for (const b of ['node1', 'node2', 'node3']) if (a !== b) expect(pingFrom(ns(a), ip(b)), `${a} -> ${b}`).toBe(true);
    for (const b of ['node1', 'node2', 'node3']) expect(pingFrom(lab.client!.netns, ip(b)), `client -> ${b}`).toBe(true);
  });

  it('runs commands in a node namespace (lab exec)', async () => {
    const r = await labExec(dir, 'node2', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { stdio: 'pipe' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${ip('node2')}/24`);
    await expect(labExec(dir, 'node9', ['true'])).rejects.toThrow(/no node node9/);
  });

  it('link down blocks a node, link up restores it', () => {
    const f = faults(dir);
    f.linkDown('node3');
    expect(pingFrom(ns('node1'), ip('node3'))).toBe(false);
    expect(pingFrom(lab.client!.netns, ip('node3'))).toBe(false);
    expect(pingFrom(ns('node1'), ip('node2'))).toBe(true);
    f.linkUp('node3');
    expect(pingFrom(ns('node1'), ip('node3'))).toBe(true);
  });

  it('partitions 1,2|3: each side reaches only itself, the client reaches both; heal undoes it', () => {
    const f = faults(dir);
    f.partition([['node1', 'node2'], ['node3']]);
    expect(pingFrom(ns('node1'), ip('node2'))).toBe(true);
    expect(pingFrom(ns('node1'), ip('node3'))).toBe(false);
    expect(pingFrom(ns('node3'), ip('node2'))).toBe(false);
    expect(pingFrom(lab.client!.netns, ip('node3'))).toBe(true);
    expect(pingFrom(lab.client!.netns, ip('node1'))).toBe(true);
    expect(() => f.partition([['node1'], ['node2']])).toThrow(/node3 are in no group/);
    f.heal();
    f.heal();
    expect(pingFrom(ns('node1'), ip('node3'))).toBe(true);
  });

  it('fence_lab powers a node off and on through the lab contract; the power cycle clears run-time state', () => {
    const before = nodePid(lab.nodes[1]!)!;
    // Run-time state a real power cycle loses: a floating IP and a file under HA_RSCTMP.
    expect(spawnSync('ip', ['-n', ns('node2'), 'addr', 'add', `${lab.vips[0]}/24`, 'dev', 'eth0']).status).toBe(0);
    writeFileSync(join(lab.nodes[1]!.dir, 'rsctmp', 'Dummy.state'), 'started\n');
    expect(fenceLab(dir, 'status', 'node2').status).toBe(0);
    const off = fenceLab(dir, 'off', 'node2');
    expect(off.status, off.stderr).toBe(0);
    expect(alive(before)).toBe(false);
    expect(namespacePids(ns('node2'))).toEqual([]);
    expect(readFileSync(join(lab.nodes[1]!.dir, 'power'), 'utf8')).toMatch(/^off \d+/);
    expect(pingFrom(ns('node1'), ip('node2'))).toBe(false);
    expect(fenceLab(dir, 'status', 'node2').status).toBe(2);
    const on = fenceLab(dir, 'on', 'node2');
    expect(on.status, on.stderr).toBe(0);
    const after = nodePid(lab.nodes[1]!)!;
    expect(after).not.toBe(before);
    expect(alive(after)).toBe(true);
    expect(namespacePids(ns('node2'))).toContain(after);
    expect(pingFrom(ns('node1'), ip('node2'))).toBe(true);
    const addrs = spawnSync('ip', ['-n', ns('node2'), '-4', '-o', 'addr', 'show', 'dev', 'eth0'], { encoding: 'utf8' }).stdout;
    expect(addrs).toContain(`${ip('node2')}/24`);
    expect(addrs).not.toContain(lab.vips[0]);
    expect(existsSync(join(lab.nodes[1]!.dir, 'rsctmp', 'Dummy.state'))).toBe(false);
    const list = spawnSync(join(repoRoot, 'agents/stonith/fence_lab'), [], { input: `action=list\nlab_dir=${dir}\n`, encoding: 'utf8' });
    expect(list.stdout.split('\n').filter((l) => l !== '')).toEqual(['node1,', 'node2,', 'node3,']);
  });

  it('fault verbs: daemon crash spares the rest of the node, power off kills all, freeze and thaw', async () => {
    const f = faults(dir);
    const n3 = lab.nodes[2]!;
    const pid = nodePid(n3)!;
    writeFileSync(join(n3.dir, 'rsctmp', 'Dummy.state'), 'started\n');
    f.daemonCrash('node3');
    await sleep(100);
    expect(alive(pid)).toBe(false);
    // The stand-in's child (a "resource") still runs in the namespace.
    expect(namespacePids(ns('node3')).length).toBeGreaterThan(0);
    await f.daemonStart('node3');
    expect(alive(nodePid(n3)!)).toBe(true);
    // A daemon restart is no power cycle: the resources' state stays.
    expect(existsSync(join(n3.dir, 'rsctmp', 'Dummy.state'))).toBe(true);

    const at = await f.powerOff('node3');
    expect(Date.now() - at).toBeLessThan(2000);
    expect(namespacePids(ns('node3'))).toEqual([]);
    expect(pingFrom(ns('node1'), ip('node3'))).toBe(false);
    await expect(f.daemonStart('node1')).rejects.toThrow(/running already/);
    await f.powerOn('node3');
    expect(alive(nodePid(n3)!)).toBe(true);
    expect(pingFrom(ns('node1'), ip('node3'))).toBe(true);

    const p1 = nodePid(lab.nodes[0]!)!;
    f.freeze('node1');
    await sleep(50);
    expect(procState(p1)).toBe('T');
    f.thaw('node1');
    await sleep(50);
    expect(procState(p1)).not.toBe('T');
  });

  it('status reports every node running and its API (the stand-in answers none)', async () => {
    const r = await labStatus(dir);
    expect(r.nodes.map((n) => n.running)).toEqual([true, true, true]);
    expect(r.nodes.every((n) => !n.api.ok)).toBe(true);
  });

  it('a second lab coexists on its own subnet; up twice is refused', async () => {
    const dir2 = mkdtempSync(join(tmpdir(), 'paceline-lab-test2-'));
    const name2 = labName('tm');
    try {
      await expect(labUp({ name: LAB, nodes: 1, driver: 'netns', dir, nodeCommand: STANDIN, settle: false })).rejects.toThrow(/is up/);
      const lab2 = await labUp({ name: name2, nodes: 1, driver: 'netns', dir: dir2, nodeCommand: STANDIN, settle: false });
      expect(lab2.subnetIndex).not.toBe(lab.subnetIndex);
      expect(pingFrom(ns('node1'), ip('node2'))).toBe(true);
    } finally {
      await labDown(dir2, { name: name2 });
      rmSync(dir2, { recursive: true, force: true });
    }
    expect(labNamespaces(name2)).toEqual([]);
    expect(labNamespaces(LAB).length).toBe(5);
  });

  it('down removes everything it made, and a second down is fine', async () => {
    const pids = lab.nodes.map((n) => nodePid(n)!);
    const r = await labDown(dir);
    expect(r.namespaces.length).toBe(5);
    expect(labNamespaces(LAB)).toEqual([]);
    for (const p of pids) expect(alive(p)).toBe(false);
    const again = await labDown(dir);
    expect(again.namespaces).toEqual([]);
  });
});
