/**
 * A lab of real Pacemaker + Corosync (the Debian packages: corosync, pacemaker,
 * pacemaker-cli-utils, resource-agents) on three nodes in network namespaces, for comparing
 * paceline's drills with the stack it replaces. The same network as the netns driver (netnsUp:
 * a bridge, nodes 10.77.X.11.., a client 10.77.X.2), no systemd.
 *
 * Each node runs `ip netns exec NS unshare -m -u --propagation private sh init` (its own
 * namespaces, session leader via setsid). The init script, written here into
 * LAB_DIR/nodes/NODE/init, sets the node's hostname, mounts fresh tmpfs on /run and /dev/shm
 * (volatile: a power loss loses them), bind-mounts the node's persistent directories over
 * /etc/corosync, /var/lib/corosync, /var/log/corosync, /var/lib/pacemaker and
 * /var/log/pacemaker, starts `corosync -f`, then `pacemakerd`, and stays as the node's anchor:
 * tools run in the node with `nsenter -t ANCHOR -m -n -u` (libqb IPC needs the node's network
 * namespace for its abstract sockets and its mount namespace for /dev/shm).
 *
 * Power-off: the node's switch port down, SIGKILL to every process in its network namespace
 * until none is left, its eth0 down. Power-on: addresses reset to the node's own, links up,
 * boot again (persistent directories kept). Every process carries PACELINE_LAB_DIR=LAB_DIR.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './lab.js';
import { checkLabName, killNamespaceProcesses, LAB_IFACE, linkDown, linkUp, machineNs, must, namespacePids, netnsDown, netnsUp, nodeAddress, run, setMachineLinks, vipAddress } from './netns.js';

/** What the Pacemaker lab needs on PATH (Debian packages corosync, pacemaker, pacemaker-cli-utils, resource-agents). */
export const PACEMAKER_TOOLS = ['corosync', 'corosync-keygen', 'corosync-cmapctl', 'pacemakerd', 'crm_mon', 'crmadmin', 'crm_attribute', 'cibadmin', 'nsenter', 'unshare', 'setsid'] as const;
/** The resource agents the drill's CIB uses. */
export const PACEMAKER_AGENTS = ['/usr/lib/ocf/resource.d/heartbeat/IPaddr2', '/usr/lib/ocf/resource.d/heartbeat/Dummy'] as const;
const PERSISTENT = [
  ['etc-corosync', '/etc/corosync'],
  ['lib-corosync', '/var/lib/corosync'],
  ['log-corosync', '/var/log/corosync'],
  ['lib-pacemaker', '/var/lib/pacemaker'],
  ['log-pacemaker', '/var/log/pacemaker'],
] as const;

export interface PacemakerLab {
  readonly name: string;
  readonly dir: string;
  readonly subnetIndex: number;
  readonly nodes: readonly string[];
  readonly vip: string;
  readonly clientNs: string;
}

/** Which of the tools and agents are missing (empty: the lab can run). */
export function pacemakerMissing(): string[] {
  const path = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']);
  const lacks: string[] = PACEMAKER_TOOLS.filter((t) => !path.some((d) => d !== '' && existsSync(join(d, t))));
  for (const a of PACEMAKER_AGENTS) if (!existsSync(a)) lacks.push(a);
  if (run(['id', 'hacluster']).status !== 0) lacks.push('user hacluster');
  return lacks;
}

const nodeDir = (lab: Pick<PacemakerLab, 'dir'>, node: string): string => join(lab.dir, 'nodes', node);

