/**
 * A Resolver over /etc/hosts and /etc/services, for ipvsadm's output without -n and for host
 * and service names on input (ipvsadm asks the C library, which reads the same files first).
 * Read once, at construction; DNS is not consulted.
 */
import { readFileSync } from 'node:fs';
import { formatAddr, inetAton, type Resolver } from './addr.js';

function readOr(path: string): string {
  try { return readFileSync(path, 'utf8'); } catch { return ''; }
}

export function fileResolver(hostsPath = '/etc/hosts', servicesPath = '/etc/services'): Resolver {
  const byName = new Map<string, number>();
  const byAddr = new Map<number, string>();
  for (const line of readOr(hostsPath).split('\n')) {
    const [addrText, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    const addr = addrText && /^\d+\.\d+\.\d+\.\d+$/.test(addrText) ? inetAton(addrText) : undefined;
    if (addr === undefined) continue;
    for (const n of names) if (!byName.has(n)) byName.set(n, addr);
    if (names[0] && !byAddr.has(addr)) byAddr.set(addr, names[0]);
  }
  const ports = new Map<string, number>();
  const names = new Map<string, string>();
  for (const line of readOr(servicesPath).split('\n')) {
    const [name, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
    const m = portProto ? /^(\d+)\/(tcp|udp)$/.exec(portProto) : null;
    if (!name || !m) continue;
    for (const n of [name, ...aliases]) if (!ports.has(`${n}/${m[2]}`)) ports.set(`${n}/${m[2]}`, Number(m[1]));
    if (!names.has(portProto!)) names.set(portProto!, name);
  }
  return {
    hostToAddr: (name) => byName.get(name),
    addrToHost: (addr) => byAddr.get(addr),
    serviceToPort: (name, protocol) => ports.get(`${name}/${protocol}`),
    portToService: (port, protocol) => names.get(`${port}/${protocol}`),
  };
}


