/**
 * Fault verbs on a running lab. Each returns the wall-clock millisecond at which the fault took
 * effect (the moment to measure a failover from).
 *
 *   powerOff     every process of the node dies (SIGKILL to its process group and to every
 *                process in its namespace, until the main process is gone) and its links go down
 *                on the node side, as fence_lab's "off" does
 *   powerOn      links up on the node side, then the boot script; waits for a live pid
 *   daemonCrash  SIGKILL to the node's main process only: resources it started keep running
 *   daemonStart  runs the boot script again (after daemonCrash), links untouched
 *   freeze/thaw  SIGSTOP / SIGCONT to the node's main process (a hung daemon)
 *   linkDown/Up  the node's cable at the switch (netns driver)
 *   partition    groups of nodes that cannot reach each other (netns driver); heal undoes it
 *   gracefulStop SIGTERM to the node's main process: it leaves the cluster in order (resources
 *                moved away first); resolves once it exited. Undo: daemonStart
 *   linkFlap     the node's cable out and in again `count` times (down `downMs`, up `upMs`)
 *   netLoss      N % of the node's messaging datagrams (in and out, UDP port 5405) dropped at
 *                random by nftables in the node's namespace. Undo: netLossClear
 *   netDelay     the node's outgoing messaging datagrams delayed by D ± J ms: nftables DNAT in
 *                the node's namespace sends them to a userspace relay (bin/udp-relay.mjs) on
 *                the node's own address, which forwards each to its peer after the delay. The
 *                kernel here has no sch_netem (tc qdisc netem: "Specified qdisc kind is
 *                unknown"), hence the relay. Undo: netDelayClear
 *   rscFail      a resource fails on a node: ocf:paceline:Dummy's state file is removed (the
 *                service stopped on its own), or with mode monitor its monitor fails (rc 1)
 *                until undone. Undo: rscRepair (removes the knob, cleans the resource up)
 *   fsReadOnly   a Filesystem resource's mount point remounted read-only in the node's mount
 *                namespace. Undo: fsWritable
 *   fsFill       a file written into a mount point until the filesystem is full. Undo: fsUnfill
 *
 *   clockJump    the node's wall clock jumps by an offset (+1h, -10m, +30s; offsets add up),
 *                its monotonic clock does not: what an NTP step or an operator's `date -s` does
 *                to a machine. Undo: clockReset (back to true time)
 *
 * The clock jump needs a lab whose nodes run under libfaketime (LabState.fakeClock; netns and
 * local drivers, on by default when the faketime package is installed). A network namespace
 * shares CLOCK_REALTIME with the host, and a time namespace virtualises only CLOCK_MONOTONIC and
 * CLOCK_BOOTTIME, so the lab preloads libfaketime into every process of a node (the daemon and
 * its agents, `lab exec`): the wall clock (clock_gettime(CLOCK_REALTIME), time, gettimeofday) is
 * shifted by the seconds in nodes/NODE/clock-offset, read again at every new second; the
 * monotonic clocks are left alone (FAKETIME_DONT_FAKE_MONOTONIC), so timers keep their pace. The
 * ssh driver refuses it: a host's clock is the host's (`date -s` would move every process there).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '@paceline/controller';
import { alive, bootNode, clockOffsetFile, labMachine, loadLab, markPower, MESSAGING_PORT, nodePid, repoRoot, sleep, type LabNode, type LabState } from './lab.js';
import * as net from './netns.js';

export type FaultName =
  | 'power-off'
  | 'power-on'
  | 'daemon-crash'
  | 'daemon-start'
  | 'graceful-stop'
  | 'freeze'
  | 'thaw'
  | 'link-down'
  | 'link-up'
  | 'link-flap'
  | 'partition'
  | 'heal'
  | 'net-loss'
  | 'net-loss-clear'
  | 'net-delay'
  | 'net-delay-clear'
  | 'rsc-fail'
  | 'rsc-repair'
  | 'fs-readonly'
  | 'fs-writable'
  | 'fs-fill'
  | 'fs-unfill'
  | 'clock-jump'
  | 'clock-reset';

function node(state: LabState, name: string): LabNode {
  const m = labMachine(state, name);
  if (m === 'client') throw new Error('faults apply to nodes, not to the client');
  return m;
}

function needNetns(state: LabState, what: string): void {
  if (state.driver !== 'netns') throw new Error(`${what} needs the netns driver (this lab uses ${state.driver})`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Gone already.
  }
}

/** Loads the lab once and binds the verbs to it. */
export function faults(dir: string) {
  const state = loadLab(dir);
  return {
    state,
    powerOff: (n: string) => powerOff(state, n),
    powerOn: (n: string) => powerOn(state, n),
    daemonCrash: (n: string) => daemonCrash(state, n),
    daemonStart: (n: string) => daemonStart(state, n),
    freeze: (n: string) => freeze(state, n),
    thaw: (n: string) => thaw(state, n),
    linkDown: (n: string) => linkDown(state, n),
    linkUp: (n: string) => linkUp(state, n),
    partition: (groups: readonly (readonly string[])[]) => partition(state, groups),
    heal: () => heal(state),
    gracefulStop: (n: string, timeoutMs?: number) => gracefulStop(state, n, timeoutMs),
    linkFlap: (n: string, o?: LinkFlapOptions) => linkFlap(state, n, o),
    netLoss: (n: string, percent: number) => netLoss(state, n, percent),
    netLossClear: (n: string) => netLossClear(state, n),
    netDelay: (n: string, delayMs: number, jitterMs?: number) => netDelay(state, n, delayMs, jitterMs),
    netDelayClear: (n: string) => netDelayClear(state, n),
    rscFail: (n: string, rsc: string, mode?: RscFailMode) => rscFail(state, n, rsc, mode),
    rscRepair: (n: string, rsc: string) => rscRepair(state, n, rsc),
    fsReadOnly: (n: string, dir: string) => fsReadOnly(state, n, dir),
    fsWritable: (n: string, dir: string) => fsWritable(state, n, dir),
    fsFill: (n: string, dir: string) => fsFill(state, n, dir),
    fsUnfill: (n: string, dir: string) => fsUnfill(state, n, dir),
    clockJump: (n: string, offset: string | number) => clockJump(state, n, offset),
    clockReset: (n: string) => clockReset(state, n),
    clockOffset: (n: string) => clockOffset(state, n),
  };
}

