/**
 * Extra machines on a lab's bridge for the drills (real servers behind a director, ...): a
 * namespace `pl-LAB-NAME` with lo up and eth0 (a veth from the switch) holding one address of the
 * lab's subnet. The name must not look like a node's or the client's namespace (n1, client, sw);
 * `netnsDown` (labDown) removes them with the rest of the lab, since they share its prefix.
 * A server started by `startHostServer` carries PACELINE_LAB_DIR, so labDown also kills it.
 */
import { spawn } from 'node:child_process';
import { bridgeName, LAB_IFACE, must, nsPrefix, run, switchNs } from './netns.js';
import type { LabState } from './lab.js';

/** Extra host names: a letter, then letters or digits; not one of the lab's own machine names. */
const HOST_RE = /^[a-z][a-z0-9]{0,5}$/;

/** The namespace of an extra host of the lab. */
export function hostNs(lab: string, host: string): string {
  if (!HOST_RE.test(host) || host === 'sw' || host === 'client' || /^n\d+$/.test(host)) throw new Error(`bad extra host name '${host}'`);
  return `${nsPrefix(lab)}${host}`;
}

/** Plugs an extra host into the lab's bridge with `address` (10.77.X.Y, /24). Throws naming the failing command. */
export function plugHost(lab: LabState, host: string, address: string): string {
  if (lab.driver !== 'netns') throw new Error('extra hosts need the netns driver');
  const ns = hostNs(lab.name, host);
  const sw = switchNs(lab.name);
  const port = `p-${host}`;
  must(['ip', 'netns', 'add', ns]);
  must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  must(['ip', '-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', LAB_IFACE, 'netns', ns]);
  must(['ip', '-n', sw, 'link', 'set', port, 'master', bridgeName(lab.name)]);
  must(['ip', '-n', sw, 'link', 'set', port, 'up']);
  must(['ip', '-n', ns, 'addr', 'add', `${address}/24`, 'dev', LAB_IFACE]);
  must(['ip', '-n', ns, 'link', 'set', LAB_IFACE, 'up']);
  return ns;
}

/** Removes an extra host (its processes die with SIGKILL). Idempotent. */
export function unplugHost(lab: LabState, host: string): void {
  const ns = hostNs(lab.name, host);
  for (const l of run(['ip', 'netns', 'pids', ns]).stdout.split('\n')) {
    if (!/^\d+$/.test(l)) continue;
    try {
      process.kill(Number(l), 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  run(['ip', 'netns', 'del', ns]);
}

/** A tiny HTTP server in a host's namespace: python3's http.server on address:port, serving `root`. Detached; resolves with its pid once it accepts connections. */
export async function startHostServer(lab: LabState, host: string, address: string, root: string, port = 80): Promise<number> {
  const ns = hostNs(lab.name, host);
  const child = spawn('ip', ['netns', 'exec', ns, 'python3', '-m', 'http.server', String(port), '--bind', address, '--directory', root], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, PACELINE_LAB_DIR: lab.dir },
  });
  child.unref();
  const end = Date.now() + 10_000;
  for (;;) {
    const r = run(['ip', 'netns', 'exec', ns, 'python3', '-c', `import socket; socket.create_connection(('${address}', ${port}), 1).close()`]);
    if (r.status === 0) return child.pid!;
    if (child.exitCode !== null || Date.now() > end) throw new Error(`the HTTP server of ${host} (${address}:${port}) did not come up: ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}
