/**
 * Real processes over loopback unicast: three messaging nodes as separate OS processes on
 * 127.0.0.1 with different ports. Needs the compiled package (built in beforeAll).
 * Network traffic stays on loopback.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStatus, readStatusFile } from '../../packages/cli/src/commands/messaging.js';
import { repoRoot } from '../support/env.js';

interface Line {
  ev: string;
  atMs: number;
  members?: number[];
  [k: string]: unknown;
}

class Proc {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  constructor(configPath: string) {
    this.child = spawn(process.execPath, [join(repoRoot, 'packages/messaging/dist/driver/node-main.js'), '--config', configPath, '--join', 'g'], {
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
  command(obj: object): void {
    this.child.stdin!.write(`${JSON.stringify(obj)}\n`);
  }
  lastView(): number[] | undefined {
    return this.lines.filter((l) => l.ev === 'view').at(-1)?.members;
  }
  async waitFor(pred: (l: Line) => boolean, timeoutMs: number, what: string): Promise<Line> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  kill9(): void {
    this.child.kill('SIGKILL');
  }
}

async function freePorts(n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createSocket>>((res) => {
      const s = createSocket('udp4');
      s.bind(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = socks.map((s) => s.address().port);
  socks.forEach((s) => s.close());
  return ports;
}

const DEADTIME_MS = 600;
/** Detection bound asserted: deadtime plus a margin for settle, the view change and a loaded CI machine. */
const DETECT_BOUND_MS = DEADTIME_MS + 1000;

describe('messaging: three node processes over loopback unicast', () => {
  let dir = '';
  const procs: Proc[] = [];
  const configFor = (id: number, keyPath: string) => join(dir, `n${id}-${keyPath.endsWith('bad') ? 'bad' : 'ok'}.json`);

  beforeAll(async () => {
    execFileSync('npx', ['tsc', '-b', 'packages/messaging'], { cwd: repoRoot, stdio: 'inherit' });
    dir = mkdtempSync(join(tmpdir(), 'paceline-msg-'));
    const ports = await freePorts(3);
    const nodes = ports.map((p, i) => ({ nodeId: i + 1, addresses: [`127.0.0.1:${p}`] }));
    for (const keyName of ['authkey', 'authkey-bad']) {
      const keyPath = join(dir, keyName);
      writeFileSync(keyPath, randomBytes(256));
      chmodSync(keyPath, 0o400);
      for (const id of [1, 2, 3]) {
        const statusPath = join(dir, `status-${id}.json`);
        writeFileSync(configFor(id, keyPath), JSON.stringify({ clusterName: 'it', nodeId: id, authkeyPath: keyPath, nodes, statusPath }));
      }
    }
  });

  afterAll(() => {
    for (const p of procs) if (p.child.exitCode === null) p.kill9();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const start = (id: number, key = 'authkey') => {
    const p = new Proc(configFor(id, join(dir, key)));
    procs.push(p);
    return p;
  };

  // kill -9 of one node: the survivors agree on the new view within deadtime plus a bounded margin,
  // the restarted node rejoins, and a node with the wrong key is kept out and counted.
  it('agrees on views through kill -9, restart and a wrong key', async () => {
    const [a, b, c] = [start(1), start(2), start(3)];
    for (const p of [a, b, c]) await p.waitFor((l) => l.ev === 'view' && l.members?.length === 3, 5000, 'the first view of 3');
    // What `paceline messaging status` prints comes from the status file the node writes every second.
    await new Promise((r) => setTimeout(r, 1200));
    const st = readStatusFile(join(dir, 'status-1.json'), Date.now());
    expect(st.ok).toBe(true);
    const text = st.ok ? formatStatus(st.status, st.ageMs) : '';
    expect(text).toContain('members: 1 2 3');
    expect(text).toContain('quorate: yes');
    expect(text).toMatch(/node 2: connected/);

    const killedAt = Date.now();
    c.kill9();
    const seen = await Promise.all([a, b].map((p) => p.waitFor((l) => l.ev === 'view' && l.atMs > killedAt && l.members?.join() === '1,2', 5000, 'the view without node 3')));
    const detectMs = Math.max(...seen.map((l) => l.atMs - killedAt));
    console.log(`messaging it: kill -9 to new view on both survivors: ${detectMs} ms (deadtime ${DEADTIME_MS} ms)`);
    expect(detectMs).toBeLessThan(DETECT_BOUND_MS);
    expect(seen[0]!.epoch).toBe(seen[1]!.epoch);

    const restartedAt = Date.now();
    const c2 = start(3);
    for (const p of [a, b, c2]) await p.waitFor((l) => l.ev === 'view' && l.atMs >= restartedAt && l.members?.length === 3, 5000, 'the view with node 3 back');

    c2.kill9();
    for (const p of [a, b]) await p.waitFor((l) => l.ev === 'view' && l.atMs > restartedAt && l.members?.join() === '1,2', 5000, 'node 3 gone again');
    const intruderAt = Date.now();
    const bad = start(3, 'authkey-bad');
    await bad.waitFor((l) => l.ev === 'started', 5000, 'the wrong-key node to start');
    await new Promise((r) => setTimeout(r, 1500));
    expect(bad.lastView()).toEqual([3]);
    for (const p of [a, b]) {
      expect(p.lines.filter((l) => l.ev === 'view' && l.atMs > intruderAt)).toEqual([]);
      p.command({ op: 'status' });
      const st = (await p.waitFor((l) => l.ev === 'status' && l.atMs > intruderAt, 3000, 'status')) as Line & { status: { wire: { dropped: Record<string, number> } } };
      expect(st.status.wire.dropped['bad-mac']).toBeGreaterThan(0);
    }
  });
});