/** Power loss: links down, SIGKILL to everything of the node until its main process is gone. */
export async function powerOff(state: LabState, name: string, timeoutMs = 10_000): Promise<number> {
  const n = node(state, name);
  const at = Date.now();
  if (n.netns !== undefined) net.setMachineLinks(state.name, name, 'down');
  const end = at + timeoutMs;
  for (;;) {
    const pid = nodePid(n);
    if (pid !== undefined) {
      signal(-pid, 'SIGKILL');
      signal(pid, 'SIGKILL');
    }
    if (n.netns !== undefined) net.killNamespaceProcesses(n.netns);
    if (!alive(pid)) break;
    if (Date.now() > end) throw new Error(`${name} still runs ${timeoutMs} ms after SIGKILL`);
    await sleep(10);
  }
  if (n.netns !== undefined) {
    net.killNamespaceProcesses(n.netns);
    clearRuntimeAddresses(n);
  }
  markPower(n, 'off');
  return at;
}

/**
 * A power loss loses the addresses added at run time (floating IPs): flush them now, keeping the
 * node its own address, so that whoever brings the links up again (powerOn, or fence_lab's
 * reboot, which sets the links up before the boot script runs) never exposes a stale floating IP.
 */
function clearRuntimeAddresses(n: LabNode): void {
  const host = n.address.slice(0, n.address.lastIndexOf(':'));
  net.run(['ip', '-n', n.netns!, 'addr', 'flush', 'dev', net.LAB_IFACE, 'scope', 'global']);
  net.run(['ip', '-n', n.netns!, 'addr', 'add', `${host}/24`, 'dev', net.LAB_IFACE]);
}

/** Power on: links up (node side), boot; resolves once the new main process lives. */
export async function powerOn(state: LabState, name: string): Promise<number> {
  const n = node(state, name);
  const at = Date.now();
  if (alive(nodePid(n))) throw new Error(`${name} is on already`);
  if (n.netns !== undefined) net.setMachineLinks(state.name, name, 'up');
  await bootNode(state, n);
  return at;
}

