/**
 * A lab cluster on this machine: `labUp` makes the network (netns driver) or picks loopback
 * ports (local driver), writes the authkey and every node's configuration, starts the nodes and
 * waits until the cluster has settled; `labDown` stops and removes it.
 *
 * The lab directory (LAB_DIR):
 *   lab.json                  the lab's state (LabState)
 *   authkey                   256 random bytes, mode 0400 (the messaging keyfile format)
 *   nodes/NODE/config.json    the node's daemon configuration (the design's JSON format)
 *   nodes/NODE/pid            pid of the node's main process, leader of its own session
 *   nodes/NODE/netns          netns driver: the node's network namespace
 *   nodes/NODE/boot           starts the node detached (setsid) and writes pid; fence_lab runs it
 *   nodes/NODE/power          written by fence_lab and the fault verbs: on|off and the epoch second
 *   nodes/NODE/log            the node's stdout and stderr (appended)
 *   nodes/NODE/data           the node's data directory; nodes/NODE/rsctmp its HA_RSCTMP
 *   nodes/NODE/api.sock       the node's API socket
 *   nodes/NODE/clock-offset   fake clock (LabState.fakeClock): the node's wall-clock offset in
 *                             seconds ("+0", "+3600", "-600"), libfaketime's FAKETIME_TIMESTAMP_FILE
 * This is fence_lab's lab contract (agents/stonith/fence_lab).
 *
 * State isolation: every node has its own data directory and HA_RSCTMP (so agents' state files,
 * like Dummy's, are per node). With the netns driver the node runs under `ip netns exec`, which
 * also gives it a mount namespace of its own (mounts it makes stay private to the node).
 *
 * Every process of a lab carries PACELINE_LAB_DIR=LAB_DIR in its environment: `labDown` finds
 * leftovers by it (and by namespace prefix), even when lab.json or pid files are gone.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, constants as fsc, openSync, writeSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLabName, clientAddress, CLIENT, LAB_IFACE, killNamespaceProcesses, labNamespaces, machineNs, macOf, netnsDown, netnsUp, nodeAddress, pickSubnetIndex, vipAddress } from './netns.js';
import { queryStatus, waitSettled, type NodeStatus, type StatusAnswer } from './settle.js';
import { sshLabDown, sshLabExec, sshLabStatus, sshLabUp } from './ssh.js';
import type { SshHost } from './ssh-inventory.js';

/** ssh: hosts of an inventory (ssh.ts). */
export type LabDriver = 'netns' | 'local' | 'ssh';
export const MESSAGING_PORT = 5405;
export const AUTHKEY_BYTES = 256;
/** Placeholders in a node command: replaced by the node's config path, name and directory. */
export const NODE_COMMAND_PLACEHOLDERS = ['{config}', '{node}', '{nodeDir}'] as const;

/** The repository (src/ and dist/ are both one level below the package). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** `paceline node start --config CONFIG` with this Node.js and the repository's CLI. */
export function defaultNodeCommand(): string[] {
  return [process.execPath, ...DAEMON_NODE_FLAGS, join(repoRoot, 'packages/cli/bin/paceline.js'), 'node', 'start', '--config', '{config}'];
}

/**
 * Node.js flags a node runs with, as paceline.service sets them (NODE_OPTIONS): a 1 MB young
 * generation keeps a daemon's resident memory low (see packages/daemon/README.md, "Memory").
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1'];

/**
 * Environment a node runs with, as paceline.service sets it: two malloc arenas instead of one per
 * thread, so that memory freed by a stopped scheduler thread does not stay resident in an arena
 * of its own (packages/daemon/README.md, "Memory").
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/**
 * Where libfaketime's preload library may live (Debian package libfaketime, pulled by faketime),
 * first found wins. PACELINE_LIBFAKETIME, when set, is the only candidate.
 */
export function libfaketimeCandidates(env: Readonly<Record<string, string | undefined>> = process.env): string[] {
  if (env['PACELINE_LIBFAKETIME']) return [env['PACELINE_LIBFAKETIME']];
  const arch = process.arch === 'x64' ? 'x86_64-linux-gnu' : process.arch === 'arm64' ? 'aarch64-linux-gnu' : `${process.arch}-linux-gnu`;
  return [`/usr/lib/${arch}/faketime/libfaketime.so.1`, '/usr/lib/faketime/libfaketime.so.1', '/usr/local/lib/faketime/libfaketime.so.1'];
}