/** corosync.conf of the lab: knet with crypto, votequorum, the three nodes; `token` ms or corosync's default. */
export function corosyncConf(opts: { cluster: string; nodes: readonly { name: string; id: number; address: string }[]; token?: number }): string {
  return [
    'totem {',
    '    version: 2',
    `    cluster_name: ${opts.cluster}`,
    '    transport: knet',
    '    crypto_cipher: aes256',
    '    crypto_hash: sha256',
    ...(opts.token === undefined ? [] : [`    token: ${opts.token}`]),
    '}',
    'nodelist {',
    ...opts.nodes.flatMap((n) => ['    node {', `        name: ${n.name}`, `        nodeid: ${n.id}`, `        ring0_addr: ${n.address}`, '    }']),
    '}',
    'quorum {',
    '    provider: corosync_votequorum',
    '}',
    'logging {',
    '    to_logfile: yes',
    '    logfile: /var/log/corosync/corosync.log',
    '    to_syslog: no',
    '    to_stderr: no',
    '    timestamp: hires',
    '}',
    '',
  ].join('\n');
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The node's init script (runs inside its namespaces; see the file comment). */
export function pacemakerInitScript(node: string, dir: string): string {
  return [
    '#!/bin/sh',
    `# paceline pacemaker lab: node ${node} (runs in its own network, mount and UTS namespaces).`,
    'set -eu',
    `D=${shq(dir)}`,
    'echo $$ >"$D/anchor.pid"',
    `hostname ${shq(node)}`,
    'mount --make-rprivate /',
    `mount -t tmpfs -o mode=0755,size=64m ${shq(`plrun-${node}`)} /run`,
    `mount -t tmpfs -o mode=1777,size=256m ${shq(`plshm-${node}`)} /dev/shm`,
    'mkdir -p /run/crm /run/lock /run/resource-agents',
    'chown hacluster:haclient /run/crm && chmod 0750 /run/crm',
    ...PERSISTENT.map(([sub, at]) => `mount --bind "$D/${sub}" ${at}`),
    'echo "$(date +%s.%N) boot" >>"$D/boots.log"',
    'corosync -f >>"$D/corosync.stdout" 2>&1 &',
    'i=0',
    'until corosync-cmapctl -g runtime.votequorum.this_node_id >/dev/null 2>&1; do',
    '  i=$((i + 1)); [ $i -lt 200 ] || { echo "corosync did not come up" >&2; exit 1; }; sleep 0.1',
    'done',
    'export PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logfacility=none PCMK_blackbox=no',
    'pacemakerd >>"$D/pacemakerd.stdout" 2>&1 &',
    'echo $! >"$D/pacemakerd.pid"',
    'while :; do sleep 3600; done',
    '',
  ].join('\n');
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid of the node's anchor (its init script), when it lives. */
export function anchorPid(lab: Pick<PacemakerLab, 'dir'>, node: string): number | undefined {
  const pid = readPid(join(nodeDir(lab, node), 'anchor.pid'));
  return pid !== undefined && existsSync(`/proc/${pid}`) ? pid : undefined;
}

/** Runs a command inside a node (nsenter into its anchor's namespaces); status and output. */
export function onNode(lab: Pick<PacemakerLab, 'dir'>, node: string, argv: readonly string[]): { status: number; stdout: string; stderr: string } {
  const pid = anchorPid(lab, node);
  if (pid === undefined) return { status: 1, stdout: '', stderr: `${node} is not running` };
  return run(['nsenter', '-t', String(pid), '-m', '-n', '-u', '--', ...argv]);
}

/** Boots a node: the init script in its namespaces, detached; resolves once pacemakerd's daemons run. */
export async function pacemakerBoot(lab: PacemakerLab, node: string, timeoutMs = 30_000): Promise<void> {
  const d = nodeDir(lab, node);
  rmSync(join(d, 'anchor.pid'), { force: true });
  rmSync(join(d, 'pacemakerd.pid'), { force: true });
  const child = spawn('setsid', ['ip', 'netns', 'exec', machineNs(lab.name, node), 'unshare', '-m', '-u', '--propagation', 'private', 'sh', join(d, 'init')], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, PACELINE_LAB_DIR: lab.dir, PACELINE_LAB_NODE: node },
  });
  child.unref();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const pm = readPid(join(d, 'pacemakerd.pid'));
    if (pm !== undefined) {
      const kids = run(['ps', '-o', 'comm=', '--ppid', String(pm)]).stdout.split('\n').filter((c) => c.startsWith('pacemaker-')).length;
      if (kids >= 6) return;
    }
    if (Date.now() > end) throw new Error(`${node}: the Pacemaker stack did not come up within ${timeoutMs} ms (see ${d}/init.log, ${d}/*.stdout, ${d}/log-corosync)`);
    await sleep(100);
  }
}

