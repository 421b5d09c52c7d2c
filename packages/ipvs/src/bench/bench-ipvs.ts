/**
 * bench:ipvs — requests per second and p99 latency through the userspace director at 64
 * concurrent keep-alive HTTP connections, side by side with HAProxy (Debian's haproxy, mode tcp,
 * roundrobin) in the same run, same backends and same load generator, all on loopback.
 *
 *   node packages/ipvs/dist/bench/bench-ipvs.js [--seconds 5] [--concurrency 64] [--backends 3] [--profile DIR]
 *
 * Besides req/s (which on a shared, loaded machine mostly measures the CPU share each proxy
 * got), it reports each proxy's CPU time per request (utime + stime of its process, from
 * /proc/PID/stat, over the load): the steadier figure for comparing the two. The director gets one
 * unmeasured second of load first (JIT warm-up). haproxy runs with its defaults (nbthread = the
 * number of CPUs), the director on one thread. --profile writes a
 * V8 CPU profile of the director to DIR (node --cpu-prof).
 *
 * Processes: one for the backends, one for the director, haproxy, and this one for the load.
 * Progress goes to stderr, figures to stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Director } from '../director.js';

const SELF = fileURLToPath(import.meta.url);

function strArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat; undefined without /proc. */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is [0], utime [11], stime [12] (proc(5): 14 and 15).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch { return undefined; }
}

/** Run the load and measure the proxy process's CPU time over it. */
async function measured(pid: number | undefined, port: number, concurrency: number, seconds: number): Promise<Awaited<ReturnType<typeof load>> & { cpuUsPerReq?: number }> {
  const before = cpuSeconds(pid);
  const r = await load(port, concurrency, seconds);
  const after = cpuSeconds(pid);
  const reqs = r.rps * seconds;
  return before !== undefined && after !== undefined && reqs > 0 ? { ...r, cpuUsPerReq: ((after - before) * 1e6) / reqs } : r;
}

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function runBackends(count: number): Promise<void> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const body = `backend ${i}\n`;
    const s = http.createServer((_req, res) => { res.setHeader('content-length', body.length); res.end(body); });
    s.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
    ports.push((s.address() as net.AddressInfo).port);
  }
  process.stdout.write(JSON.stringify({ ports }) + '\n');
}

async function runDirector(stateDir: string): Promise<void> {
  const d = new Director(stateDir, { version: 1 });
  await d.start();
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => void d.stop().then(() => process.exit(0)));
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => { buf += c; const nl = buf.indexOf('\n'); if (nl >= 0) resolve(buf.slice(0, nl)); });
    child.once('exit', (code) => reject(new Error(`child exited ${String(code)}`)));
  });
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

/** 64 keep-alive connections each sending GET after GET for `seconds`; latencies in µs. */
async function load(port: number, concurrency: number, seconds: number): Promise<{ rps: number; p50Ms: number; p99Ms: number; errors: number }> {
  const latUs: number[] = [];
  let errors = 0;
  const endAt = performance.now() + seconds * 1000;
  const req = Buffer.from('GET / HTTP/1.1\r\nhost: bench\r\n\r\n');
  const one = (): Promise<void> => new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.setNoDelay(true);
    let buf = '';
    let sentAt = 0;
    const send = (): void => { if (performance.now() >= endAt) { s.destroy(); resolve(); return; } sentAt = performance.now(); buf = ''; s.write(req); };
    s.setEncoding('latin1');
    s.on('connect', send);
    s.on('data', (c: string) => {
      buf += c;
      const h = buf.indexOf('\r\n\r\n');
      if (h < 0) return;
      const m = /content-length: *(\d+)/i.exec(buf.slice(0, h));
      if (!m || buf.length < h + 4 + Number(m[1])) return;
      latUs.push((performance.now() - sentAt) * 1000);
      send();
    });
    s.on('error', () => { errors++; resolve(); });
    s.on('close', () => resolve());
  });
  await Promise.all(Array.from({ length: concurrency }, one));
  latUs.sort((a, b) => a - b);
  const q = (p: number): number => (latUs[Math.min(latUs.length - 1, Math.floor(p * latUs.length))] ?? 0) / 1000;
  return { rps: latUs.length / seconds, p50Ms: q(0.5), p99Ms: q(0.99), errors };
}

