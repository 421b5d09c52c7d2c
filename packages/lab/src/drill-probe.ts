/**
 * Service probers for the drills: a client in the lab's client namespace that keeps asking the
 * service through its floating address and records every answer, so a drill can tell when the
 * service (not only the address) was back, from which node, and with what content.
 *
 *   watchHttp     HTTP GET every intervalMs (a thread per request, so an unanswered request
 *                 never delays the next one), recording status, the X-Paceline-Node header and
 *                 the body's first line
 *   watchCommand  runs a command every intervalMs (a process per probe; e.g. a SQL query with
 *                 the mariadb client), recording its exit status and first output line
 *
 * Both run one python3 process (in the namespace) that prints one line per finished probe:
 * `SENT_MS END_MS ok|fail FIELD...`; samples are in wall-clock milliseconds.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One finished probe. */
export interface ProbeSample {
  /** Wall-clock ms the probe was sent. */
  readonly sent: number;
  /** Wall-clock ms it finished (the answer came, or it failed). */
  readonly t: number;
  readonly ok: boolean;
  /** HTTP status (watchHttp). */
  readonly status?: number;
  /** Who answered: the X-Paceline-Node header (watchHttp), '-' when absent. */
  readonly node?: string;
  /** The first line of the body or output ('' when empty); for failures, the error. */
  readonly text: string;
}

export interface Prober {
  readonly samples: ProbeSample[];
  readonly errors: string[];
  /** Resolves at the first sample (of any kind); rejects after timeoutMs or when the prober died. */
  ready(timeoutMs?: number): Promise<void>;
  /** Stops the prober; resolves with every sample, in the order they finished. */
  stop(): Promise<ProbeSample[]>;
}

/** The HTTP prober: argv host port path interval_ms timeout_ms. */
export const HTTP_PROBER = String.raw`
import http.client, sys, threading, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
interval, timeout = float(sys.argv[4]) / 1000.0, float(sys.argv[5]) / 1000.0
lock = threading.Lock()
def out(line):
    with lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()
def clean(s):
    s = s.strip().split('\n')[0].strip()
    return ''.join(c if 32 < ord(c) < 127 else '_' for c in s)[:200]
def probe():
    sent = time.time() * 1000.0
    try:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request('GET', path, headers={'Connection': 'close'})
        r = c.getresponse()
        body = r.read(4096).decode('utf-8', 'replace')
        node = r.getheader('X-Paceline-Node') or '-'
        c.close()
        out('%.3f %.3f %s %d %s %s' % (sent, time.time() * 1000.0, 'ok' if 200 <= r.status < 300 else 'fail', r.status, clean(node) or '-', clean(body)))
    except Exception as e:
        out('%.3f %.3f fail 0 - %s' % (sent, time.time() * 1000.0, type(e).__name__))
nxt = time.monotonic()
while True:
    threading.Thread(target=probe, daemon=True).start()
    nxt += interval
    d = nxt - time.monotonic()
    if d > 0:
        time.sleep(d)
    else:
        nxt = time.monotonic()
`;

/** The command prober: argv interval_ms timeout_ms command...; a process per probe. */
export const COMMAND_PROBER = String.raw`
import subprocess, sys, threading, time
interval, timeout = float(sys.argv[1]) / 1000.0, float(sys.argv[2]) / 1000.0
argv = sys.argv[3:]
lock = threading.Lock()
def out(line):
    with lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()
def clean(s):
    s = s.strip().split('\n')[0].strip() if s.strip() else ''
    return ''.join(c if 32 < ord(c) < 127 else '_' for c in s)[:200]
def probe():
    sent = time.time() * 1000.0
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        text = clean(p.stdout.decode('utf-8', 'replace')) if p.returncode == 0 else clean(p.stderr.decode('utf-8', 'replace').strip().split('\n')[-1]) or ('exit%d' % p.returncode)
        out('%.3f %.3f %s %d - %s' % (sent, time.time() * 1000.0, 'ok' if p.returncode == 0 else 'fail', p.returncode, text))
    except subprocess.TimeoutExpired:
        out('%.3f %.3f fail 0 - timeout' % (sent, time.time() * 1000.0))
nxt = time.monotonic()
while True:
    threading.Thread(target=probe, daemon=True).start()
    nxt += interval
    d = nxt - time.monotonic()
    if d > 0:
        time.sleep(d)
    else:
        nxt = time.monotonic()
`;

/** Parses one prober line; undefined for anything else. */
export function parseProbeLine(line: string, withStatus = true): ProbeSample | undefined {
  const m = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (ok|fail) (-?\d+) (\S+) ?(.*)$/.exec(line.trim());
  if (m === null) return undefined;
  const status = Number(m[4]);
  return {
    sent: Math.round(Number(m[1])),
    t: Math.round(Number(m[2])),
    ok: m[3] === 'ok',
    ...(withStatus && status > 0 ? { status } : {}),
    ...(m[5] !== '-' ? { node: m[5]! } : {}),
    text: m[6] ?? '',
  };
}

