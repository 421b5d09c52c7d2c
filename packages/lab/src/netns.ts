/**
 * The network of a lab on one machine: network namespaces joined by a bridge.
 *
 * Layout for a lab named LAB with subnet index X (10.77.X.0/24):
 *   pl-LAB-sw       the "switch": holds the bridge plbr-LAB and one port per machine (p-n1.., p-client)
 *   pl-LAB-n1..nN   one per node: lo up, eth0 (veth into the switch) with 10.77.X.(10+i)/24
 *   pl-LAB-client   a client on the same bridge: eth0 with 10.77.X.2/24
 * Floating addresses of the lab are 10.77.X.100 and up (`vipAddress`). Nothing is created in the
 * root namespace (veth pairs are made directly between the switch and the node namespaces), so
 * no traffic leaves the lab, and two labs with different names and indexes coexist.
 *
 * Link control: `linkDown`/`linkUp` take the switch side of a node's cable down or up (the node
 * sees NO-CARRIER, as when a cable is pulled); `partition` installs an nftables `bridge` table in
 * the switch namespace that drops frames between ports of different groups (the client keeps
 * reaching every group, so it can see a split brain); `heal` removes that table.
 *
 * `netnsDown` removes every namespace whose name starts with `pl-LAB-`, so it also cleans up
 * after a crash that lost the lab's state file; it is idempotent.
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** Lab names: short, lower-case, no dashes (so one lab's prefix is never another's). */
export const LAB_NAME_RE = /^[a-z][a-z0-9]{0,7}$/;
/** Node (machine) names inside a lab: nodeN. */
export const NODE_NAME_RE = /^node[1-9][0-9]?$/;
export const CLIENT = 'client';
export const SUBNET_PREFIX = '10.77';
/** The node-side interface in every namespace. */
export const LAB_IFACE = 'eth0';
export const PARTITION_TABLE = 'paceline_lab';

export function checkLabName(name: string): void {
  if (!LAB_NAME_RE.test(name)) throw new Error(`bad lab name '${name}': 1 to 8 characters, a lower-case letter then letters or digits`);
}

/** Prefix of every namespace of the lab. */
export const nsPrefix = (lab: string): string => `pl-${lab}-`;
export const switchNs = (lab: string): string => `pl-${lab}-sw`;
export const clientNs = (lab: string): string => `pl-${lab}-client`;
/** Namespace of a machine: `node3` -> `pl-LAB-n3`; `client` -> `pl-LAB-client`. */
export function machineNs(lab: string, machine: string): string {
  if (machine === CLIENT) return clientNs(lab);
  return `pl-${lab}-n${nodeIndex(machine)}`;
}
export const bridgeName = (lab: string): string => `plbr-${lab}`;
/** Name of a machine's port on the bridge (in the switch namespace). */
export function portName(machine: string): string {
  return machine === CLIENT ? 'p-client' : `p-n${nodeIndex(machine)}`;
}

export function nodeIndex(node: string): number {
  const m = /^node([1-9][0-9]?)$/.exec(node);
  if (m === null) throw new Error(`bad node name '${node}': expected node1, node2, ...`);
  return Number(m[1]);
}

export const subnet = (index: number): string => `${SUBNET_PREFIX}.${index}`;
export const nodeAddress = (index: number, node: string): string => `${subnet(index)}.${10 + nodeIndex(node)}`;
export const clientAddress = (index: number): string => `${subnet(index)}.2`;
/** The k-th floating address of the lab (k from 0): 10.77.X.(100+k). */
export const vipAddress = (index: number, k = 0): string => `${subnet(index)}.${100 + k}`;

