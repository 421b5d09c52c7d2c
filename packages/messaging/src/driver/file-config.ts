/**
 * The messaging section of a node's configuration file (like corosync.conf's totem, nodelist and
 * quorum sections), as JSON. `parseFileConfig` validates it and returns diagnostics that name
 * the item and the reason; it never throws.
 *
 * Example:
 * {
 *   "clusterName": "prod", "nodeId": 1, "authkeyPath": "/etc/paceline/authkey",
 *   "crypto": { "mode": "hmac-sha256", "encrypt": false },
 *   "links": [ { "transport": "udpu" } ],
 *   "nodes": [ { "nodeId": 1, "addresses": ["10.0.0.1:5405"] }, { "nodeId": 2, "addresses": ["10.0.0.2:5405"] } ],
 *   "quorum": { "twoNode": true }, "timing": { "deadtimeMs": 600 }, "statusPath": "/run/paceline/messaging.json"
 * }
 */
import { makeConfig, type ConfigDiagnostic, type LimitsConfig, type MessagingConfig, type QuorumConfig, type TimingConfig } from '../config.js';
import { AUTHKEY_PATH_DEFAULT } from '../keyfile.js';
import type { CryptoMode } from '../wire.js';

export const DEFAULT_PORT = 5405;
/** Like corosync's mcastport default: the group's port when a multicast link names none. */
export const DEFAULT_MCAST_PORT = 5405;
/** 10 ms: timers fire at 1/10 of the heartbeat interval, adding at most 10 ms to detection, at little idle CPU. */
export const TICK_INTERVAL_MS_DEFAULT = 10;
export const STATUS_PATH_DEFAULT = '/run/paceline/messaging-status.json';

/** One link (ring): unicast to every node's address on it, or multicast to a group. */
export interface LinkFileConfig {
  readonly transport: 'udpu' | 'udp';
  /** Multicast only: group address, e.g. 239.192.x.y (administratively scoped). Traffic to several nodes goes to the group; replies to one node go unicast to its address. */
  readonly mcastGroup?: string;
  readonly mcastPort?: number;
  readonly ttl?: number;
  /** Multicast only: local interface address to join and send on. */
  readonly mcastInterface?: string;
}

export interface NodeFileEntry {
  readonly nodeId: number;
  readonly votes?: number;
  /** The node's name (carried in agreed nodelist changes). */
  readonly name?: string;
  /** One "host:port" per link, in link order; the local node binds its own. */
  readonly addresses: readonly string[];
}

export interface MessagingFileConfig {
  readonly clusterName: string;
  readonly nodeId: number;
  readonly authkeyPath?: string;
  readonly crypto?: { mode?: CryptoMode; encrypt?: boolean };
  readonly links?: readonly LinkFileConfig[];
  readonly nodes: readonly NodeFileEntry[];
  /** Version of `nodes`: 0 as first written; the daemon stores each agreed change's (see messages.ts Nodelist). */
  readonly nodelistVersion?: number;
  readonly quorum?: Partial<QuorumConfig>;
  readonly timing?: Partial<TimingConfig>;
  readonly limits?: Partial<LimitsConfig>;
  readonly statusPath?: string;
  /** File recording the last incarnation, so incarnations grow even if the clock steps back. */
  readonly incarnationPath?: string;
  /** How often the driver ticks the protocol core. */
  readonly tickIntervalMs?: number;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface ResolvedConfig {
  readonly core: MessagingConfig;
  readonly nodeId: number;
  readonly authkeyPath: string;
  readonly crypto: { mode: CryptoMode; encrypt: boolean };
  readonly links: readonly LinkFileConfig[];
  /** nodeId -> endpoint per link. */
  readonly addresses: ReadonlyMap<number, readonly (Endpoint | undefined)[]>;
  readonly statusPath: string | undefined;
  readonly incarnationPath: string | undefined;
  readonly tickIntervalMs: number;
}

export function parseEndpoint(s: string): Endpoint | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s) ?? /^([^:]+)()$/.exec(s);
  if (m === null) return undefined;
  const host = m[1] || m[2] || '';
  const port = m[3] ? Number(m[3]) : DEFAULT_PORT;
  return host && port > 0 && port < 65536 ? { host, port } : undefined;
}

export function parseFileConfig(file: MessagingFileConfig): { config: ResolvedConfig | undefined; diagnostics: ConfigDiagnostic[] } {
  const { config: core, diagnostics } = makeConfig({ clusterName: file.clusterName, nodes: file.nodes, ...(file.nodelistVersion !== undefined ? { nodelistVersion: file.nodelistVersion } : {}), quorum: file.quorum, timing: file.timing, limits: file.limits });
  const links = file.links && file.links.length > 0 ? file.links : [{ transport: 'udpu' as const }];
  const addresses = new Map<number, (Endpoint | undefined)[]>();
  for (const n of file.nodes) {
    const eps = links.map((_, i) => {
      const raw = n.addresses[i];
      const ep = raw === undefined ? undefined : parseEndpoint(raw);
      if (raw !== undefined && ep === undefined) diagnostics.push({ item: `node ${n.nodeId} address ${raw}`, reason: 'not host:port; ignored' });
      return ep;
    });
    addresses.set(n.nodeId, eps);
  }
  links.forEach((l, i) => {
    if (l.transport === 'udp' && l.mcastGroup === undefined) diagnostics.push({ item: `link ${i}`, reason: 'multicast link needs mcastGroup' });
  });
  const crypto = { mode: file.crypto?.mode ?? 'hmac-sha256', encrypt: file.crypto?.encrypt ?? false } as const;
  if (crypto.encrypt && crypto.mode !== 'aes-256-gcm') diagnostics.push({ item: 'crypto.encrypt', reason: 'encryption needs mode aes-256-gcm' });
  const own = addresses.get(file.nodeId);
  if (own === undefined || own.every((e) => e === undefined)) diagnostics.push({ item: `nodeId ${file.nodeId}`, reason: 'the local node has no address in the node list' });
  const fatal = diagnostics.some((d) => d.item.startsWith('nodeId') || d.item === 'crypto.encrypt' || d.item.startsWith('link') || d.item === 'clusterName' || d.item === 'nodelistVersion');
  if (fatal) return { config: undefined, diagnostics };
  return {
    config: {
      core,
      nodeId: file.nodeId,
      authkeyPath: file.authkeyPath ?? AUTHKEY_PATH_DEFAULT,
      crypto,
      links,
      addresses,
      statusPath: file.statusPath,
      incarnationPath: file.incarnationPath,
      tickIntervalMs: file.tickIntervalMs ?? TICK_INTERVAL_MS_DEFAULT,
    },
    diagnostics,
  };
}