/** The libfaketime preload library of this machine, or undefined (install the faketime package). */
export function findLibfaketime(): string | undefined {
  return libfaketimeCandidates().find((p) => existsSync(p));
}

/** A fake-clocked node's offset file (libfaketime reads it; the clock-jump fault writes it). */
export const clockOffsetFile = (node: Pick<LabNode, 'dir'>): string => join(node.dir, 'clock-offset');

/**
 * Environment of a process on a fake-clocked node: libfaketime preloaded, the wall clock
 * (CLOCK_REALTIME, time(), gettimeofday) shifted by the seconds in the node's offset file, the
 * monotonic clocks left alone (timers and timeouts keep their pace), the file read again at every
 * new second (FAKETIME_CACHE_DURATION=0: a change takes effect within a second). Children inherit
 * it (resource agents, `date`).
 */
export function fakeClockEnv(lib: string, node: Pick<LabNode, 'dir'>): Record<string, string> {
  return { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: clockOffsetFile(node), FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_CACHE_DURATION: '0' };
}

export interface LabNode {
  readonly name: string;
  readonly id: number;
  /** host:port the node's messaging link binds. */
  readonly address: string;
  readonly netns?: string;
  readonly dir: string;
  readonly config: string;
  readonly apiSocket: string;
}

/** lab.json. */
export interface LabState {
  readonly version: 1;
  readonly name: string;
  readonly driver: LabDriver;
  readonly dir: string;
  /** netns driver: the third octet of 10.77.X.0/24. */
  readonly subnetIndex?: number;
  readonly nodes: readonly LabNode[];
  readonly client?: { netns: string; address: string };
  /** Addresses reserved for floating IPs (netns driver). */
  readonly vips: readonly string[];
  readonly nodeCommand: readonly string[];
  readonly createdAt: string;
  /** ssh driver: the inventory's hosts the lab uses (one per node, same order). */
  readonly sshHosts?: readonly SshHost[];
  /**
   * The libfaketime library the nodes run under (netns and local drivers, LabUpOptions.fakeClock):
   * each node's wall clock can jump on its own (faults.ts clockJump). Absent: real clocks.
   */
  readonly fakeClock?: string;
}

export interface LabUpOptions {
  readonly name: string;
  readonly nodes: number;
  readonly driver: LabDriver;
  readonly dir: string;
  /** Initial CIB (XML file) every node loads when its data directory has none. */
  readonly cib?: string;
  /** argv of a node, with placeholders (NODE_COMMAND_PLACEHOLDERS); defaultNodeCommand() when omitted. */
  readonly nodeCommand?: readonly string[];
  /** Wait until the cluster settled (default true). */
  readonly settle?: boolean;
  readonly settleTimeoutMs?: number;
  /** Progress lines (at least one a second while waiting). */
  readonly progress?: (line: string) => void;
  /** netns driver: the subnet index; the lowest free one when omitted. */
  readonly subnetIndex?: number;
  /** Extra messaging settings for every node (e.g. timing). */
  readonly messaging?: Record<string, unknown>;
  /** ssh driver: the inventory file (ssh-inventory.ts). */
  readonly inventory?: string;
  /**
   * Run the nodes under libfaketime, so that the clock-jump fault can move one node's wall clock
   * (netns and local drivers). Omitted: on when libfaketime is installed (its cost on an idle node
   * is below what can be measured here, see packages/lab/README.md); true: required (throws
   * without libfaketime); false: real clocks.
   */
  readonly fakeClock?: boolean;
}

const statePath = (dir: string): string => join(dir, 'lab.json');

/** Reads lab.json; throws a clear error when the directory holds no lab. */
export function loadLab(dir: string): LabState {
  const p = statePath(resolve(dir));
  let text: string;
  try {
    text = readFileSync(p, 'utf8');
  } catch {
    throw new Error(`${resolve(dir)} holds no lab (no lab.json)`);
  }
  const s = JSON.parse(text) as LabState;
  if (s.version !== 1 || !Array.isArray(s.nodes)) throw new Error(`${p}: not a lab state file of version 1`);
  return s;
}

function saveLab(state: LabState): void {
  const p = statePath(state.dir);
  writeFileSync(`${p}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${p}.tmp`, p);
}

