/**
 * Watching a floating IP from outside the cluster (the lab's client namespace).
 *
 * Two probes run side by side, each every `intervalMs` (10 ms by default):
 *   icmp  `ping -D -O -i 0.01` from the client: what a client sees. Each reply is an "up"
 *         sample at its receive time; each "no answer yet" / unreachable line a "down" sample.
 *   arp   a broadcast ARP request (a small python3 AF_PACKET prober, as iputils arping only
 *         takes whole-second intervals), reporting every MAC address that answered each
 *         request: the invariant "never answering from two MAC addresses" is checked on it.
 * `analyze` turns the timeline into the outage around a fault time (failover_ms).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Sample {
  /** Wall-clock milliseconds. */
  readonly t: number;
  readonly probe: 'icmp' | 'arp';
  readonly up: boolean;
  /** arp: the MAC addresses that answered this request (lower case). */
  readonly macs?: readonly string[];
  readonly seq?: number;
}

export interface WatchOptions {
  /** Network namespace to probe from (the lab's client); undefined: this namespace. */
  readonly netns?: string;
  readonly ip: string;
  readonly intervalMs?: number;
  readonly iface?: string;
  /** Run the ARP prober too (default true). */
  readonly arp?: boolean;
}

export interface Watcher {
  readonly samples: Sample[];
  /** Problems of the probes (a probe that could not start, or died). */
  readonly errors: string[];
  /** Resolves once every probe has produced a sample (python takes a moment to start); rejects after timeoutMs. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops the probes; resolves with every sample. */
  stop(): Promise<Sample[]>;
}

/** The ARP prober: argv iface target interval_ms; prints "t_ms seq mac,mac|-" per request. */
export const ARP_PROBER = String.raw`
import socket, struct, sys, time, select, fcntl
iface, target, interval = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000.0
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind((iface, 0x0806))
mac = s.getsockname()[4]
me = fcntl.ioctl(s.fileno(), 0x8915, struct.pack('256s', iface.encode()[:15]))[20:24]
tip = socket.inet_aton(target)
req = b'\xff' * 6 + mac + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac + me + b'\x00' * 6 + tip
seq, sent_at, macs, nxt = 0, 0.0, set(), time.monotonic()
while True:
    now = time.monotonic()
    if now >= nxt:
        if seq > 0:
            sys.stdout.write('%.3f %d %s\n' % (sent_at, seq, ','.join(sorted(macs)) or '-'))
            sys.stdout.flush()
        seq += 1
        macs = set()
        sent_at = time.time() * 1000.0
        s.send(req)
        nxt = max(nxt + interval, now + interval / 2)
    r, _, _ = select.select([s], [], [], max(0.0, nxt - time.monotonic()))
    if r:
        p = s.recv(2048)
        if len(p) >= 42 and p[12:14] == b'\x08\x06' and struct.unpack('!H', p[20:22])[0] == 2 and p[28:32] == tip:
            macs.add(':'.join('%02x' % b for b in p[22:28]))
`;

function inNs(netns: string | undefined, argv: string[]): string[] {
  return netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv];
}

/** Parses one line of `ping -D -O`; undefined for lines that are no sample. */
export function parsePingLine(line: string): Sample | undefined {
  const m = /^\[(\d+\.\d+)\] (.*)$/.exec(line);
  if (m === null) return undefined;
  const t = Math.round(Number(m[1]) * 1000);
  const rest = m[2]!;
  const seq = /icmp_seq=(\d+)/.exec(rest)?.[1];
  if (seq === undefined) return undefined;
  const up = / bytes from /.test(rest);
  return { t, probe: 'icmp', up, seq: Number(seq) };
}

/** Parses one line of the ARP prober. */
export function parseArpLine(line: string): Sample | undefined {
  const m = /^(\d+(?:\.\d+)?) (\d+) (\S+)$/.exec(line.trim());
  if (m === null) return undefined;
  const macs = m[3] === '-' ? [] : m[3]!.split(',');
  return { t: Math.round(Number(m[1])), probe: 'arp', up: macs.length > 0, macs, seq: Number(m[2]) };
}