function startProber(argv: string[], withStatus: boolean, what: string): Prober {
  const samples: ProbeSample[] = [];
  const errors: string[] = [];
  const child: ChildProcess = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const s = parseProbeLine(l, withStatus);
    if (s !== undefined) samples.push(s);
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  child.once('error', (e) => errors.push(`${what}: ${e.message}`));
  child.once('exit', (code, sig) => {
    if (sig !== 'SIGTERM' && sig !== 'SIGKILL') errors.push(`${what} exited (${code ?? sig}): ${err.trim().slice(-300)}`);
  });
  return {
    samples,
    errors,
    async ready(timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (samples.length === 0) {
        if (errors.length > 0) throw new Error(errors.join('; '));
        if (Date.now() > end) throw new Error(`${what}: no sample within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      await new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
      });
      return [...samples];
    },
  };
}

const inNs = (netns: string | undefined, argv: string[]): string[] => (netns === undefined ? argv : ['ip', 'netns', 'exec', netns, ...argv]);

/** GET http://host:port/path every intervalMs (default 20) from the namespace; each request times out after timeoutMs (default 1000). */
export function watchHttp(opts: { netns?: string; host: string; port?: number; path?: string; intervalMs?: number; timeoutMs?: number }): Prober {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(opts.host)) throw new Error(`watchHttp: '${opts.host}' is not an IPv4 address`);
  const argv = ['python3', '-u', '-c', HTTP_PROBER, opts.host, String(opts.port ?? 80), opts.path ?? '/', String(opts.intervalMs ?? 20), String(opts.timeoutMs ?? 1000)];
  return startProber(inNs(opts.netns, argv), true, `http prober ${opts.host}`);
}

/** Runs argv every intervalMs (default 50) from the namespace; each run is killed after timeoutMs (default 2000). */
export function watchCommand(opts: { netns?: string; argv: readonly string[]; intervalMs?: number; timeoutMs?: number }): Prober {
  if (opts.argv.length === 0) throw new Error('watchCommand: no command');
  const argv = ['python3', '-u', '-c', COMMAND_PROBER, String(opts.intervalMs ?? 50), String(opts.timeoutMs ?? 2000), ...opts.argv];
  return startProber(inNs(opts.netns, argv), false, `command prober ${opts.argv[0]}`);
}

/** The longest time between two successful answers within [from, to] (the edges count as answers); ms. */
export function longestGap(samples: readonly ProbeSample[], from: number, to: number): { gapMs: number; start: number; end: number } {
  const ts = samples.filter((s) => s.ok && s.t >= from && s.t <= to).map((s) => s.t).sort((a, b) => a - b);
  let best = { gapMs: 0, start: from, end: from };
  let prev = from;
  for (const t of [...ts, to]) {
    if (t - prev > best.gapMs) best = { gapMs: t - prev, start: prev, end: t };
    prev = t;
  }
  return best;
}

/**
 * The service back after a fault: the first good answer (by the time it came) after the fault
 * that `served` accepts, the drills' test of who served it: the floating address held by another
 * node than the lost one at that moment (ARP), so that an answer from the dying node (requests
 * in flight when it lost power) is no recovery. An answer to a request sent during the outage
 * and answered late by the new node (its SYN retransmitted) counts, at the time it came.
 */
export function serviceBack(samples: readonly ProbeSample[], faultAt: number, served: (s: ProbeSample) => boolean): ProbeSample | undefined {
  // `served` may be costly: ask it in time order, and only until it says yes.
  return samples.filter((s) => s.ok && s.t > faultAt).sort((a, b) => a.t - b.t).find(served);
}

/** Probes sent after the service was back (`back`) that failed: it came back, then failed again. */
export function failuresAfter(samples: readonly ProbeSample[], back: ProbeSample): ProbeSample[] {
  return samples.filter((s) => !s.ok && s.sent > back.t).sort((a, b) => a.sent - b.sent);
}

/** Why failures after the recovery fail a run: how many, the first, and who held the address then (from ARP). */
export function flapReason(fails: readonly ProbeSample[], back: ProbeSample, faultAt: number, holderAt: (t: number) => string | undefined, what: string): string {
  const first = fails[0]!;
  const who = holderAt(first.sent);
  return `${fails.length} request(s) sent after ${what} was back (${back.t - faultAt} ms after the fault) failed, the first sent at ${first.sent - faultAt} ms${who ? ` (address on ${who})` : ''}: ${first.text}`;
}
