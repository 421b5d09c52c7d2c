/**
 * The probes health checks run against a real server: a TCP connect, an HTTP(S) GET checked
 * for a status and/or a regular expression in the body, or a command (argv with %h and %p
 * replaced by the server's address and port; exit 0 = healthy). Each resolves to true/false
 * within the timeout and never throws.
 */
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { ProbeSpec } from './health.js';

/** Bound on how much of a response body is read for the regex check. */
export const PROBE_BODY_BYTES_MAX = 64 * 1024;

export function probe(spec: ProbeSpec, host: string, port: number, timeoutMs: number): Promise<boolean> {
  switch (spec.type) {
    case 'tcp': return probeTcp(host, port, timeoutMs);
    case 'http': return probeHttp(spec, host, port, timeoutMs);
    case 'command': return probeCommand(spec.argv, host, port, timeoutMs);
  }
}

function probeTcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean): void => { clearTimeout(timer); s.destroy(); resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

function probeHttp(spec: Extract<ProbeSpec, { type: 'http' }>, host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (ok: boolean): void => { if (!settled) { settled = true; clearTimeout(timer); req.destroy(); resolve(ok); } };
    const mod = spec.https ? https : http;
    const req = mod.request({ host, port, method: 'GET', path: spec.path ?? '/', headers: { host: spec.host ?? host, connection: 'close' }, rejectUnauthorized: false, agent: false }, (res) => {
      const statusOk = spec.expectStatus === undefined ? (res.statusCode ?? 0) < 400 : res.statusCode === spec.expectStatus;
      if (!statusOk || spec.expectRegex === undefined) { res.resume(); done(statusOk); return; }
      const re = new RegExp(spec.expectRegex);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { if (body.length < PROBE_BODY_BYTES_MAX) body += chunk; if (re.test(body)) done(true); });
      res.on('end', () => done(re.test(body)));
      res.on('error', () => done(false));
    });
    const timer = setTimeout(() => done(false), timeoutMs);
    req.on('error', () => done(false));
    req.end();
  });
}

function probeCommand(argv: string[], host: string, port: number, timeoutMs: number): Promise<boolean> {
  const [cmd, ...args] = argv.map((a) => a.replaceAll('%h', host).replaceAll('%p', String(port)));
  if (!cmd) return Promise.resolve(false);
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, env: { ...process.env, RIP: host, RPORT: String(port) } }, (error) => resolve(!error));
  });
}
