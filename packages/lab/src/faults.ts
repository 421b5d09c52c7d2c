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
 */
import { alive, bootNode, labMachine, loadLab, markPower, nodePid, sleep, type LabNode, type LabState } from './lab.js';
import * as net from './netns.js';

export type FaultName = 'power-off' | 'power-on' | 'daemon-crash' | 'daemon-start' | 'freeze' | 'thaw' | 'link-down' | 'link-up' | 'partition' | 'heal';

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