/** SIGKILL to the node's main process (the daemon) only. */
export function daemonCrash(state: LabState, name: string): number {
  const n = node(state, name);
  const pid = nodePid(n);
  if (!alive(pid)) throw new Error(`${name} is not running`);
  const at = Date.now();
  signal(pid!, 'SIGKILL');
  return at;
}

/** Starts the node's daemon again (boot script); the node's links stay as they are. */
export async function daemonStart(state: LabState, name: string): Promise<number> {
  const n = node(state, name);
  if (alive(nodePid(n))) throw new Error(`${name} is running already`);
  const at = Date.now();
  await bootNode(state, n);
  return at;
}

/** SIGSTOP to the node's main process. */
export function freeze(state: LabState, name: string): number {
  const pid = nodePid(node(state, name));
  if (!alive(pid)) throw new Error(`${name} is not running`);
  const at = Date.now();
  signal(pid!, 'SIGSTOP');
  return at;
}

/** SIGCONT to the node's main process. */
export function thaw(state: LabState, name: string): number {
  const pid = nodePid(node(state, name));
  if (pid === undefined) throw new Error(`${name} has no pid file`);
  const at = Date.now();
  signal(pid, 'SIGCONT');
  return at;
}

export function linkDown(state: LabState, name: string): number {
  needNetns(state, 'link-down');
  node(state, name);
  const at = Date.now();
  net.linkDown(state.name, name);
  return at;
}

export function linkUp(state: LabState, name: string): number {
  needNetns(state, 'link-up');
  node(state, name);
  const at = Date.now();
  net.linkUp(state.name, name);
  return at;
}

export function partition(state: LabState, groups: readonly (readonly string[])[]): number {
  needNetns(state, 'partition');
  const at = Date.now();
  net.partition(
    state.name,
    groups,
    state.nodes.map((n) => n.name),
  );
  return at;
}

export function heal(state: LabState): number {
  needNetns(state, 'heal');
  const at = Date.now();
  net.heal(state.name);
  return at;
}

/**
 * SIGTERM to the node's main process: the daemon asks the cluster to shut it down (resources
 * move away first) and exits. Resolves with the moment of the signal once the process is gone;
 * throws when it still runs after `timeoutMs` (the process is left running: a stuck shutdown is
 * the finding, not something to hide with a SIGKILL).
 */
export async function gracefulStop(state: LabState, name: string, timeoutMs = 60_000): Promise<number> {
  const n = node(state, name);
  const pid = nodePid(n);
  if (!alive(pid)) throw new Error(`${name} is not running`);
  const at = Date.now();
  signal(pid!, 'SIGTERM');
  while (alive(pid)) {
    if (Date.now() - at > timeoutMs) throw new Error(`${name} (pid ${pid}) still runs ${timeoutMs} ms after SIGTERM`);
    await sleep(50);
  }
  return at;
}

export interface LinkFlapOptions {
  /** Times the cable goes out and in (default 3). */
  readonly count?: number;
  /** How long it stays out each time (default 500 ms). */
  readonly downMs?: number;
  /** How long it stays in between two outages (default 500 ms). */
  readonly upMs?: number;
}

/** The node's cable out and in again, `count` times; returns the first outage's moment. The link is up afterwards. */
export async function linkFlap(state: LabState, name: string, o: LinkFlapOptions = {}): Promise<number> {
  const count = o.count ?? 3;
  if (!Number.isInteger(count) || count < 1) throw new Error(`link-flap: count must be a positive whole number, not ${count}`);
  let first = 0;
  try {
    for (let i = 0; i < count; i++) {
      const at = linkDown(state, name);
      if (i === 0) first = at;
      await sleep(o.downMs ?? 500);
      linkUp(state, name);
      if (i < count - 1) await sleep(o.upMs ?? 500);
    }
  } finally {
    net.linkUp(state.name, name);
  }
  return first;
}

/** nftables tables the faults add in a node's namespace. */
export const LOSS_TABLE = 'paceline_loss';
export const DELAY_TABLE = 'paceline_delay';
/** The delay relay listens on the node's own address, at RELAY_PORT_BASE + the peer's id. */
export const RELAY_PORT_BASE = 16000;

