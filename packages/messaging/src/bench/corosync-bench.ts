/**
 * Corosync's side of `npm run bench:messaging`: three real corosync daemons (the Debian package,
 * knet transport, aes256/sha256 with a corosync-keygen authkey, votequorum, a three-node
 * nodelist, as in ../shared/anchors/pacemaker-lab) in three network namespaces on a bridge, and
 * the same measures as for paceline: kill -9 of a node to the new view on both survivors, idle CPU
 * and RSS per node.
 *
 * "New view" is what a client of corosync sees: `corosync-quorumtool -m` (votequorum's tracking
 * callback, as pacemaker gets it) printing `Nodes: 2` on each survivor; the time is when the
 * later of the two survivors printed it. Corosync's own log line ("A new membership ... was
 * formed") is kept too, for a cross-check.
 *
 * Needs root, `ip`, `unshare`, `stdbuf`, `corosync`, `corosync-keygen`, `corosync-quorumtool`,
 * `corosync-cmapctl`. Every namespace and file is created here and removed in `finally`.
 * Each daemon gets a private mount namespace with its own /run (corosync.pid lock) and
 * /var/lib/corosync bind-mounted from a temporary directory; nothing of the host's is touched.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one corosync setting measured. */
export interface CorosyncFigures {
  /** "defaults" or "token 1000". */
  readonly setting: string;
  /** runtime.config.totem.token and .consensus as corosync computed them (ms). */
  readonly effectiveTokenMs: number;
  readonly consensusMs: number;
  /** kill -9 to `Nodes: 2` on both survivors' quorum tracking, each round (ms). */
  readonly detectionsMs: readonly number[];
  readonly detectMsMedian: number;
  /** kill -9 to "A new membership ... was formed" in the later survivor's log (ms), median. */
  readonly logMembershipMsMedian: number;
  /** Average CPU of one corosync over 5 s idle (% of a core), and the largest RSS (MB). */
  readonly idleCpuPct: number;
  readonly rssMb: number;
}

const TOOLS = ['ip', 'unshare', 'stdbuf', 'corosync', 'corosync-keygen', 'corosync-quorumtool', 'corosync-cmapctl'];
const CLK_TCK = 100;
const NODES = [1, 2, 3] as const;

/** Why corosync cannot be measured on this machine, or undefined when it can. */
export function corosyncUnavailable(): string | undefined {
  const lacks: string[] = [];
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) lacks.push('root');
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']);
  for (const t of TOOLS) if (!dirs.some((d) => d && existsSync(join(d, t)))) lacks.push(t);
  return lacks.length === 0 ? undefined : `needs ${lacks.join(', ')} (apt-get install corosync)`;
}

interface Stamped {
  readonly atMs: number;
  readonly text: string;
}

