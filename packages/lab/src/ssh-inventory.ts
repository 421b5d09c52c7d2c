/**
 * The inventory of an ssh lab: the hosts (real machines or VMs with paceline installed) that
 * `paceline lab up --driver ssh --inventory FILE` turns into a cluster.
 *
 * Format (JSON):
 *   {
 *     "remoteDir": "/var/tmp/paceline-lab",      optional; default /var/tmp/paceline-lab-LAB
 *     "paceline": ["paceline"],                   optional; the CLI on the hosts (argv prefix)
 *     "hosts": [
 *       { "name": "node1",                        node name (letters, digits, . _ -; at most 63)
 *         "address": "192.0.2.11",                what ssh connects to
 *         "user": "root",                         optional; default root
 *         "key": "~/.ssh/id_ed25519",             private key (ssh -i); relative to the file, ~/ = home
 *         "port": 22,                             optional; default 22
 *         "paceline": "/usr/bin/paceline",        optional; string or argv; overrides the top level
 *         "remoteDir": "/srv/lab",                optional; overrides the top level
 *         "clusterAddress": "198.51.100.11",      optional; the messaging address (default: address)
 *         "messagingPort": 5405,                  optional
 *         "powerOff": ["virsh", "destroy", "vm1"], optional; run HERE for power-off
 *         "powerOn": ["virsh", "start", "vm1"],   optional; run HERE for power-on
 *         "powerOffLinks": ["eth1"]               optional; interfaces the emulated power-off takes down
 *       } ] }
 * Every node's files live in REMOTEDIR/NODE on its host. Bad input throws one clear error.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** Node names the daemon accepts (config.ts NODE_NAME), which are also safe path components. */
export const SSH_NODE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
const IFACE_RE = /^[A-Za-z0-9._@-]{1,15}$/;
const USER_RE = /^[a-z_][a-z0-9_.-]*\$?$/i;

/** One host of the inventory, with defaults filled in. */
export interface SshHost {
  readonly name: string;
  readonly address: string;
  readonly user: string;
  /** Absolute path of the private key. */
  readonly key: string;
  readonly port: number;
  /** argv prefix of the paceline CLI on the host. */
  readonly paceline: readonly string[];
  /** The node's directory on the host (REMOTEDIR/NODE). */
  readonly remoteDir: string;
  /** Address the node's messaging link binds (host part). */
  readonly clusterAddress: string;
  readonly messagingPort: number;
  readonly powerOff?: readonly string[];
  readonly powerOn?: readonly string[];
  readonly powerOffLinks?: readonly string[];
}

type Obj = Record<string, unknown>;

function argvOf(v: unknown, where: string): string[] {
  if (typeof v === 'string' && v !== '') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === 'string' && a !== '')) return v as string[];
  throw new Error(`${where}: expected a command (a non-empty string or array of non-empty strings)`);
}

function str(o: Obj, k: string, where: string, required: boolean): string | undefined {
  const v = o[k];
  if (v === undefined) {
    if (required) throw new Error(`${where}: "${k}" is required`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new Error(`${where}: "${k}" must be a non-empty string`);
  return v;
}

function port(o: Obj, k: string, where: string, dflt: number): number {
  const v = o[k] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`${where}: "${k}" must be a port number 1..65535`);
  return v;
}

const HOST_KEYS = new Set(['name', 'address', 'user', 'key', 'port', 'paceline', 'remoteDir', 'clusterAddress', 'messagingPort', 'powerOff', 'powerOn', 'powerOffLinks']);

/** Parses inventory text; `base` resolves relative key paths; `lab` names the default remote directory. */
export function parseInventory(text: string, opts: { lab: string; base: string; source?: string }): SshHost[] {
  const src = opts.source ?? 'inventory';
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    throw new Error(`${src}: not JSON: ${(err as Error).message}`);
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new Error(`${src}: expected an object with "hosts"`);
  const r = root as Obj;
  for (const k of Object.keys(r)) if (!['hosts', 'remoteDir', 'paceline'].includes(k)) throw new Error(`${src}: unknown field "${k}" (hosts, remoteDir, paceline)`);
  if (!Array.isArray(r.hosts) || r.hosts.length === 0) throw new Error(`${src}: "hosts" must be a non-empty array`);
  const topDir = r.remoteDir === undefined ? `/var/tmp/paceline-lab-${opts.lab}` : str(r, 'remoteDir', src, true)!;
  const topCli = r.paceline === undefined ? ['paceline'] : argvOf(r.paceline, `${src}: paceline`);
  const seen = new Set<string>();
  return r.hosts.map((h, i): SshHost => {
    const where = `${src}: hosts[${i}]`;
    if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new Error(`${where}: expected an object`);
    const o = h as Obj;
    for (const k of Object.keys(o)) if (!HOST_KEYS.has(k)) throw new Error(`${where}: unknown field "${k}"`);
    const name = str(o, 'name', where, true)!;
    if (!SSH_NODE_NAME_RE.test(name)) throw new Error(`${where}: bad node name ${JSON.stringify(name)} (letters, digits, . _ -; at most 63)`);
    if (seen.has(name)) throw new Error(`${where}: node name ${name} appears twice`);
    seen.add(name);
    const address = str(o, 'address', where, true)!;
    if (/[\s'"`$\\]/.test(address) || address.startsWith('-')) throw new Error(`${where}: bad address ${JSON.stringify(address)}`);
    const user = str(o, 'user', where, false) ?? 'root';
    if (!USER_RE.test(user)) throw new Error(`${where}: bad user ${JSON.stringify(user)}`);
    const keyText = str(o, 'key', where, true)!;
    const key = keyText.startsWith('~/') ? join(homedir(), keyText.slice(2)) : resolve(opts.base, keyText);
    const remoteBase = str(o, 'remoteDir', where, false) ?? topDir;
    if (!isAbsolute(remoteBase) || /[\0\n]/.test(remoteBase)) throw new Error(`${where}: remoteDir must be an absolute path`);
    const remoteDir = `${remoteBase.replace(/\/+$/, '')}/${name}`;
    if (Buffer.byteLength(`${remoteDir}/api.sock`) > 107) throw new Error(`${where}: ${remoteDir}/api.sock is longer than a unix socket path may be (107 bytes)`);
    const clusterAddress = str(o, 'clusterAddress', where, false) ?? address;
    const links = o.powerOffLinks === undefined ? undefined : o.powerOffLinks;
    if (links !== undefined && (!Array.isArray(links) || !links.every((l) => typeof l === 'string' && IFACE_RE.test(l)))) throw new Error(`${where}: powerOffLinks must be an array of interface names`);
    return {
      name,
      address,
      user,
      key,
      port: port(o, 'port', where, 22),
      paceline: o.paceline === undefined ? topCli : argvOf(o.paceline, `${where}: paceline`),
      remoteDir,
      clusterAddress,
      messagingPort: port(o, 'messagingPort', where, 5405),
      ...(o.powerOff === undefined ? {} : { powerOff: argvOf(o.powerOff, `${where}: powerOff`) }),
      ...(o.powerOn === undefined ? {} : { powerOn: argvOf(o.powerOn, `${where}: powerOn`) }),
      ...(links === undefined ? {} : { powerOffLinks: links as string[] }),
    };
  });
}

/** Reads and parses an inventory file (relative key paths are relative to the file). */
export function loadInventory(file: string, lab: string): SshHost[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read inventory ${file}: ${(err as Error).message}`);
  }
  return parseInventory(text, { lab, base: resolve(file, '..'), source: file });
}