function nodeNetns(state: LabState, name: string, what: string): LabNode & { netns: string } {
  needNetns(state, what);
  const n = node(state, name);
  if (n.netns === undefined) throw new Error(`${name} has no namespace`);
  return n as LabNode & { netns: string };
}

const hostOf = (address: string): string => address.slice(0, address.lastIndexOf(':'));

function nftIn(ns: string, script: string): void {
  net.must(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], script);
}

function dropTable(ns: string, family: string, table: string): boolean {
  return net.run(['ip', 'netns', 'exec', ns, 'nft', 'delete', 'table', family, table]).status === 0;
}

/** The nftables script of netLoss (exported for tests): drops N % of messaging datagrams both ways. */
export function lossRules(percent: number, port = MESSAGING_PORT): string {
  if (!Number.isInteger(percent) || percent < 0 || percent > 100) throw new Error(`loss must be a whole percentage 0..100, not ${percent}`);
  return [
    `table inet ${LOSS_TABLE} {`,
    '  chain in {',
    '    type filter hook input priority 0;',
    `    udp dport ${port} numgen random mod 100 < ${percent} counter drop`,
    '  }',
    '  chain out {',
    '    type filter hook output priority 0;',
    `    udp dport ${port} numgen random mod 100 < ${percent} counter drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Drops `percent` % of the node's messaging datagrams, in and out (replaces an earlier loss). */
export function netLoss(state: LabState, name: string, percent: number): number {
  const n = nodeNetns(state, name, 'net-loss');
  const script = lossRules(percent);
  dropTable(n.netns, 'inet', LOSS_TABLE);
  const at = Date.now();
  nftIn(n.netns, script);
  return at;
}

/** Removes netLoss's table; throws when there was none. */
export function netLossClear(state: LabState, name: string): number {
  const n = nodeNetns(state, name, 'net-loss-clear');
  const at = Date.now();
  if (!dropTable(n.netns, 'inet', LOSS_TABLE)) throw new Error(`${name} has no packet loss to clear`);
  return at;
}

/** A peer the delay relay forwards to: its relay port on this node, and its messaging address. */
export interface DelayRoute {
  readonly port: number;
  readonly peerHost: string;
  readonly peerPort: number;
}

/** The relay's routes for a node: one per other node. */
export function delayRoutes(state: Pick<LabState, 'nodes'>, name: string): DelayRoute[] {
  return state.nodes
    .filter((p) => p.name !== name)
    .map((p) => ({ port: RELAY_PORT_BASE + p.id, peerHost: hostOf(p.address), peerPort: Number(p.address.slice(p.address.lastIndexOf(':') + 1)) }));
}

/**
 * The nftables script of netDelay (exported for tests). Outgoing datagrams from the node's
 * messaging port to a peer's are DNATed to the relay's port for that peer; the relay's own
 * datagrams leave from another port and pass. Incoming messaging datagrams are not tracked, so
 * that a peer's datagram never clashes with the translated flow in conntrack.
 */
export function delayRules(self: string, routes: readonly DelayRoute[], port = MESSAGING_PORT): string {
  return [
    `table ip ${DELAY_TABLE} {`,
    '  chain raw_in {',
    '    type filter hook prerouting priority -300;',
    `    udp dport ${port} notrack`,
    '  }',
    '  chain out {',
    '    type nat hook output priority -100;',
    ...routes.map((r) => `    ip daddr ${r.peerHost} udp sport ${port} udp dport ${r.peerPort} counter dnat to ${self}:${r.port}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

const relayPidFile = (n: LabNode): string => join(n.dir, 'relay.pid');

/**
 * Delays the node's outgoing messaging datagrams by `delayMs` ± `jitterMs` (uniform), through
 * a relay in its namespace. Replaces an earlier delay. The relay dies with the node's power; a
 * node powered on again with the rules still in place reaches nobody: undo with netDelayClear.
 */
export async function netDelay(state: LabState, name: string, delayMs: number, jitterMs = 0): Promise<number> {
  const n = nodeNetns(state, name, 'net-delay');
  if (!(Number.isFinite(delayMs) && delayMs >= 0 && Number.isFinite(jitterMs) && jitterMs >= 0)) throw new Error(`delay and jitter must be milliseconds >= 0 (got ${delayMs}, ${jitterMs})`);
  stopRelay(n);
  dropTable(n.netns, 'ip', DELAY_TABLE);
  const self = hostOf(n.address);
  const routes = delayRoutes(state, name);
  const logPath = join(n.dir, 'relay.log');
  writeFileSync(logPath, '');
  const out = openSync(logPath, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', n.netns, process.execPath, join(repoRoot, 'packages/lab/bin/udp-relay.mjs'), self, ...routes.map((r) => `${r.port}=${r.peerHost}:${r.peerPort}`)], {
      detached: true,
      stdio: ['ignore', out, out],
      env: { ...process.env, PACELINE_LAB_DIR: state.dir, LOSS: '0', DELAY_MIN_MS: String(Math.max(0, delayMs - jitterMs)), DELAY_MAX_MS: String(delayMs + jitterMs) },
    });
    child.unref();
    writeFileSync(relayPidFile(n), `${child.pid}\n`);
  } finally {
    closeSync(out);
  }
  const end = Date.now() + 10_000;
  while (!/^ready$/m.test(readFileSync(logPath, 'utf8'))) {
    if (Date.now() > end) {
      stopRelay(n);
      throw new Error(`${name}: the delay relay did not start: ${readFileSync(logPath, 'utf8').trim() || 'no output'}`);
    }
    await sleep(20);
  }
  const at = Date.now();
  nftIn(n.netns, delayRules(self, routes));
  return at;
}

function stopRelay(n: LabNode): boolean {
  const p = relayPidFile(n);
  if (!existsSync(p)) return false;
  const pid = Number(readFileSync(p, 'utf8').trim());
  rmSync(p, { force: true });
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    signal(pid, 'SIGTERM');
    return true;
  }
  return false;
}

