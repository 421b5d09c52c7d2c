/**
 * Real-server health checking as ldirectord and keepalived do it. The policy is pure: it counts
 * consecutive failures (fall, default 3) and successes (rise, default 1) per real server and
 * says which ipvsadm commands bring the table in line: remove the server (or set weight 0 with
 * `quiescent`), put it back with its weight, add a sorry server when none is up and remove it
 * when one comes back. The probes (TCP connect, HTTP GET, a command) are in health-probes.ts.
 */
import { formatAddr } from './addr.js';
import type { Destination, RuleTable, ServiceKey } from './model.js';
import { destId, findService } from './model.js';

export type ProbeSpec =
  | { type: 'tcp' }
  | { type: 'http'; path?: string; host?: string; expectStatus?: number; expectRegex?: string; https?: boolean }
  | { type: 'command'; argv: string[] };

export interface HealthCheckConfig {
  /** ipvsadm service option, e.g. "-t 127.0.0.1:80" or "-f 1". */
  service: string;
  probe: ProbeSpec;
  intervalMs?: number;
  timeoutMs?: number;
  fall?: number;
  rise?: number;
  /** true: set weight 0 on failure (ldirectord quiescent=yes); false: remove the server. */
  quiescent?: boolean;
  /** "addr:port" of a sorry (fallback) server, added with -m -w 1 when no real server is up. */
  sorry?: string;
}

export const HEALTH_DEFAULTS = {
  /** ldirectord checkinterval / keepalived delay_loop are commonly 5-6 s. */
  intervalMs: 5000,
  /** ldirectord negotiatetimeout / keepalived connect_timeout default to 5 s. */
  timeoutMs: 5000,
  /** keepalived retry: failures in a row before a server is taken out. */
  fall: 3,
  /** successes in a row before it is put back. */
  rise: 1,
  quiescent: false,
} as const;

interface ServerState {
  dest: Destination;
  up: boolean;
  fails: number;
  successes: number;
}

export interface HealthAction {
  /** ipvsadm arguments to apply. */
  args: string[];
  /** Log line describing the change. */
  log: string;
}

/** One service's health policy. Owns the list of real servers it watches. */
export class HealthPolicy {
  private readonly servers = new Map<string, ServerState>();
  readonly fall: number;
  readonly rise: number;
  readonly quiescent: boolean;
  constructor(readonly config: HealthCheckConfig, readonly key: ServiceKey) {
    this.fall = config.fall ?? HEALTH_DEFAULTS.fall;
    this.rise = config.rise ?? HEALTH_DEFAULTS.rise;
    this.quiescent = config.quiescent ?? HEALTH_DEFAULTS.quiescent;
  }

  private isSorry(d: { addr: number; port: number }): boolean {
    return this.config.sorry !== undefined && `${formatAddr(d.addr)}:${d.port}` === this.config.sorry;
  }

  /**
   * Follow the operator's changes: servers that appear in the table are watched (as up);
   * servers the operator removed (not us) are forgotten.
   */
  sync(table: RuleTable): void {
    const svc = findService(table, this.key);
    const present = new Map((svc?.dests ?? []).filter((d) => !this.isSorry(d)).map((d) => [destId(d), d]));
    for (const [id, d] of present) {
      const s = this.servers.get(id);
      if (!s) this.servers.set(id, { dest: d, up: true, fails: 0, successes: 0 });
      else if (s.up) s.dest = d;
    }
    for (const [id, s] of this.servers) if (s.up && !present.has(id)) this.servers.delete(id);
  }

  /** The servers to probe. */
  targets(): Destination[] {
    return [...this.servers.values()].map((s) => s.dest);
  }

  /** Record one probe result; returns the table changes it causes (possibly none). */
  observe(dest: { addr: number; port: number }, ok: boolean, table: RuleTable): HealthAction[] {
    const s = this.servers.get(destId(dest));
    if (!s) return [];
    if (ok) { s.successes++; s.fails = 0; } else { s.fails++; s.successes = 0; }
    const name = `${formatAddr(s.dest.addr)}:${s.dest.port}`;
    const svc = this.config.service;
    const actions: HealthAction[] = [];
    if (s.up && s.fails >= this.fall) {
      s.up = false;
      actions.push(this.quiescent
        ? { args: [...editArgs(svc, s.dest), '-w', '0'], log: `real server ${name} (${svc}) down after ${s.fails} failed checks: quiesced (weight 0)` }
        : { args: ['-d', ...svc.split(' '), '-r', name], log: `real server ${name} (${svc}) down after ${s.fails} failed checks: removed` });
    } else if (!s.up && s.successes >= this.rise) {
      s.up = true;
      actions.push(this.quiescent
        ? { args: [...editArgs(svc, s.dest), '-w', String(s.dest.weight)], log: `real server ${name} (${svc}) up after ${s.successes} good checks: weight ${s.dest.weight}` }
        : { args: [...addArgs(svc, s.dest)], log: `real server ${name} (${svc}) up after ${s.successes} good checks: added` });
    }
    return [...actions, ...this.sorryActions(table, actions.length > 0)];
  }

  private sorryActions(table: RuleTable, changed: boolean): HealthAction[] {
    if (!changed || this.config.sorry === undefined) return [];
    const anyUp = [...this.servers.values()].some((s) => s.up);
    const svc = findService(table, this.key);
    const sorryPresent = svc?.dests.some((d) => this.isSorry(d)) ?? false;
    const args = this.config.service.split(' ');
    if (!anyUp && !sorryPresent) return [{ args: ['-a', ...args, '-r', this.config.sorry, '-m', '-w', '1'], log: `no real server up for ${this.config.service}: sorry server ${this.config.sorry} added` }];
    if (anyUp && sorryPresent) return [{ args: ['-d', ...args, '-r', this.config.sorry], log: `a real server is up for ${this.config.service}: sorry server ${this.config.sorry} removed` }];
    return [];
  }
}

const FWD = { Masq: '-m', Tunnel: '-i', Route: '-g', Local: '-g' } as const;

function addArgs(svc: string, d: Destination): string[] {
  return ['-a', ...svc.split(' '), '-r', `${formatAddr(d.addr)}:${d.port}`, FWD[d.forward], '-w', String(d.weight), '-x', String(d.upperThreshold), '-y', String(d.lowerThreshold)];
}

function editArgs(svc: string, d: Destination): string[] {
  return ['-e', ...svc.split(' '), '-r', `${formatAddr(d.addr)}:${d.port}`, FWD[d.forward], '-x', String(d.upperThreshold), '-y', String(d.lowerThreshold)];
}