/** The cluster as one node's crm_mon sees it. */
export interface PacemakerStatus {
  readonly dc?: string;
  readonly quorate: boolean;
  readonly online: readonly string[];
  /** Resource id -> the nodes it is started on (active, not failed). */
  readonly started: ReadonlyMap<string, readonly string[]>;
}

const attr = (tag: string, name: string): string | undefined => new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];

/** Parses `crm_mon -1 --output-as=xml` (the parts the drill reads). */
export function parseCrmMonXml(xml: string): PacemakerStatus | undefined {
  if (!/<pacemaker-result/.test(xml)) return undefined;
  const dcTag = /<current_dc\b[^>]*>/.exec(xml)?.[0];
  const dc = dcTag !== undefined && attr(dcTag, 'present') === 'true' ? attr(dcTag, 'name') : undefined;
  const quorate = dcTag !== undefined && attr(dcTag, 'with_quorum') === 'true';
  const nodesBlock = /<nodes>([\s\S]*?)<\/nodes>/.exec(xml)?.[1] ?? '';
  const online = [...nodesBlock.matchAll(/<node\b[^>]*>/g)].map((m) => m[0]).filter((t) => attr(t, 'online') === 'true').map((t) => attr(t, 'name')!).sort();
  const started = new Map<string, string[]>();
  for (const m of xml.matchAll(/<resource\b([^>]*?)(\/>|>([\s\S]*?)<\/resource>)/g)) {
    const tag = m[1]!;
    const id = attr(` ${tag}`, 'id');
    if (id === undefined) continue;
    const ok = attr(` ${tag}`, 'role') === 'Started' && attr(` ${tag}`, 'active') === 'true' && attr(` ${tag}`, 'failed') !== 'true';
    const on = ok ? [...(m[3] ?? '').matchAll(/<node\b[^>]*>/g)].map((n) => attr(n[0], 'name')!).filter(Boolean) : [];
    started.set(id, on);
  }
  return { ...(dc === undefined ? {} : { dc }), quorate, online, started };
}

/** The status as the first running node (of `from`, default every node) sees it. */
export function pacemakerStatus(lab: PacemakerLab, from: readonly string[] = lab.nodes): PacemakerStatus | undefined {
  for (const n of from) {
    if (anchorPid(lab, n) === undefined) continue;
    const r = onNode(lab, n, ['crm_mon', '-1', '--output-as=xml']);
    const s = parseCrmMonXml(r.stdout);
    if (s !== undefined) return s;
  }
  return undefined;
}

/**
 * Waits until `want` (default: every node) are online, the DC has quorum, vip and dummy are
 * started on one same node, and the DC's controller is idle (S_IDLE). Returns that status.
 */