/** Removes netDelay's rules, then stops its relay; throws when there was no delay. */
export function netDelayClear(state: LabState, name: string): number {
  const n = nodeNetns(state, name, 'net-delay-clear');
  const at = Date.now();
  const had = dropTable(n.netns, 'ip', DELAY_TABLE);
  const relay = stopRelay(n);
  if (!had && !relay) throw new Error(`${name} has no delay to clear`);
  return at;
}

export type RscFailMode = 'stop' | 'monitor';

/** The state file of an ocf:paceline:Dummy resource on a node (its default `state` parameter). */
export function dummyStateFile(n: Pick<LabNode, 'dir'>, rsc: string): string {
  return join(n.dir, 'rsctmp', `paceline-Dummy-${rsc}.state`);
}

/**
 * A resource fails on a node (ocf:paceline:Dummy with its default state file): mode `stop`
 * removes the state file (the service stopped by itself: the next monitor says not running);
 * mode `monitor` makes every monitor fail with rc 1 until rscRepair. Throws when the resource
 * is not active there.
 */
export function rscFail(state: LabState, name: string, rsc: string, mode: RscFailMode = 'stop'): number {
  const n = node(state, name);
  if (!/^[A-Za-z0-9_.:-]+$/.test(rsc)) throw new Error(`bad resource id '${rsc}'`);
  const file = dummyStateFile(n, rsc);
  if (!existsSync(file)) throw new Error(`${rsc} is not active on ${name} (no Dummy state file ${file})`);
  const at = Date.now();
  if (mode === 'stop') rmSync(file);
  else if (mode === 'monitor') writeFileSync(`${file}.fail-monitor`, '1 keep\n');
  else throw new Error(`unknown rsc-fail mode '${String(mode)}' (stop, monitor)`);
  return at;
}

/**
 * Undoes rscFail: removes the failure knob, then asks a node's API (the node's own, else any
 * other running one) to clean the resource up on that node. A cleanup refused while the
 * membership changes (a fault elsewhere) is tried again, for up to `timeoutMs`.
 */