/** Starts probing; samples accumulate until stop(). */
export function watchIp(opts: WatchOptions): Watcher {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(opts.ip)) throw new Error(`watch: '${opts.ip}' is not an IPv4 address`);
  const interval = opts.intervalMs ?? 10;
  const samples: Sample[] = [];
  const errors: string[] = [];
  const children: ChildProcess[] = [];
  const follow = (argv: string[], parse: (l: string) => Sample | undefined, what: string): void => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      const s = parse(l);
      if (s !== undefined) samples.push(s);
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e) => errors.push(`${what}: ${e.message}`));
    child.once('exit', (code, sig) => {
      if (sig !== 'SIGTERM' && sig !== 'SIGKILL') errors.push(`${what} exited (${code ?? sig}): ${err.trim().slice(-300)}`);
    });
  };
  const secs = (interval / 1000).toFixed(3);
  follow(inNs(opts.netns, ['ping', '-n', '-D', '-O', '-i', secs, '-W', '1', opts.ip]), parsePingLine, 'ping');
  if (opts.arp ?? true) follow(inNs(opts.netns, ['python3', '-u', '-c', ARP_PROBER, opts.iface ?? 'eth0', opts.ip, String(interval)]), parseArpLine, 'arp prober');
  const probes: Sample['probe'][] = opts.arp ?? true ? ['icmp', 'arp'] : ['icmp'];
  return {
    samples,
    errors,
    async ready(timeoutMs = 5000) {
      const end = Date.now() + timeoutMs;
      while (!probes.every((p) => samples.some((s) => s.probe === p))) {
        if (errors.length > 0) throw new Error(`watch ${opts.ip}: ${errors.join('; ')}`);
        if (Date.now() > end) throw new Error(`watch ${opts.ip}: no sample from ${probes.filter((p) => !samples.some((s) => s.probe === p)).join(', ')} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((res) => {
              if (c.exitCode !== null || c.signalCode !== null) return res();
              c.once('exit', () => res());
              c.kill('SIGTERM');
            }),
        ),
      );
      return [...samples].sort((a, b) => a.t - b.t);
    },
  };
}

export interface Outage {
  /** Last icmp reply at or before the fault. */
  readonly lastUpBefore?: number;
  /** First missed icmp sample after the fault. */
  readonly firstDown?: number;
  /** First icmp reply after that miss (the service answers again). */
  readonly firstUpAfter?: number;
  /** firstUpAfter - fault; 0 when no reply was missed after the fault; undefined: never answered again. */
  readonly failoverMs?: number;
  /** firstUpAfter - lastUpBefore: the gap a client saw. */
  readonly gapMs?: number;
  /** ARP requests answered by two or more MAC addresses (split brain seen from outside). */
  readonly twoMacSamples: readonly Sample[];
  /** MACs answering ARP just before the fault and at the end. */
  readonly macBefore?: readonly string[];
  readonly macAfter?: readonly string[];
}

/** The outage around a fault time, from a watcher's samples. */
export function analyze(samples: readonly Sample[], faultAt: number): Outage {
  const icmp = samples.filter((s) => s.probe === 'icmp').sort((a, b) => a.t - b.t);
  const arp = samples.filter((s) => s.probe === 'arp').sort((a, b) => a.t - b.t);
  const lastUpBefore = icmp.filter((s) => s.up && s.t <= faultAt).at(-1)?.t;
  const firstDown = icmp.find((s) => !s.up && s.t > faultAt)?.t;
  const firstUpAfter = firstDown === undefined ? undefined : icmp.find((s) => s.up && s.t > firstDown)?.t;
  const failoverMs = firstDown === undefined ? 0 : firstUpAfter === undefined ? undefined : firstUpAfter - faultAt;
  const gapMs = firstUpAfter !== undefined && lastUpBefore !== undefined ? firstUpAfter - lastUpBefore : undefined;
  const macBefore = arp.filter((s) => s.t <= faultAt && s.up).at(-1)?.macs;
  const macAfter = arp.filter((s) => s.up).at(-1)?.macs;
  return {
    ...(lastUpBefore === undefined ? {} : { lastUpBefore }),
    ...(firstDown === undefined ? {} : { firstDown }),
    ...(firstUpAfter === undefined ? {} : { firstUpAfter }),
    ...(failoverMs === undefined ? {} : { failoverMs }),
    ...(gapMs === undefined ? {} : { gapMs }),
    twoMacSamples: arp.filter((s) => (s.macs?.length ?? 0) >= 2),
    ...(macBefore === undefined ? {} : { macBefore }),
    ...(macAfter === undefined ? {} : { macAfter }),
  };
}

/** The timeline compressed into state changes, with millisecond offsets from `origin`. */
export function transitions(samples: readonly Sample[], origin: number): { offsetMs: number; probe: 'icmp' | 'arp'; up: boolean; macs?: readonly string[] }[] {
  const out: { offsetMs: number; probe: 'icmp' | 'arp'; up: boolean; macs?: readonly string[] }[] = [];
  const last = new Map<string, string>();
  for (const s of [...samples].sort((a, b) => a.t - b.t)) {
    const key = `${s.up}|${(s.macs ?? []).join(',')}`;
    if (last.get(s.probe) === key) continue;
    last.set(s.probe, key);
    out.push({ offsetMs: s.t - origin, probe: s.probe, up: s.up, ...(s.macs === undefined ? {} : { macs: s.macs }) });
  }
  return out;
}