export interface CmdResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command and returns its status and output; never throws for a non-zero exit. */
export function run(argv: readonly string[], input?: string): CmdResult {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (r.error) return { status: 127, stdout: '', stderr: r.error.message };
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command, throwing an error naming it and its stderr when it fails. */
export function must(argv: readonly string[], input?: string): string {
  const r = run(argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Every network namespace on the machine. */
export function listNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n !== '');
}

/** The namespaces of a lab (by name prefix), whether or not its state file survives. */
export function labNamespaces(lab: string): string[] {
  checkLabName(lab);
  return listNamespaces().filter((n) => n.startsWith(nsPrefix(lab)));
}

/** Subnet indexes in use by labs on this machine (read from every lab client's address). */
export function usedSubnetIndexes(): Set<number> {
  const used = new Set<number>();
  for (const ns of listNamespaces()) {
    if (!/^pl-[a-z0-9]+-client$/.test(ns)) continue;
    const out = run(['ip', '-n', ns, '-4', '-o', 'addr', 'show', 'dev', LAB_IFACE]).stdout;
    for (const m of out.matchAll(/inet 10\.77\.(\d+)\./g)) used.add(Number(m[1]));
  }
  return used;
}

/** The lowest subnet index (0..254) no running lab uses. */
export function pickSubnetIndex(): number {
  const used = usedSubnetIndexes();
  for (let i = 0; i < 255; i++) if (!used.has(i)) return i;
  throw new Error('every lab subnet 10.77.0-254.0/24 is in use');
}

export interface NetnsSpec {
  readonly lab: string;
  readonly index: number;
  /** Node names: node1..nodeN. */
  readonly nodes: readonly string[];
}

/** Creates the lab's namespaces, bridge and cables; on failure removes what it made and throws. */
export function netnsUp(spec: NetnsSpec): void {
  checkLabName(spec.lab);
  if (!Number.isInteger(spec.index) || spec.index < 0 || spec.index > 254) throw new Error(`bad subnet index ${spec.index}: 0..254`);
  const left = labNamespaces(spec.lab);
  if (left.length > 0) throw new Error(`lab ${spec.lab} already has namespaces (${left.join(' ')}); run \`paceline lab down\` first`);
  try {
    const sw = switchNs(spec.lab);
    const br = bridgeName(spec.lab);
    must(['ip', 'netns', 'add', sw]);
    must(['ip', '-n', sw, 'link', 'set', 'lo', 'up']);
    must(['ip', '-n', sw, 'link', 'add', br, 'type', 'bridge', 'mcast_snooping', '0', 'forward_delay', '0']);
    must(['ip', '-n', sw, 'link', 'set', br, 'up']);
    for (const node of spec.nodes) plugMachine(spec.lab, node, `${nodeAddress(spec.index, node)}/24`);
    plugMachine(spec.lab, CLIENT, `${clientAddress(spec.index)}/24`);
  } catch (err) {
    netnsDown(spec.lab);
    throw err;
  }
}

/** One machine: its namespace, lo up, a veth from the switch (port) to the machine (eth0). */
function plugMachine(lab: string, machine: string, cidr: string): void {
  const ns = machineNs(lab, machine);
  const sw = switchNs(lab);
  const port = portName(machine);
  must(['ip', 'netns', 'add', ns]);
  must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  must(['ip', '-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', LAB_IFACE, 'netns', ns]);
  must(['ip', '-n', sw, 'link', 'set', port, 'master', bridgeName(lab)]);
  must(['ip', '-n', sw, 'link', 'set', port, 'up']);
  must(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', LAB_IFACE]);
  must(['ip', '-n', ns, 'link', 'set', LAB_IFACE, 'up']);
}

/**
 * Removes every namespace of the lab (found by name prefix), killing the processes still in
 * them first. Returns the namespaces removed; removing a lab that is gone returns [].
 */
export function netnsDown(lab: string): string[] {
  const gone: string[] = [];
  for (const ns of labNamespaces(lab)) {
    killNamespaceProcesses(ns);
    const r = run(['ip', 'netns', 'del', ns]);
    if (r.status !== 0 && listNamespaces().includes(ns)) throw new Error(`cannot remove namespace ${ns}: ${r.stderr.trim()}`);
    gone.push(ns);
  }
  return gone;
}

/** Pids of the processes in a namespace. */
export function namespacePids(ns: string): number[] {
  return run(['ip', 'netns', 'pids', ns])
    .stdout.split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/** SIGKILL to every process in the namespace. */
export function killNamespaceProcesses(ns: string): void {
  for (const pid of namespacePids(ns)) {
    if (pid === process.pid) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
}

/** Unplugs a machine's cable at the switch: its port goes down, the machine sees no carrier. */
export function linkDown(lab: string, machine: string): void {
  must(['ip', '-n', switchNs(lab), 'link', 'set', portName(machine), 'down']);
}

/** Plugs a machine's cable back in. */
export function linkUp(lab: string, machine: string): void {
  must(['ip', '-n', switchNs(lab), 'link', 'set', portName(machine), 'up']);
}

/** Sets every link of the machine's namespace but lo (the machine side) down or up, as fence_lab does. */
export function setMachineLinks(lab: string, machine: string, state: 'up' | 'down'): void {
  const ns = machineNs(lab, machine);
  const out = run(['ip', '-n', ns, '-o', 'link', 'show']).stdout;
  for (const line of out.split('\n')) {
    const name = /^\d+: ([^:@]+)[@:]/.exec(line)?.[1];
    if (name === undefined || name === 'lo') continue;
    must(['ip', '-n', ns, 'link', 'set', 'dev', name, state]);
  }
}

/**
 * Splits the lab's nodes into groups that cannot reach each other (the client reaches all):
 * an nftables bridge table in the switch namespace drops frames between ports of different
 * groups. Every node of `allNodes` must be in exactly one group. Replaces an earlier partition.
 */
export function partition(lab: string, groups: readonly (readonly string[])[], allNodes: readonly string[]): void {
  const seen = new Map<string, number>();
  groups.forEach((g, gi) => {
    for (const n of g) {
      if (!allNodes.includes(n)) throw new Error(`partition: no node ${n} in lab ${lab}`);
      if (seen.has(n)) throw new Error(`partition: node ${n} is in two groups`);
      seen.set(n, gi);
    }
  });
  const unplaced = allNodes.filter((n) => !seen.has(n));
  if (unplaced.length > 0) throw new Error(`partition: nodes ${unplaced.join(', ')} are in no group`);
  const rules: string[] = [];
  for (const a of allNodes) for (const b of allNodes) if (seen.get(a) !== seen.get(b)) rules.push(`    iifname "${portName(a)}" oifname "${portName(b)}" drop`);
  const script = [
    `add table bridge ${PARTITION_TABLE}`,
    `delete table bridge ${PARTITION_TABLE}`,
    `table bridge ${PARTITION_TABLE} {`,
    '  chain pl_forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...rules,
    '  }',
    '}',
    '',
  ].join('\n');
  must(['ip', 'netns', 'exec', switchNs(lab), 'nft', '-f', '-'], script);
}

/** Removes the partition (every node reaches every other again). Idempotent. */
export function heal(lab: string): void {
  const r = run(['ip', 'netns', 'exec', switchNs(lab), 'nft', 'delete', 'table', 'bridge', PARTITION_TABLE]);
  if (r.status !== 0 && !/No such file|does not exist/i.test(r.stderr)) throw new Error(`heal: ${r.stderr.trim()}`);
}

/** Parses "1,2|3" or "node1,node2|node3" into groups of node names. */
export function parseGroups(spec: string): string[][] {
  const groups = spec.split('|').map((g) =>
    g
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => (/^\d+$/.test(s) ? `node${s}` : s)),
  );
  if (groups.length < 2 || groups.some((g) => g.length === 0)) throw new Error(`bad partition '${spec}': expected groups like 1,2|3`);
  for (const g of groups) for (const n of g) nodeIndex(n);
  return groups;
}

/** Runs argv inside a machine's namespace (synchronously), returning status and output. */
export function nsRun(lab: string, machine: string, argv: readonly string[], input?: string): CmdResult {
  return run(['ip', 'netns', 'exec', machineNs(lab, machine), ...argv], input);
}

/** The MAC address of a machine's eth0 (lower case). */
export function macOf(lab: string, machine: string): string {
  const out = must(['ip', '-n', machineNs(lab, machine), '-o', 'link', 'show', 'dev', LAB_IFACE]);
  const m = /link\/ether ([0-9a-f:]{17})/.exec(out);
  if (m === null) throw new Error(`no MAC address on ${LAB_IFACE} of ${machine}`);
  return m[1]!;
}