export async function rscRepair(state: LabState, name: string, rsc: string, timeoutMs = 20_000): Promise<number> {
  const n = node(state, name);
  const at = Date.now();
  rmSync(`${dummyStateFile(n, rsc)}.fail-monitor`, { force: true });
  const end = at + timeoutMs;
  for (;;) {
    let last: Error | undefined;
    for (const m of [n, ...state.nodes.filter((x) => x !== n)]) {
      if (!alive(nodePid(m))) continue;
      try {
        const api = await ApiClient.connect({ socket: m.apiSocket }, { timeoutMs: 5000 });
        try {
          await api.request('resource.cleanup', { rsc, node: name }, { timeoutMs: 10_000 });
          return at;
        } finally {
          await Promise.resolve(api.close()).catch(() => undefined);
        }
      } catch (e) {
        last = e as Error;
      }
    }
    if (Date.now() > end) throw new Error(`cleanup of ${rsc} on ${name}: ${last?.message ?? 'no node running'}`);
    await sleep(500);
  }
}

/** Runs a shell snippet in the node's mount namespace (netns driver: the daemon's; local: the host's). */
function inMountNs(state: LabState, name: string, script: string, args: readonly string[]): net.CmdResult {
  const n = node(state, name);
  if (n.netns === undefined) return net.run(['sh', '-c', script, 'sh', ...args]);
  const pid = nodePid(n);
  if (!alive(pid)) throw new Error(`${name} is not running (its mount namespace lives with its daemon)`);
  return net.run(['nsenter', '-t', String(pid), '-m', 'sh', '-c', script, 'sh', ...args]);
}

function checkDir(dir: string): void {
  if (!dir.startsWith('/') || dir.includes('\n')) throw new Error(`the mount point must be an absolute path, not '${dir}'`);
}

function fsDo(state: LabState, name: string, dir: string, script: string, what: string): number {
  checkDir(dir);
  const at = Date.now();
  const r = inMountNs(state, name, script, [dir]);
  if (r.status !== 0) throw new Error(`${what} ${dir} on ${name}: ${r.stderr.trim() || `exit ${r.status}`}`);
  return at;
}

const MOUNTED = 'mountpoint -q "$1" || { echo "$1 is not a mount point" >&2; exit 1; }; ';

/** Remounts the filesystem mounted at `dir` read-only, in the node's mount namespace. */
export function fsReadOnly(state: LabState, name: string, dir: string): number {
  return fsDo(state, name, dir, `${MOUNTED}mount -o remount,ro "$1"`, 'fs-readonly');
}

/** Undoes fsReadOnly. */
export function fsWritable(state: LabState, name: string, dir: string): number {
  return fsDo(state, name, dir, `${MOUNTED}mount -o remount,rw "$1"`, 'fs-writable');
}

/** The file fsFill writes (removed by fsUnfill). */
export const FILL_FILE = '.paceline-lab-fill';

/** Writes FILL_FILE into the filesystem at `dir` until it is full (ENOSPC expected). */
export function fsFill(state: LabState, name: string, dir: string): number {
  return fsDo(state, name, dir, `${MOUNTED}cat /dev/zero > "$1/${FILL_FILE}" 2>/dev/null; [ -s "$1/${FILL_FILE}" ] || { echo "nothing written" >&2; exit 1; }; dd if=/dev/zero of="$1/${FILL_FILE}.2" bs=4k count=1 2>/dev/null && { echo "the filesystem is not full" >&2; exit 1; }; exit 0`, 'fs-fill');
}

/** Undoes fsFill. */
export function fsUnfill(state: LabState, name: string, dir: string): number {
  return fsDo(state, name, dir, `rm -f "$1/${FILL_FILE}" "$1/${FILL_FILE}.2"`, 'fs-unfill');
}

/** The largest clock jump the lab makes (a year either way). */
export const MAX_CLOCK_JUMP_S = 366 * 86_400;

const UNIT_S: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/**
 * A clock offset as the fault verb takes it: a sign, a whole number and an optional unit s, m, h
 * or d (seconds when none): `+1h`, `-10m`, `+30s`, `-90`. Returns signed seconds; throws a clear
 * error on anything else, on zero, and beyond MAX_CLOCK_JUMP_S.
 */