/** A child whose output lines are kept with the time they arrived. */
class Lines {
  readonly lines: Stamped[] = [];
  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      let buf = '';
      stream?.on('data', (d: Buffer) => {
        const atMs = Date.now();
        buf += d.toString();
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          this.lines.push({ atMs, text: buf.slice(0, i) });
          buf = buf.slice(i + 1);
        }
      });
    }
  }
  async next(pred: (l: Stamped) => boolean, since: number, timeoutMs: number, what: string): Promise<Stamped> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => l.atMs >= since && pred(l));
      if (hit) return hit;
      if (this.child.exitCode !== null) throw new Error(`${what}: the process exited (${this.child.exitCode}); last: ${this.tail()}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${this.tail()}`);
      await sleep(5);
    }
  }
  tail(): string {
    return JSON.stringify(this.lines.slice(-4).map((l) => l.text));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const nodesLine = (n: number) => (l: Stamped) => new RegExp(`^Nodes:\\s+${n}\\s*$`).test(l.text);

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

/** corosync.conf as the reference lab writes it (minus uidgid and file logging). */
function corosyncConf(dir: string, ipOf: (i: number) => string, tokenMs: number | undefined): string {
  const nodes = NODES.map((j) => `    node {\n        name: n${j}\n        nodeid: ${j}\n        ring0_addr: ${ipOf(j)}\n    }\n`).join('');
  return `totem {
    version: 2
    cluster_name: plbench
    transport: knet
    crypto_cipher: aes256
    crypto_hash: sha256
    keyfile: ${join(dir, 'authkey')}
${tokenMs === undefined ? '' : `    token: ${tokenMs}\n`}}
nodelist {
${nodes}}
quorum {
    provider: corosync_votequorum
}
logging {
    to_stderr: yes
    to_syslog: no
    to_logfile: no
    timestamp: hires
    debug: off
}
`;
}

/** The three namespaces on a bridge, their daemons and monitors; `close` removes everything. */
class CorosyncLab {
  private readonly tag = `${(process.pid % 10000).toString(36)}c`;
  private readonly subnet = `10.217.${process.pid % 200}`;
  readonly switchNs = `plcbsw-${this.tag}`;
  private readonly dir = mkdtempSync(join(tmpdir(), 'paceline-bench-corosync-'));
  private readonly children = new Set<ChildProcess>();
  readonly daemons = new Map<number, Lines>();

  nodeNs(i: number): string {
    return `plcb${i}-${this.tag}`;
  }
  ipOf(i: number): string {
    return `${this.subnet}.${i}`;
  }

  setUp(tokenMs: number | undefined): void {
    const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.deleteNamespaces();
    ip('netns', 'add', this.switchNs);
    ip('-n', this.switchNs, 'link', 'set', 'lo', 'up');
    ip('-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0');
    ip('-n', this.switchNs, 'link', 'set', 'br0', 'up');
    execFileSync('corosync-keygen', ['-k', join(this.dir, 'authkey')], { stdio: 'ignore' });
    for (const i of NODES) {
      const ns = this.nodeNs(i);
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('link', 'add', `b${i}`, 'netns', this.switchNs, 'type', 'veth', 'peer', 'name', 'e0', 'netns', ns);
      ip('-n', this.switchNs, 'link', 'set', `b${i}`, 'master', 'br0', 'up');
      ip('-n', ns, 'addr', 'add', `${this.ipOf(i)}/24`, 'dev', 'e0');
      ip('-n', ns, 'link', 'set', 'e0', 'up');
      for (const sub of ['run', 'lib']) mkdirSync(join(this.dir, `n${i}`, sub), { recursive: true });
      writeFileSync(join(this.dir, `n${i}`, 'corosync.conf'), corosyncConf(this.dir, (j) => this.ipOf(j), tokenMs));
    }
  }

  private spawnIn(ns: string, args: string[]): Lines {
    const child = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return new Lines(child);
  }

  /** Starts node i's corosync in the foreground; `ip`, `unshare` and `sh` exec it, so its pid is corosync's. */
  startDaemon(i: number): Lines {
    const d = join(this.dir, `n${i}`);
    rmSync(join(d, 'run', 'corosync.pid'), { force: true });
    const script = `mount --bind ${d}/run /run && mount --bind ${d}/lib /var/lib/corosync && exec corosync -f -c ${d}/corosync.conf`;
    const lines = this.spawnIn(this.nodeNs(i), ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script]);
    this.daemons.set(i, lines);
    return lines;
  }

  /** `corosync-quorumtool -m` on node i (line-buffered), started once its daemon answers. */
  async monitor(i: number): Promise<Lines> {
    const end = Date.now() + 30_000;
    for (;;) {
      const m = this.spawnIn(this.nodeNs(i), ['stdbuf', '-oL', 'corosync-quorumtool', '-m']);
      try {
        await m.next(nodesLine(3), 0, 2000, `node ${i}'s quorum monitor`);
        return m;
      } catch (err) {
        if (m.child.exitCode === null) m.child.kill('SIGKILL');
        if (Date.now() > end) throw err;
        await sleep(250);
      }
    }
  }

  cmapGet(i: number, key: string): number {
    const out = execFileSync('ip', ['netns', 'exec', this.nodeNs(i), 'corosync-cmapctl', '-g', key], { encoding: 'utf8' });
    const m = /=\s*(\d+)\s*$/.exec(out.trim());
    if (!m) throw new Error(`corosync-cmapctl -g ${key}: unexpected output ${out}`);
    return Number(m[1]);
  }

  private deleteNamespaces(): void {
    for (const ns of [...NODES.map((i) => this.nodeNs(i)), this.switchNs]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // Not there.
      }
    }
  }

  async close(): Promise<void> {
    const exits = [...this.children].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('exit', r))));
    for (const c of this.children) c.kill('SIGKILL');
    await Promise.race([Promise.all(exits), sleep(3000)]);
    this.deleteNamespaces();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Measures one corosync setting (`tokenMs` undefined: corosync's defaults): `rounds` times,
 * kill -9 node 3, time until both survivors' quorum tracking shows two nodes, restart node 3 and
 * wait until all three are back. Throws with the last output lines when corosync misbehaves.
 */
export async function benchCorosync(tokenMs: number | undefined, rounds: number, log: (line: string) => void): Promise<CorosyncFigures> {
  const setting = tokenMs === undefined ? 'defaults' : `token ${tokenMs}`;
  const lab = new CorosyncLab();
  try {
    lab.setUp(tokenMs);
    for (const i of NODES) lab.startDaemon(i);
    const monitors = [await lab.monitor(1), await lab.monitor(2)];
    const effectiveTokenMs = lab.cmapGet(1, 'runtime.config.totem.token');
    const consensusMs = lab.cmapGet(1, 'runtime.config.totem.consensus');
    log(`corosync ${setting}: three daemons up in namespaces (effective token ${effectiveTokenMs} ms, consensus ${consensusMs} ms); idle CPU and RSS for 5 s ...`);
    await sleep(1000);
    const pids = NODES.map((i) => lab.daemons.get(i)!.child.pid!);
    const t0 = pids.reduce((s, p) => s + cpuTicks(p), 0);
    await sleep(5000);
    const t1 = pids.reduce((s, p) => s + cpuTicks(p), 0);
    const idleCpuPct = ((t1 - t0) / CLK_TCK / 5 / pids.length) * 100;
    const rss = Math.max(...pids.map(rssMb));
    const detections: number[] = [];
    const logDetections: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const victim = lab.daemons.get(3)!;
      const killedAt = Date.now();
      victim.child.kill('SIGKILL');
      const seen = await Promise.all(monitors.map((m) => m.next(nodesLine(2), killedAt, 60_000, 'the survivors view')));
      const ms = Math.max(...seen.map((l) => l.atMs)) - killedAt;
      const logged = await Promise.all(
        [1, 2].map((i) => lab.daemons.get(i)!.next((l) => /A new membership .* was formed\. Members left: 3/.test(l.text), killedAt, 5000, 'the membership log line')),
      );
      detections.push(ms);
      logDetections.push(Math.max(...logged.map((l) => l.atMs)) - killedAt);
      log(`corosync ${setting}: kill -9 round ${round}/${rounds}: new view on both survivors after ${ms} ms`);
      const restartedAt = Date.now();
      lab.startDaemon(3);
      await Promise.all(monitors.map((m) => m.next(nodesLine(3), restartedAt, 60_000, 'the rejoin')));
      await sleep(1000);
    }
    return {
      setting,
      effectiveTokenMs,
      consensusMs,
      detectionsMs: detections,
      detectMsMedian: median(detections),
      logMembershipMsMedian: median(logDetections),
      idleCpuPct,
      rssMb: rss,
    };
  } finally {
    await lab.close();
  }
}