export async function pacemakerWaitSettled(lab: PacemakerLab, opts: { timeoutMs: number; want?: readonly string[]; resources?: boolean; progress?: (l: string) => void }): Promise<PacemakerStatus> {
  const want = [...(opts.want ?? lab.nodes)].sort();
  const end = Date.now() + opts.timeoutMs;
  let last = 'no status';
  let lastReport = 0;
  for (;;) {
    const s = pacemakerStatus(lab, want);
    if (s === undefined) last = 'no crm_mon answer';
    else if (s.dc === undefined || !s.quorate) last = `dc ${s.dc ?? 'none'}, ${s.quorate ? 'quorate' : 'not quorate'}`;
    else if (s.online.join(',') !== want.join(',')) last = `online ${s.online.join(',')} (want ${want.join(',')})`;
    else if ((opts.resources ?? true) && !(s.started.get('vip')?.length === 1 && s.started.get('dummy')?.join() === s.started.get('vip')?.join())) last = `vip on ${s.started.get('vip')?.join(',') || '-'}, dummy on ${s.started.get('dummy')?.join(',') || '-'}`;
    else {
      const st = onNode(lab, s.dc, ['crmadmin', '-q', '-S', s.dc]);
      if (/S_IDLE/.test(st.stdout + st.stderr)) return s;
      last = `DC ${s.dc} not idle: ${(st.stdout + st.stderr).trim().split('\n').at(-1) ?? ''}`;
    }
    if (Date.now() > end) throw new Error(`the Pacemaker lab did not settle within ${opts.timeoutMs} ms: ${last}`);
    if (Date.now() - lastReport >= 2000) {
      lastReport = Date.now();
      opts.progress?.(`pacemaker: waiting to settle: ${last}`);
    }
    await sleep(300);
  }
}

/** The drill's configuration: as paceline's floatingIpCib, with Pacemaker's own agents and no fencing. */
export function configurePacemakerCib(lab: PacemakerLab, node: string): void {
  const on = (argv: string[]): void => {
    const r = onNode(lab, node, argv);
    if (r.status !== 0) throw new Error(`${argv.join(' ')} on ${node}: exit ${r.status}: ${r.stderr.trim()}`);
  };
  on(['crm_attribute', '-t', 'crm_config', '-n', 'stonith-enabled', '-v', 'false']);
  on(['crm_attribute', '-t', 'crm_config', '-n', 'no-quorum-policy', '-v', 'stop']);
  on(['crm_attribute', '-t', 'rsc_defaults', '-n', 'resource-stickiness', '-v', '100']);
  on([
    'cibadmin', '--replace', '-o', 'resources', '--xml-text',
    `<resources>
  <primitive id="vip" class="ocf" provider="heartbeat" type="IPaddr2">
    <instance_attributes id="vip-ia">
      <nvpair id="vip-ip" name="ip" value="${lab.vip}"/>
      <nvpair id="vip-cidr" name="cidr_netmask" value="24"/>
      <nvpair id="vip-nic" name="nic" value="${LAB_IFACE}"/>
    </instance_attributes>
    <operations><op id="vip-monitor" name="monitor" interval="2s" timeout="20s"/></operations>
  </primitive>
  <primitive id="dummy" class="ocf" provider="heartbeat" type="Dummy">
    <operations><op id="dummy-monitor" name="monitor" interval="5s" timeout="20s"/></operations>
  </primitive>
</resources>`,
  ]);
  on(['cibadmin', '--replace', '-o', 'constraints', '--xml-text', '<constraints><rsc_colocation id="dummy-with-vip" rsc="dummy" with-rsc="vip" score="INFINITY"/></constraints>']);
}

/**
 * Builds the lab: namespaces (netnsUp), per-node state (corosync.conf, one authkey from
 * corosync-keygen), boots the three nodes, waits for membership, configures the CIB and waits
 * until vip runs. On failure it takes down what it made.
 */
