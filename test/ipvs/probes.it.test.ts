/**
 * Health probes against real loopback servers: HTTPS GET with status and body checks (a
 * self-signed certificate made with openssl, not verified, as ldirectord does), TCP connect to a
 * closed port, and a probe that times out. Needs openssl for the certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { probe } from '@paceline/ipvs';
import { missing } from '../support/env.js';

const why = missing({ tools: ['openssl'] });

describe.skipIf(!!why)(`health probes on loopback ${why ?? ''}`, () => {
  it('HTTPS GET passes on the expected status and body, fails on a wrong status or body', async () => {
    // keepalived SSL_GET / ldirectord service=https with receive= strings.
    const dir = mkdtempSync(join(tmpdir(), 'ipvs-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      const server = https.createServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (req, res) => {
        res.statusCode = req.url === '/ok' ? 200 : 500;
        res.end(req.url === '/ok' ? 'all good' : 'broken');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      const port = (server.address() as net.AddressInfo).port;
      try {
        expect(await probe({ type: 'http', https: true, path: '/ok', expectStatus: 200, expectRegex: 'good' }, '127.0.0.1', port, 2000)).toBe(true);
        expect(await probe({ type: 'http', https: true, path: '/ok', expectRegex: 'bad' }, '127.0.0.1', port, 2000)).toBe(false);
        expect(await probe({ type: 'http', https: true, path: '/fail' }, '127.0.0.1', port, 2000)).toBe(false);
        expect(await probe({ type: 'http', https: false, path: '/ok' }, '127.0.0.1', port, 2000)).toBe(false);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('TCP probes fail on a closed port and on a server that never answers in time', async () => {
    // A dead server and a hung one must both count as failures.
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    expect(await probe({ type: 'tcp' }, '127.0.0.1', port, 1000)).toBe(false);
    const hung = net.createServer((c) => { c.on('error', () => undefined); });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', () => resolve()));
    const hport = (hung.address() as net.AddressInfo).port;
    try {
      expect(await probe({ type: 'tcp' }, '127.0.0.1', hport, 1000)).toBe(true);
      expect(await probe({ type: 'http', path: '/' }, '127.0.0.1', hport, 300)).toBe(false);
    } finally {
      hung.close();
    }
  });
});