async function control(dir: string, args: string[]): Promise<void> {
  const { controlRequest } = await import('../director.js');
  const r = await controlRequest(dir, { version: 1, op: 'ipvsadm', args });
  if (r.exitCode !== 0) throw new Error(`ipvsadm ${args.join(' ')}: ${String(r.stderr)}`);
}

async function main(): Promise<void> {
  const role = process.argv[2];
  if (role === '--role-backends') return runBackends(arg('backends', 3));
  if (role === '--role-director') return runDirector(process.argv[3]!);
  const seconds = arg('seconds', 5);
  const concurrency = arg('concurrency', 64);
  const backendsN = arg('backends', 3);
  const dir = mkdtempSync(join(tmpdir(), 'bench-ipvs-'));
  const children: ChildProcess[] = [];
  const cleanup = async (): Promise<void> => {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => { if (c.exitCode !== null) { resolve(); return; } c.once('exit', () => resolve()); c.kill('SIGTERM'); })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const backends = spawn(process.execPath, [SELF, '--role-backends', '--backends', String(backendsN)], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(backends);
    const { ports } = JSON.parse(await firstLine(backends)) as { ports: number[] };
    process.stderr.write(`backends on ${ports.join(', ')}\n`);
    const profile = strArg('profile');
    const director = spawn(process.execPath, [...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), SELF, '--role-director', join(dir, 'director')], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(director);
    await firstLine(director);
    const vport = await freePort();
    await control(join(dir, 'director'), ['-A', '-t', `127.0.0.1:${vport}`, '-s', 'rr']);
    for (const p of ports) await control(join(dir, 'director'), ['-a', '-t', `127.0.0.1:${vport}`, '-r', `127.0.0.1:${p}`, '-m']);
    await new Promise((r) => setTimeout(r, 200));
    const rows: [string, Awaited<ReturnType<typeof measured>>][] = [];
    process.stderr.write(`direct to one backend, ${seconds} s...\n`);
    rows.push(['backend (direct)', await load(ports[0]!, concurrency, seconds)]);
    // One second of the same load first, unmeasured: V8 compiles the hot path (haproxy needs none).
    await load(vport, concurrency, 1);
    process.stderr.write(`through the paceline director, ${seconds} s...\n`);
    rows.push(['paceline director', await measured(director.pid, vport, concurrency, seconds)]);
    const hport = await freePort();
    const cfg = join(dir, 'haproxy.cfg');
    writeFileSync(cfg, `global\n  maxconn 4096\ndefaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend fe\n  bind 127.0.0.1:${hport}\n  default_backend be\nbackend be\n  balance roundrobin\n${ports.map((p, i) => `  server s${i} 127.0.0.1:${p}\n`).join('')}`);
    const haproxy = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const haproxyOk = await new Promise<boolean>((resolve) => { haproxy.once('error', () => resolve(false)); setTimeout(() => resolve(haproxy.exitCode === null), 500); });
    if (haproxyOk) {
      children.push(haproxy);
      process.stderr.write(`through haproxy (mode tcp), ${seconds} s...\n`);
      rows.push(['haproxy (mode tcp)', await measured(haproxy.pid, hport, concurrency, seconds)]);
    } else process.stderr.write('haproxy not available (apt-get install haproxy); skipped\n');
    process.stdout.write(`bench:ipvs — ${concurrency} concurrent keep-alive HTTP connections, ${seconds} s each, ${backendsN} backends, loopback\n`);
    process.stdout.write(`${'path'.padEnd(22)} ${'req/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)} ${'CPU us/req'.padStart(11)}\n`);
    for (const [name, r] of rows) process.stdout.write(`${name.padEnd(22)} ${r.rps.toFixed(0).padStart(10)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${String(r.errors).padStart(7)} ${(r.cpuUsPerReq === undefined ? '-' : r.cpuUsPerReq.toFixed(1)).padStart(11)}\n`);
    const ours = rows.find((r) => r[0] === 'paceline director')?.[1];
    const theirs = rows.find((r) => r[0].startsWith('haproxy'))?.[1];
    if (ours && theirs) process.stdout.write(`paceline director / haproxy throughput: ${((ours.rps / theirs.rps) * 100).toFixed(0)} % (target >= 60 %)\n`);
    if (ours?.cpuUsPerReq && theirs?.cpuUsPerReq) process.stdout.write(`haproxy / paceline director CPU per request: ${((theirs.cpuUsPerReq / ours.cpuUsPerReq) * 100).toFixed(0)} % (the throughput each would reach on equal CPU)\n`);
  } finally {
    await cleanup();
  }
}

await main();