/** Writes a new authkey (random bytes, mode 0400), in the format the messaging keyfile reads. */
export function writeLabAuthkey(path: string): void {
  rmSync(path, { force: true });
  const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o400);
  try {
    writeSync(fd, randomBytes(AUTHKEY_BYTES));
  } finally {
    closeSync(fd);
  }
  chmodSync(path, 0o400);
}

/** Free UDP ports on 127.0.0.1 (bound, then released). */
export async function freeUdpPorts(n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createSocket>>((res, rej) => {
      const s = createSocket('udp4');
      s.once('error', rej);
      s.bind(0, '127.0.0.1', () => res(s));
    })),
  );
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** The daemon configuration of one node (the design's JSON format). */
export function nodeConfig(opts: { clusterName: string; node: LabNode; nodes: readonly LabNode[]; authkey: string; cib?: string; messaging?: Record<string, unknown> }): unknown {
  return {
    clusterName: opts.clusterName,
    node: { id: opts.node.id, name: opts.node.name },
    nodes: opts.nodes.map((n) => ({ id: n.id, name: n.name, addresses: [n.address], votes: 1 })),
    messaging: {
      authkeyPath: opts.authkey,
      crypto: { mode: 'hmac-sha256', encrypt: false },
      links: [{ transport: 'udpu' }],
      quorum: { twoNode: opts.nodes.length === 2 },
      timing: {},
      ...opts.messaging,
    },
    dataDir: join(opts.node.dir, 'data'),
    api: { socket: opts.node.apiSocket },
    log: { level: 'info', target: 'stderr' },
    ...(opts.cib === undefined ? {} : { initialCib: opts.cib }),
  };
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The argv of a node with its placeholders filled in. */
export function expandCommand(cmd: readonly string[], node: LabNode): string[] {
  return cmd.map((a) => a.replaceAll('{config}', node.config).replaceAll('{node}', node.name).replaceAll('{nodeDir}', node.dir));
}

/**
 * The node's boot script (fence_lab contract): starts the node detached in a session of its own
 * (inside its namespace for the netns driver), appends its output to `log`, writes `pid`.
 */
export function bootScript(state: Pick<LabState, 'dir' | 'nodeCommand' | 'fakeClock'>, node: LabNode): string {
  const argv = expandCommand(state.nodeCommand, node);
  // netns driver: the daemon joins the machine's namespaces (network, and the mount namespace the
  // holder below keeps for as long as the machine is on) without making a new mount namespace.
  const inNs = node.netns === undefined ? [] : ['nsenter', '--mount=/proc/$(cat "$D/machine.pid")/ns/mnt', `--net=/run/netns/${node.netns}`, '--'];
  const host = node.address.slice(0, node.address.lastIndexOf(':'));
  const resetNet =
    node.netns === undefined
      ? []
      : [`  ip -n ${shq(node.netns)} addr flush dev ${LAB_IFACE} scope global`, `  ip -n ${shq(node.netns)} addr add ${shq(`${host}/24`)} dev ${LAB_IFACE}`];
  return [
    '#!/bin/sh',
    `# paceline lab: powers ${node.name} on (fence_lab runs this; so do lab up and the fault verbs).`,
    `D=${shq(node.dir)}`,
    'rm -f "$D/pid" "$D/pid.tmp" "$D/api.sock"',
    '# After a power-off (power file not "on"), clear what a power cycle clears: the run directory',
    '# and addresses added at run time (floating IPs), keeping the node its own address.',
    'if ! grep -q "^on" "$D/power" 2>/dev/null; then',
    '  rm -rf "$D/rsctmp" && mkdir -p "$D/rsctmp"',
    ...resetNet,
    'fi',
    `export PACELINE_LAB_DIR=${shq(state.dir)} PACELINE_LAB_NODE=${shq(node.name)} HA_RSCTMP="$D/rsctmp"`,
    ...(state.fakeClock === undefined ? [] : fakeClockLines(state.fakeClock)),
    'cd "$D" || exit 1',
    ...(node.netns === undefined ? [] : machineMountNamespace(node.netns)),
    '# shellcheck disable=SC2016 # $$ and $@ are for the inner shell',
    `setsid sh -c 'echo $$ >"$0/pid.tmp" && mv -f "$0/pid.tmp" "$0/pid" && exec "$@"' "$D" ${[...inNs.map((w) => (w.includes('$(') ? `"${w}"` : shq(w))), ...argv.map(shq)].join(' ')} </dev/null >>"$D/log" 2>&1 &`,
    '# Return once the pid file names the new process.',
    'i=0',
    'while [ ! -s "$D/pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done',
    '[ -s "$D/pid" ]',
    '',
  ].join('\n');
}

/**
 * Boot-script lines of a fake-clocked node (fakeClockEnv): the offset file kept across power
 * cycles (a clock that jumped stays jumped until clock-reset), "+0" when there is none; these
 * lines also replace the preload settings of whoever runs the script (fence_lab on another node).
 */
function fakeClockLines(lib: string): string[] {
  const env = fakeClockEnv(lib, { dir: '$D' });
  return [
    '# Fake clock: libfaketime shifts the wall clock by clock-offset seconds (lab fault clock-jump).',
    '[ -s "$D/clock-offset" ] || echo +0 >"$D/clock-offset"',
    `export ${Object.entries(env)
      .map(([k, v]) => (v.startsWith('$D') ? `${k}="${v}"` : `${k}=${shq(v)}`))
      .join(' ')}`,
  ];
}

/**
 * Boot-script lines that make sure the machine's mount namespace exists: a holder process
 * (`machine.pid`, in the node's network namespace, sessions of its own) keeps it for as long as
 * the machine is "on". The mounts a node's resources make (a Filesystem resource) live there, so
 * a daemon that crashed and started again sees them, as on a real machine; a power-off kills
 * every process of the namespace, the holder too, and the mounts go with it.
 */
function machineMountNamespace(netns: string): string[] {
  return [
    '# A holder killed by a power-off may not be reaped yet: its namespace link is gone already.',
    'if ! { [ -s "$D/machine.pid" ] && readlink "/proc/$(cat "$D/machine.pid")/ns/mnt" >/dev/null 2>&1; }; then',
    '  rm -f "$D/machine.pid"',
    '  # shellcheck disable=SC2016 # $$ is for the inner shell',
    `  setsid ip netns exec ${shq(netns)} unshare --mount --propagation private sh -c 'echo $$ >"$0.tmp" && mv -f "$0.tmp" "$0" && exec sleep infinity' "$D/machine.pid" </dev/null >/dev/null 2>&1 &`,
    '  i=0',
    '  while [ ! -s "$D/machine.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done',
    'fi',
  ];
}

/** The live holder of a netns node's machine mount namespace (machine.pid), or undefined. */
export function machinePid(node: Pick<LabNode, 'dir'>): number | undefined {
  try {
    const n = Number(readFileSync(join(node.dir, 'machine.pid'), 'utf8').trim());
    return Number.isInteger(n) && n > 0 && alive(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Pid in the node's pid file, or undefined. */
export function nodePid(node: Pick<LabNode, 'dir'>): number | undefined {
  try {
    const n = Number(readFileSync(join(node.dir, 'pid'), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process lives (and is not a zombie). */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the node's boot script detached and waits until its pid file names a live process. */
export async function bootNode(state: LabState, node: LabNode, timeoutMs = 10_000): Promise<number> {
  const child = spawn(join(node.dir, 'boot'), [], { detached: true, stdio: 'ignore', env: { ...process.env, ...DAEMON_ENV, LAB_DIR: state.dir, NODE: node.name } });
  // Not unref'd: the boot script returns within a second, and the caller waits for it.
  const code = await new Promise<number>((r) => {
    child.once('error', () => r(127));
    child.once('exit', (c) => r(c ?? 128));
  });
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pid = nodePid(node);
    if (alive(pid)) {
      markPower(node, 'on');
      return pid!;
    }
    if (pid !== undefined || Date.now() > end) throw new Error(`${node.name} did not start (boot exit ${code}${pid === undefined ? '' : `, pid ${pid} exited`}): ${logTail(node)}`);
    await sleep(20);
  }
}

/** The last lines of a node's log, for error messages. */
function logTail(node: Pick<LabNode, 'dir'>): string {
  const p = join(node.dir, 'log');
  try {
    const lines = readFileSync(p, 'utf8').trimEnd().split('\n').slice(-3).join(' | ');
    return `${lines || '(empty log)'} (${p})`;
  } catch {
    return `no log at ${p}`;
  }
}

/** Records the power state in nodes/NODE/power, as fence_lab does. */
export function markPower(node: Pick<LabNode, 'dir'>, state: 'on' | 'off'): void {
  writeFileSync(join(node.dir, 'power'), `${state} ${Math.floor(Date.now() / 1000)}\n`);
}

function nodeNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `node${i + 1}`);
}

/** Creates and starts a lab; returns its state once the cluster settled (or at once with settle: false). */
export async function labUp(opts: LabUpOptions): Promise<LabState> {
  checkLabName(opts.name);
  if (opts.driver === 'ssh') {
    // An ssh host's clock is the host's: faking it per process would need libfaketime there, and `date -s` moves every process of the host.
    if (opts.fakeClock) throw new Error('--fake-clock works with the netns and local drivers, not ssh (the hosts keep real clocks)');
    return sshLabUp(opts);
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 32) throw new Error(`bad node count ${opts.nodes}: 1..32`);
  if (opts.driver !== 'netns' && opts.driver !== 'local') throw new Error(`unknown driver '${String(opts.driver)}': netns, local or ssh`);
  const fakeClock = opts.fakeClock === false ? undefined : findLibfaketime();
  if (opts.fakeClock === true && fakeClock === undefined) throw new Error(`--fake-clock needs libfaketime (apt-get install faketime); looked for ${libfaketimeCandidates().join(', ')}`);
  if (opts.cib !== undefined && !existsSync(opts.cib)) throw new Error(`CIB file ${opts.cib} does not exist`);
  const dir = resolve(opts.dir);
  if (existsSync(statePath(dir))) {
    const old = loadLab(dir);
    if (old.nodes.some((n) => alive(nodePid(n))) || (old.driver === 'netns' && labNamespaces(old.name).length > 0)) throw new Error(`lab ${old.name} in ${dir} is up; run \`paceline lab down --dir ${dir}\` first`);
  }
  const progress = opts.progress ?? (() => undefined);
  mkdirSync(join(dir, 'nodes'), { recursive: true });
  const names = nodeNames(opts.nodes);
  const nodeCommand = [...(opts.nodeCommand ?? defaultNodeCommand())];
  if (nodeCommand.length === 0) throw new Error('empty node command');

  let subnetIndex: number | undefined;
  let addresses: string[];
  if (opts.driver === 'netns') {
    subnetIndex = opts.subnetIndex ?? pickSubnetIndex();
    const idx = subnetIndex;
    netnsUp({ lab: opts.name, index: idx, nodes: names });
    progress(`network: namespaces ${machineNs(opts.name, 'node1')}.. on bridge, subnet 10.77.${idx}.0/24`);
    addresses = names.map((n) => `${nodeAddress(idx, n)}:${MESSAGING_PORT}`);
  } else {
    addresses = (await freeUdpPorts(opts.nodes)).map((p) => `127.0.0.1:${p}`);
  }
  try {
    const authkey = join(dir, 'authkey');
    writeLabAuthkey(authkey);
    const cib = opts.cib === undefined ? undefined : resolve(opts.cib);
    const nodes: LabNode[] = names.map((name, i) => {
      const nd = join(dir, 'nodes', name);
      return {
        name,
        id: i + 1,
        address: addresses[i]!,
        ...(opts.driver === 'netns' ? { netns: machineNs(opts.name, name) } : {}),
        dir: nd,
        config: join(nd, 'config.json'),
        apiSocket: join(nd, 'api.sock'),
      };
    });
    const state: LabState = {
      version: 1,
      name: opts.name,
      driver: opts.driver,
      dir,
      ...(subnetIndex === undefined ? {} : { subnetIndex }),
      nodes,
      ...(subnetIndex === undefined ? {} : { client: { netns: machineNs(opts.name, CLIENT), address: clientAddress(subnetIndex) } }),
      vips: subnetIndex === undefined ? [] : [0, 1, 2, 3].map((k) => vipAddress(subnetIndex!, k)),
      nodeCommand,
      createdAt: new Date().toISOString(),
      ...(fakeClock === undefined ? {} : { fakeClock }),
    };
    for (const node of nodes) {
      for (const sub of ['data', 'rsctmp']) mkdirSync(join(node.dir, sub), { recursive: true });
      rmSync(join(node.dir, 'pid'), { force: true });
      // A new lab starts on true time (a directory used again may hold an old offset).
      if (fakeClock === undefined) rmSync(clockOffsetFile(node), { force: true });
      else writeFileSync(clockOffsetFile(node), '+0\n');
      writeFileSync(node.config, `${JSON.stringify(nodeConfig({ clusterName: opts.name, node, nodes, authkey, ...(cib === undefined ? {} : { cib }), ...(opts.messaging === undefined ? {} : { messaging: opts.messaging }) }), null, 2)}\n`);
      if (node.netns === undefined) rmSync(join(node.dir, 'netns'), { force: true });
      else writeFileSync(join(node.dir, 'netns'), `${node.netns}\n`);
      writeFileSync(join(node.dir, 'boot'), bootScript(state, node), { mode: 0o755 });
      chmodSync(join(node.dir, 'boot'), 0o755);
    }
    saveLab(state);
    for (const node of nodes) {
      const pid = await bootNode(state, node);
      progress(`${node.name}: started, pid ${pid}${node.netns ? ` in ${node.netns}` : ''}, ${node.address}`);
    }
    if (opts.settle ?? true) await waitSettled(nodes, { timeoutMs: opts.settleTimeoutMs ?? 60_000, progress });
    return state;
  } catch (err) {
    await labDown(dir, { name: opts.name }).catch(() => undefined);
    throw err;
  }
}

/** Pids of every process whose environment names this lab directory (PACELINE_LAB_DIR). */
export function labProcesses(dir: string): number[] {
  const marker = `PACELINE_LAB_DIR=${resolve(dir)}`;
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${e}/environ`, 'latin1').split('\0');
      if (env.includes(marker)) pids.push(Number(e));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}

export interface DownResult {
  readonly killed: number[];
  readonly namespaces: string[];
}

/**
 * Stops a lab: SIGKILL to every node's process group, to every process in its namespaces and
 * to every process carrying the lab's marker, then removes its namespaces. Idempotent; keeps
 * the directory (logs, configs) unless `purge`. Works without lab.json when `name` is given.
 */
export async function labDown(dirIn: string, opts: { name?: string; purge?: boolean } = {}): Promise<DownResult> {
  const dir = resolve(dirIn);
  let state: LabState | undefined;
  try {
    state = loadLab(dir);
  } catch {
    state = undefined;
  }
  if (state?.driver === 'ssh') {
    const r = await sshLabDown(state);
    // The control masters are gone; anything else of ours still here (found by its marker) too.
    for (const pid of labProcesses(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    if (opts.purge) rmSync(dir, { recursive: true, force: true });
    return r;
  }
  const name = state?.name ?? opts.name;
  if (name !== undefined) checkLabName(name);
  const killed = new Set<number>();
  const kill = (pid: number, group: boolean): void => {
    try {
      process.kill(group ? -pid : pid, 'SIGKILL');
      killed.add(pid);
    } catch {
      // Already gone.
    }
  };
  for (let round = 0; round < 20; round++) {
    for (const node of state?.nodes ?? []) {
      const pid = nodePid(node);
      if (pid !== undefined && alive(pid)) {
        kill(pid, true);
        kill(pid, false);
      }
    }
    for (const pid of labProcesses(dir)) kill(pid, false);
    if (name !== undefined) for (const ns of labNamespaces(name)) killNamespaceProcesses(ns);
    const left = labProcesses(dir).filter((p) => alive(p));
    if (left.length === 0 && (state?.nodes ?? []).every((n) => !alive(nodePid(n)))) break;
    await sleep(50);
  }
  for (const node of state?.nodes ?? []) {
    if (existsSync(node.dir)) {
      rmSync(join(node.dir, 'pid'), { force: true });
      markPower(node, 'off');
    }
  }
  const namespaces = name === undefined ? [] : netnsDown(name);
  if (opts.purge) rmSync(dir, { recursive: true, force: true });
  return { killed: [...killed], namespaces };
}

export interface NodeReport {
  readonly name: string;
  readonly pid?: number;
  readonly running: boolean;
  readonly netns?: string;
  readonly address: string;
  readonly power?: string;
  readonly api: StatusAnswer;
}

export interface LabReport {
  readonly state: LabState;
  readonly nodes: readonly NodeReport[];
}

/** The lab's nodes: process, power record, and each node's own API status. */
export async function labStatus(dir: string): Promise<LabReport> {
  const state = loadLab(dir);
  if (state.driver === 'ssh') return sshLabStatus(state);
  const nodes = await Promise.all(
    state.nodes.map(async (n): Promise<NodeReport> => {
      const pid = nodePid(n);
      const running = alive(pid);
      let power: string | undefined;
      try {
        power = readFileSync(join(n.dir, 'power'), 'utf8').trim();
      } catch {
        power = undefined;
      }
      const api: StatusAnswer = running ? await queryStatus(n.apiSocket) : { ok: false, error: 'not running' };
      return { name: n.name, ...(pid === undefined ? {} : { pid }), running, ...(n.netns ? { netns: n.netns } : {}), address: n.address, ...(power ? { power } : {}), api };
    }),
  );
  return { state, nodes };
}

/** Text for `paceline lab status`. */
export function formatLabStatus(r: LabReport): string {
  const s = r.state;
  const lines = [`lab ${s.name} (${s.driver}) in ${s.dir}${s.subnetIndex === undefined ? '' : `, subnet 10.77.${s.subnetIndex}.0/24`}`];
  if (s.client) lines.push(`  client: ${s.client.netns} ${s.client.address}; floating addresses ${s.vips.join(' ')}`);
  for (const n of r.nodes) {
    const api = n.api.ok ? describeStatus(n.api.status) : `api: ${n.api.error}`;
    lines.push(`  ${n.name}: ${n.running ? `running (pid ${n.pid})` : 'stopped'} ${n.address}${n.netns ? ` ${n.netns}` : ''}${n.power ? ` [power ${n.power}]` : ''}; ${api}`);
  }
  return `${lines.join('\n')}\n`;
}

function describeStatus(s: NodeStatus): string {
  const rs = (s.resources ?? []).map((r) => `${r.id}=${r.role}@${r.nodes.join(',') || '-'}${r.failed ? '!' : ''}`).join(' ');
  return `dc ${s.dc ?? 'none'}, ${s.quorate ? 'quorate' : 'not quorate'}, transition ${s.transition.state}, cib ${s.cibVersion}${rs ? `, ${rs}` : ''}`;
}

/** netns driver: the node whose eth0 has this MAC address (lower case), for the watcher's ARP samples. */
export function nodeByMac(state: LabState, mac: string): string | undefined {
  if (state.driver !== 'netns') return undefined;
  return state.nodes.find((n) => macOf(state.name, n.name) === mac.toLowerCase())?.name;
}

/** Finds a machine of the lab (a node name, or `client` with the netns driver). */
export function labMachine(state: LabState, machine: string): LabNode | 'client' {
  if (machine === CLIENT) {
    if (state.client === undefined) throw new Error(`lab ${state.name} has no client namespace (driver ${state.driver})`);
    return 'client';
  }
  const node = state.nodes.find((n) => n.name === machine || String(n.id) === machine);
  if (node === undefined) throw new Error(`lab ${state.name} has no node ${machine} (nodes: ${state.nodes.map((n) => n.name).join(' ')}, client)`);
  return node;
}

/**
 * Runs argv on a machine of the lab (in its namespace with the netns driver; with the node's
 * environment), with the caller's stdio; resolves to the exit code.
 */
export async function labExec(dir: string, machine: string, argv: readonly string[], opts: { stdio?: 'inherit' | 'pipe' } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  if (argv.length === 0) throw new Error('lab exec: no command');
  const state = loadLab(dir);
  if (state.driver === 'ssh') return sshLabExec(state, machine, argv, opts);
  const m = labMachine(state, machine);
  const ns = m === 'client' ? state.client!.netns : m.netns;
  // A node that is on: its machine's mount namespace too (the mounts its resources made).
  const holder = m === 'client' ? undefined : machinePid(m);
  const full =
    ns === undefined ? [...argv] : holder !== undefined ? ['nsenter', `--mount=/proc/${holder}/ns/mnt`, `--net=/run/netns/${ns}`, '--', ...argv] : ['ip', 'netns', 'exec', ns, ...argv];
  const env = {
    ...process.env,
    PACELINE_LAB_DIR: state.dir,
    ...(m === 'client' ? {} : { PACELINE_LAB_NODE: m.name, HA_RSCTMP: join(m.dir, 'rsctmp'), ...(state.fakeClock === undefined ? {} : fakeClockEnv(state.fakeClock, m)) }),
  };
  const stdio = opts.stdio ?? 'inherit';
  const child = spawn(full[0]!, full.slice(1), { stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((res) => {
    child.once('error', (e) => {
      stderr += e.message;
      res(127);
    });
    child.once('close', (c, sig) => res(c ?? (sig ? 128 : 1)));
  });
  return { code, stdout, stderr };
}

