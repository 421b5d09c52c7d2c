/**
 * Three messaging nodes as separate processes in three network namespaces joined by a bridge
 * (in a fourth, "switch" namespace), talking real multicast (239.192.x.y:5405) as corosync does
 * by default. Needs root and `ip`; the namespaces are created and removed by the suite, so no
 * traffic leaves them. Needs the compiled package (built in beforeAll).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, repoRoot } from '../support/env.js';

const why = missing({ root: true, netns: true, tools: ['ip'] });
const tag = (process.pid % 10000).toString(36);
const SWITCH_NS = `plsw-${tag}`;
const nodeNs = (i: number) => `pln${i}-${tag}`;
const subnet = `10.213.${process.pid % 200}`;
const ipOf = (i: number) => `${subnet}.${i}`;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function inNs(ns: string, ...args: string[]): void {
  ip('netns', 'exec', ns, 'ip', ...args);
}

interface Line {
  ev: string;
  atMs: number;
  members?: number[];
}

class NsNode {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  constructor(ns: string, config: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(repoRoot, 'packages/messaging/dist/driver/node-main.js'), '--config', config, '--join', 'g'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let buf = '';
    this.child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.lines.push(JSON.parse(buf.slice(0, i)) as Line);
        buf = buf.slice(i + 1);
      }
    });
  }
  async waitFor(pred: (l: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(this.lines.slice(-4))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

describe.skipIf(!!why)(`messaging: three namespaces on a bridge, real multicast ${why ?? ''}`, () => {
  let dir = '';
  const procs: NsNode[] = [];

  beforeAll(() => {
    execFileSync('npx', ['tsc', '-b', 'packages/messaging'], { cwd: repoRoot, stdio: 'inherit' });
    ip('netns', 'add', SWITCH_NS);
    inNs(SWITCH_NS, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
    inNs(SWITCH_NS, 'link', 'set', 'br0', 'up');
    for (const i of [1, 2, 3]) {
      const ns = nodeNs(i);
      ip('netns', 'add', ns);
      inNs(ns, 'link', 'set', 'lo', 'up');
      inNs(ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`, 'netns', SWITCH_NS);
      inNs(ns, 'addr', 'add', `${ipOf(i)}/24`, 'dev', 'eth0');
      inNs(ns, 'link', 'set', 'eth0', 'up');
      inNs(ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
      inNs(SWITCH_NS, 'link', 'set', `p${i}`, 'master', 'br0');
      inNs(SWITCH_NS, 'link', 'set', `p${i}`, 'up');
    }
    dir = mkdtempSync(join(tmpdir(), 'paceline-netns-'));
    const keyPath = join(dir, 'authkey');
    writeFileSync(keyPath, randomBytes(256));
    chmodSync(keyPath, 0o400);
    const nodes = [1, 2, 3].map((nodeId) => ({ nodeId, addresses: [`${ipOf(nodeId)}:5405`] }));
    const group = `239.192.${process.pid % 250}.${1 + (process.pid % 200)}`;
    for (const id of [1, 2, 3]) {
      const link = { transport: 'udp', mcastGroup: group, mcastPort: 5405, mcastInterface: ipOf(id), ttl: 1 };
      writeFileSync(join(dir, `n${id}.json`), JSON.stringify({ clusterName: 'netns', nodeId: id, authkeyPath: keyPath, nodes, links: [link] }));
    }
  });

  afterAll(() => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const ns of [nodeNs(1), nodeNs(2), nodeNs(3), SWITCH_NS]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // Already gone.
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const start = (id: number) => {
    const p = new NsNode(nodeNs(id), join(dir, `n${id}.json`));
    procs.push(p);
    return p;
  };

  // Real multicast across a bridge: a view of three forms; kill -9 of one node gives the others
  // the new view within deadtime plus a bounded margin; the restarted node rejoins.
  it('forms, shrinks and re-forms the view over multicast', async () => {
    const [a, b, c] = [start(1), start(2), start(3)];
    for (const p of [a, b, c]) await p.waitFor((l) => l.ev === 'view' && l.members?.length === 3, 8000, 'the view of 3');
    const killedAt = Date.now();
    c.child.kill('SIGKILL');
    const seen = await Promise.all([a, b].map((p) => p.waitFor((l) => l.ev === 'view' && l.atMs > killedAt && l.members?.join() === '1,2', 5000, 'the view without 3')));
    const detectMs = Math.max(...seen.map((l) => l.atMs - killedAt));
    console.log(`messaging netns: kill -9 to new view over multicast: ${detectMs} ms`);
    expect(detectMs).toBeLessThan(1600);
    const restartedAt = Date.now();
    const c2 = start(3);
    for (const p of [a, b, c2]) await p.waitFor((l) => l.ev === 'view' && l.atMs >= restartedAt && l.members?.length === 3, 8000, 'the rejoin');
  });
});