export function parseClockOffset(text: string): number {
  const m = /^([+-])(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (m === null) throw new Error(`bad clock offset '${text}': a sign, a whole number and an optional unit s, m, h or d (+1h, -10m, +30s)`);
  const seconds = Number(m[2]) * UNIT_S[m[3] || 's']!;
  if (seconds === 0) throw new Error(`clock offset '${text}' is zero: nothing would jump`);
  if (seconds > MAX_CLOCK_JUMP_S) throw new Error(`clock offset '${text}' is more than ${MAX_CLOCK_JUMP_S / 86_400} days`);
  return m[1] === '-' ? -seconds : seconds;
}

/** An offset in seconds as a short text: +3600 → "+1h", -600 → "-10m", 90 → "+90s". */
export function formatClockOffset(seconds: number): string {
  const sign = seconds < 0 ? '-' : '+';
  const a = Math.abs(seconds);
  for (const u of ['d', 'h', 'm'] as const) if (a >= UNIT_S[u]! && a % UNIT_S[u]! === 0) return `${sign}${a / UNIT_S[u]!}${u}`;
  return `${sign}${a}s`;
}

/** The content of an offset file ("+3600", "-600", "+0"); throws on anything else. */
export function parseOffsetFile(text: string): number {
  const m = /^\s*([+-]?\d+)\s*$/.exec(text);
  if (m === null) throw new Error(`not a clock offset file: '${text.trim()}'`);
  return Number(m[1]);
}

/** A node of a fake-clocked lab (netns or local driver); clear errors otherwise. */
function fakeClockNode(state: LabState, name: string, what: string): LabNode {
  if (state.driver === 'ssh') throw new Error(`${what}: the ssh driver's hosts keep real clocks (a host's clock is the host's; \`date -s\` would move every process there)`);
  const n = node(state, name);
  if (state.fakeClock === undefined) throw new Error(`${what}: lab ${state.name} runs real clocks; bring it up with libfaketime (apt-get install faketime, then \`paceline lab up --fake-clock\`)`);
  return n;
}

/** The node's current clock offset in seconds (0 when none was set). */
export function clockOffset(state: LabState, name: string): number {
  const n = fakeClockNode(state, name, 'clock offset');
  let text: string;
  try {
    text = readFileSync(clockOffsetFile(n), 'utf8');
  } catch {
    return 0;
  }
  return parseOffsetFile(text);
}

/** Grace for the nodes' libfaketime to read the offset file again (it does at every new second). */
const CLOCK_TAKES_EFFECT_MS = 1100;

async function setClockOffset(state: LabState, n: LabNode, seconds: number): Promise<number> {
  const p = clockOffsetFile(n);
  writeFileSync(`${p}.tmp`, `${seconds < 0 ? '' : '+'}${seconds}\n`);
  const at = Date.now();
  renameSync(`${p}.tmp`, p);
  await sleep(CLOCK_TAKES_EFFECT_MS);
  return at;
}

/**
 * The node's wall clock jumps by `offset` (parseClockOffset text, or signed seconds), on top of
 * any earlier jump; the monotonic clock does not move. Works whether the node is on or off (an
 * off node boots with the offset). Resolves with the moment of the jump, once every process of
 * the node sees it (a little over a second later).
 */
export async function clockJump(state: LabState, name: string, offset: string | number): Promise<number> {
  const delta = typeof offset === 'number' ? offset : parseClockOffset(offset);
  if (!Number.isInteger(delta) || delta === 0) throw new Error(`clock jump must be a whole number of seconds other than 0, not ${delta}`);
  const n = fakeClockNode(state, name, 'clock-jump');
  const now = clockOffset(state, name);
  const next = now + delta;
  if (Math.abs(next) > MAX_CLOCK_JUMP_S) throw new Error(`clock-jump: ${name} would be ${formatClockOffset(next)} off true time (at most ${MAX_CLOCK_JUMP_S / 86_400} days)`);
  return setClockOffset(state, n, next);
}

/** The node's wall clock back to true time (a jump by minus its offset); throws when it is on true time already. */
export async function clockReset(state: LabState, name: string): Promise<number> {
  const n = fakeClockNode(state, name, 'clock-reset');
  if (clockOffset(state, name) === 0) throw new Error(`${name}'s clock is on true time already`);
  return setClockOffset(state, n, 0);
}