export async function pacemakerLabUp(opts: { name: string; dir: string; subnetIndex: number; token?: number; timeoutMs?: number; progress?: (l: string) => void }): Promise<PacemakerLab> {
  checkLabName(opts.name);
  const lacks = pacemakerMissing();
  if (lacks.length > 0) throw new Error(`the Pacemaker lab needs ${lacks.join(', ')} (Debian: apt-get install corosync pacemaker pacemaker-cli-utils resource-agents)`);
  const nodes = ['node1', 'node2', 'node3'];
  const lab: PacemakerLab = { name: opts.name, dir: opts.dir, subnetIndex: opts.subnetIndex, nodes, vip: vipAddress(opts.subnetIndex), clientNs: machineNs(opts.name, 'client') };
  const progress = opts.progress ?? (() => undefined);
  netnsUp({ lab: opts.name, index: opts.subnetIndex, nodes });
  try {
    const key = join(opts.dir, 'authkey');
    mkdirSync(opts.dir, { recursive: true });
    rmSync(key, { force: true });
    must(['corosync-keygen', '-k', key]);
    const conf = corosyncConf({ cluster: opts.name, nodes: nodes.map((n, i) => ({ name: n, id: i + 1, address: nodeAddress(opts.subnetIndex, n) })), ...(opts.token === undefined ? {} : { token: opts.token }) });
    for (const n of nodes) {
      const d = nodeDir(lab, n);
      rmSync(d, { recursive: true, force: true });
      for (const [sub] of PERSISTENT) mkdirSync(join(d, sub), { recursive: true });
      for (const sub of ['cib', 'pengine', 'blackbox', 'cores']) mkdirSync(join(d, 'lib-pacemaker', sub), { recursive: true });
      mkdirSync(join(d, 'log-pacemaker', 'bundles'), { recursive: true });
      const ids = must(['id', '-u', 'hacluster']).trim();
      const gid = must(['id', '-g', 'hacluster']).trim();
      for (const p of ['cib', 'pengine', 'blackbox', 'cores'].map((s) => join(d, 'lib-pacemaker', s)).concat([join(d, 'log-pacemaker'), join(d, 'log-pacemaker', 'bundles')])) {
        chownSync(p, Number(ids), Number(gid));
        chmodSync(p, 0o770);
      }
      writeFileSync(join(d, 'etc-corosync', 'authkey'), readFileSync(key), { mode: 0o400 });
      writeFileSync(join(d, 'etc-corosync', 'corosync.conf'), conf);
      writeFileSync(join(d, 'init'), pacemakerInitScript(n, d), { mode: 0o755 });
    }
    for (const n of nodes) await pacemakerBoot(lab, n);
    progress(`pacemaker: three nodes booted in ${machineNs(opts.name, 'node1')}.., subnet 10.77.${opts.subnetIndex}.0/24`);
    await pacemakerWaitSettled(lab, { timeoutMs: opts.timeoutMs ?? 120_000, resources: false, progress });
    configurePacemakerCib(lab, 'node1');
    await pacemakerWaitSettled(lab, { timeoutMs: opts.timeoutMs ?? 120_000, progress });
    return lab;
  } catch (err) {
    pacemakerLabDown(lab);
    throw err;
  }
}

/** Power loss of a node (see the file comment); returns the wall-clock ms it began. */
export async function pacemakerPowerOff(lab: PacemakerLab, node: string): Promise<number> {
  const at = Date.now();
  linkDown(lab.name, node);
  const ns = machineNs(lab.name, node);
  for (let i = 0; i < 200; i++) {
    killNamespaceProcesses(ns);
    if (namespacePids(ns).length === 0) break;
    await sleep(10);
  }
  setMachineLinks(lab.name, node, 'down');
  rmSync(join(nodeDir(lab, node), 'anchor.pid'), { force: true });
  return at;
}

/** Power on: the node's own address only, links up, boot. */
export async function pacemakerPowerOn(lab: PacemakerLab, node: string): Promise<void> {
  const ns = machineNs(lab.name, node);
  run(['ip', '-n', ns, '-4', 'addr', 'flush', 'dev', LAB_IFACE]);
  must(['ip', '-n', ns, 'addr', 'add', `${nodeAddress(lab.subnetIndex, node)}/24`, 'dev', LAB_IFACE]);
  setMachineLinks(lab.name, node, 'up');
  linkUp(lab.name, node);
  await pacemakerBoot(lab, node);
}

/** Kills every process of the lab and removes its namespaces (the directory stays). Idempotent. */
export function pacemakerLabDown(lab: Pick<PacemakerLab, 'name'>): string[] {
  return netnsDown(lab.name);
}
