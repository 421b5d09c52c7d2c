/**
 * The lab's `ssh` driver: a cluster on real hosts or VMs (an inventory, see ssh-inventory.ts)
 * with paceline installed, driven from this machine with the system OpenSSH client.
 *
 * `sshLabUp` writes the authkey and every node's configuration locally (as the other drivers
 * do), installs them on each host in REMOTEDIR/NODE (one `sh -s` per host, the files inline as
 * base64), starts every node detached (`setsid`, the same boot script as the local drivers) and
 * waits until the cluster settled. Each node's API is reached through an ssh control master
 * per host that forwards a local unix socket (LAB_DIR/nodes/NODE/api.sock) to the node's API
 * socket on the host (OpenSSH `-L path:path`), so `waitSettled`, `labStatus` and the CLI tools
 * use the same unix socket client as with the local drivers; nothing listens on TCP.
 *
 * ssh options: BatchMode (never a prompt), StrictHostKeyChecking=accept-new into the lab's own
 * known_hosts (LAB_DIR/ssh/known_hosts), a ControlMaster per host (LAB_DIR/ssh/NODE.cm) kept
 * by ControlPersist until `labDown`. The masters carry PACELINE_LAB_DIR=LAB_DIR, so a lab
 * directory without lab.json still finds them (lab.ts labProcesses).
 *
 * On each host: REMOTEDIR/NODE holds .paceline-lab (marker: lab name and local directory),
 * authkey, config.json, boot, pid, power, log, data/, rsctmp/, api.sock. Every process of the
 * node carries PACELINE_LAB_DIR=REMOTEDIR/NODE. `sshLabDown` stops the node (SIGTERM, then
 * SIGKILL to its process group and to every process with that marker), copies the node's log to
 * LAB_DIR/nodes/NODE/log, and removes REMOTEDIR/NODE, but only a directory holding this lab's
 * marker: it never removes what it did not write, and never signals what it did not start.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bootScript, nodeConfig, sleep, writeLabAuthkey, type DownResult, type LabNode, type LabReport, type LabState, type LabUpOptions, type NodeReport } from './lab.js';
import { checkLabName } from './netns.js';
import { queryStatus, waitSettled, type StatusAnswer } from './settle.js';
import { loadInventory, type SshHost } from './ssh-inventory.js';

export { loadInventory, parseInventory, type SshHost } from './ssh-inventory.js';

/** Name of the marker file in every remote node directory. */
export const SSH_MARKER = '.paceline-lab';
/** Longest unix socket path (sun_path less the NUL); OpenSSH appends ~17 bytes while creating a control socket. */
const SUN_PATH_MAX = 107;

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export interface CmdOutcome {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv (no shell) with optional stdin; resolves with its status and output; kills it after timeoutMs. */
export function runCommand(argv: readonly string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CmdOutcome> {
  return new Promise((res) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}) });
    let stdout = '';
    let stderr = '';
    let done = false;
    const finish = (o: CmdOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      res(o);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ status: 124, stdout, stderr: `${stderr}${argv[0]}: timed out after ${opts.timeoutMs} ms` });
    }, opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.on('error', () => undefined);
    child.once('error', (e) => finish({ status: 127, stdout, stderr: `${stderr}${e.message}` }));
    child.once('close', (c, sig) => finish({ status: c ?? (sig ? 128 : 1), stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** The lab's ssh directory (known_hosts, control sockets). */
const sshDir = (labDir: string): string => join(labDir, 'ssh');
const controlPath = (labDir: string, node: string): string => join(sshDir(labDir), `${node}.cm`);

/** The ssh client options every call uses (before the destination). */
export function sshOptions(labDir: string, h: SshHost): string[] {
  return [
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=accept-new',
    '-o', `UserKnownHostsFile=${join(sshDir(labDir), 'known_hosts')}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', `ControlPath=${controlPath(labDir, h.name)}`,
    '-o', 'ConnectTimeout=10',
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'LogLevel=ERROR',
    '-i', h.key,
    '-p', String(h.port),
    '-l', h.user,
  ];
}

/** Hosts of an ssh lab, by node name; throws when the state is not an ssh lab's. */
function hostsOf(state: LabState): Map<string, SshHost> {
  if (state.driver !== 'ssh' || state.sshHosts === undefined) throw new Error(`lab ${state.name} does not use the ssh driver`);
  return new Map(state.sshHosts.map((h) => [h.name, h]));
}

function hostOf(state: LabState, node: string): SshHost {
  const h = hostsOf(state).get(node);
  if (h === undefined) throw new Error(`lab ${state.name} has no node ${node} (nodes: ${state.nodes.map((n) => n.name).join(' ')})`);
  return h;
}

/** Runs a shell script on the host (`sh -s`, the script on stdin). */
export function sshScript(labDir: string, h: SshHost, script: string, timeoutMs = 60_000): Promise<CmdOutcome> {
  return runCommand(['ssh', ...sshOptions(labDir, h), '-o', 'ControlMaster=no', h.address, 'sh -s'], { input: script, timeoutMs });
}

async function mustScript(labDir: string, h: SshHost, script: string, what: string, timeoutMs?: number): Promise<string> {
  const r = await sshScript(labDir, h, script, timeoutMs);
  if (r.status !== 0) throw new Error(`${h.name} (${h.user}@${h.address}:${h.port}): ${what} failed (exit ${r.status}): ${r.stderr.trim() || r.stdout.trim() || 'no output'}`);
  return r.stdout;
}

/**
 * Starts the host's control master (unless one answers already), forwarding the local API
 * socket to the node's remote one. The master outlives this process (ControlPersist).
 */
export async function ensureMaster(state: LabState, h: SshHost): Promise<void> {
  const base = sshOptions(state.dir, h);
  if ((await runCommand(['ssh', ...base, '-O', 'check', h.address], { timeoutMs: 10_000 })).status === 0) return;
  rmSync(controlPath(state.dir, h.name), { force: true });
  const local = join(state.dir, 'nodes', h.name, 'api.sock');
  const logFd = openSync(join(state.dir, 'nodes', h.name, 'ssh.log'), 'a');
  try {
    const child = spawn(
      'ssh',
      [...base, '-M', '-N', '-f', '-o', 'ControlMaster=yes', '-o', 'ControlPersist=yes', '-o', 'ExitOnForwardFailure=yes', '-o', 'StreamLocalBindUnlink=yes', '-L', `${local}:${h.remoteDir}/api.sock`, h.address],
      { stdio: ['ignore', logFd, logFd], env: { ...process.env, PACELINE_LAB_DIR: state.dir } },
    );
    const code = await new Promise<number>((r) => {
      child.once('error', () => r(127));
      child.once('exit', (c) => r(c ?? 128));
    });
    if (code !== 0) throw new Error(`${h.name}: ssh to ${h.user}@${h.address}:${h.port} failed (exit ${code}): ${tail(join(state.dir, 'nodes', h.name, 'ssh.log'))}`);
  } finally {
    closeSync(logFd);
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-3).join(' | ') || '(no output)';
  } catch {
    return '(no output)';
  }
}

/** The node as it looks on its host (paths in REMOTEDIR/NODE). */
function remoteNode(node: LabNode, h: SshHost): LabNode {
  return { ...node, dir: h.remoteDir, config: `${h.remoteDir}/config.json`, apiSocket: `${h.remoteDir}/api.sock` };
}

const nodeArgv = (h: SshHost): string[] => [...h.paceline, 'node', 'start', '--config', '{config}'];

/** The install script: refuses a directory that is not this lab's or holds a running node; writes the files. */
function installScript(state: LabState, h: SshHost, files: { name: string; content: Buffer; mode: string }[]): string {
  const D = shq(h.remoteDir);
  const lines = [
    'set -e',
    `D=${D}`,
    `if [ -e "$D" ] && [ ! -f "$D/${SSH_MARKER}" ]; then echo "$D exists and was not made by paceline lab; not touching it" >&2; exit 3; fi`,
    `if [ -f "$D/${SSH_MARKER}" ] && [ "$(cut -d' ' -f1 "$D/${SSH_MARKER}")" != ${shq(state.name)} ]; then echo "$D belongs to lab $(cut -d' ' -f1 "$D/${SSH_MARKER}")" >&2; exit 3; fi`,
    'if [ -s "$D/pid" ] && kill -0 "$(cat "$D/pid")" 2>/dev/null; then echo "a node runs in $D already (pid $(cat "$D/pid")); run paceline lab down first" >&2; exit 4; fi',
    'umask 077',
    'mkdir -p "$D/data" "$D/rsctmp"',
    `printf '%s\\n' ${shq(`${state.name} ${state.dir}`)} >"$D/${SSH_MARKER}"`,
    'rm -f "$D/pid" "$D/api.sock"',
  ];
  for (const f of files) {
    lines.push(`rm -f "$D/${f.name}"`, `base64 -d >"$D/${f.name}" <<'PACELINE_EOF'`, f.content.toString('base64').replace(/(.{76})/g, '$1\n').trimEnd(), 'PACELINE_EOF', `chmod ${f.mode} "$D/${f.name}"`);
  }
  for (const l of h.powerOffLinks ?? []) lines.push(`ip -o addr show dev ${shq(l)} >"$D/addrs-${l}"`);
  lines.push('');
  return lines.join('\n');
}

/** Boots the node on its host (the boot script, detached) and returns the remote pid. */
async function bootRemote(state: LabState, h: SshHost): Promise<number> {
  const out = await mustScript(state.dir, h, `D=${shq(h.remoteDir)}\nsh "$D/boot" || { echo "boot failed: $(tail -n 3 "$D/log" 2>/dev/null)" >&2; exit 1; }\necho "on $(date +%s)" >"$D/power"\ncat "$D/pid"\n`, 'starting the node');
  const pid = Number(out.trim().split('\n').at(-1));
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${h.name}: the boot script printed no pid (${out.trim()})`);
  writeFileSync(join(state.dir, 'nodes', h.name, 'remote-pid'), `${pid}\n`);
  return pid;
}

const saveState = (state: LabState): void => {
  const p = join(state.dir, 'lab.json');
  writeFileSync(`${p}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${p}.tmp`, p);
};

/**
 * `labUp` for the ssh driver: the first `opts.nodes` hosts of the inventory. On failure it takes
 * down what it started (sshLabDown) and throws, with the nodes' last log lines when they ran.
 */
export async function sshLabUp(opts: LabUpOptions): Promise<LabState> {
  checkLabName(opts.name);
  if (opts.inventory === undefined) throw new Error('the ssh driver needs --inventory FILE');
  const hosts = loadInventory(opts.inventory, opts.name);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > hosts.length) throw new Error(`bad node count ${opts.nodes}: the inventory ${opts.inventory} lists ${hosts.length} hosts`);
  if (opts.cib !== undefined && !existsSync(opts.cib)) throw new Error(`CIB file ${opts.cib} does not exist`);
  if (opts.nodeCommand !== undefined) throw new Error('the ssh driver takes the node command from the inventory ("paceline"), not --node-command');
  const dir = resolve(opts.dir);
  const used = hosts.slice(0, opts.nodes);
  if (existsSync(join(dir, 'lab.json'))) {
    const old = JSON.parse(readFileSync(join(dir, 'lab.json'), 'utf8')) as LabState;
    if (old.driver !== 'ssh' || old.sshHosts?.some((h) => existsSync(controlPath(dir, h.name)))) throw new Error(`lab ${old.name} in ${dir} is up; run \`paceline lab down --dir ${dir}\` first`);
  }
  const progress = opts.progress ?? (() => undefined);
  mkdirSync(sshDir(dir), { recursive: true, mode: 0o700 });
  for (const h of used) {
    mkdirSync(join(dir, 'nodes', h.name), { recursive: true });
    for (const p of [controlPath(dir, h.name), join(dir, 'nodes', h.name, 'api.sock')]) if (Buffer.byteLength(p) + 18 > SUN_PATH_MAX) throw new Error(`${p} is too long for a unix socket; use a shorter --dir`);
  }
  const nodes: LabNode[] = used.map((h, i) => {
    const nd = join(dir, 'nodes', h.name);
    return { name: h.name, id: i + 1, address: `${h.clusterAddress.includes(':') ? `[${h.clusterAddress}]` : h.clusterAddress}:${h.messagingPort}`, dir: nd, config: join(nd, 'config.json'), apiSocket: join(nd, 'api.sock') };
  });
  const state: LabState = { version: 1, name: opts.name, driver: 'ssh', dir, nodes, vips: [], nodeCommand: nodeArgv(used[0]!), sshHosts: used, createdAt: new Date().toISOString() };
  try {
    const authkey = join(dir, 'authkey');
    writeLabAuthkey(authkey);
    const key = readFileSync(authkey);
    const cib = opts.cib === undefined ? undefined : readFileSync(opts.cib);
    const remoteNodes = nodes.map((n, i) => remoteNode(n, used[i]!));
    saveState(state);
    await Promise.all(
      used.map(async (h, i) => {
        const rn = remoteNodes[i]!;
        const config = nodeConfig({ clusterName: opts.name, node: rn, nodes: remoteNodes, authkey: `${h.remoteDir}/authkey`, ...(cib === undefined ? {} : { cib: `${h.remoteDir}/cib.xml` }), ...(opts.messaging === undefined ? {} : { messaging: opts.messaging }) });
        const configText = `${JSON.stringify(config, null, 2)}\n`;
        const boot = bootScript({ dir: h.remoteDir, nodeCommand: nodeArgv(h) }, rn);
        writeFileSync(nodes[i]!.config, configText);
        writeFileSync(join(nodes[i]!.dir, 'boot'), boot, { mode: 0o644 });
        await ensureMaster(state, h);
        const files = [
          { name: 'authkey', content: key, mode: '0400' },
          { name: 'config.json', content: Buffer.from(configText), mode: '0600' },
          { name: 'boot', content: Buffer.from(boot), mode: '0700' },
          ...(cib === undefined ? [] : [{ name: 'cib.xml', content: cib, mode: '0600' }]),
        ];
        await mustScript(dir, h, installScript(state, h, files), `installing ${h.remoteDir}`);
        progress(`${h.name}: files installed in ${h.user}@${h.address}:${h.remoteDir}`);
      }),
    );
    for (const h of used) {
      const pid = await bootRemote(state, h);
      progress(`${h.name}: started on ${h.address}, pid ${pid}, messaging ${nodes.find((n) => n.name === h.name)!.address}`);
    }
    if (opts.settle ?? true) {
      try {
        await waitSettled(nodes, { timeoutMs: opts.settleTimeoutMs ?? 60_000, progress });
      } catch (err) {
        const tails = await Promise.all(used.map(async (h) => `${h.name}: ${(await sshScript(dir, h, `tail -n 3 ${shq(`${h.remoteDir}/log`)} 2>&1`, 10_000)).stdout.trim().split('\n').join(' | ')}`));
        throw new Error(`${(err as Error).message}\nlast log lines:\n${tails.join('\n')}`);
      }
    }
    return state;
  } catch (err) {
    await sshLabDown(state).catch(() => undefined);
    throw err;
  }
}

/** Shell functions of the remote stop scripts: the node's pid, and every process with the node's marker. */
function stopPrelude(h: SshHost): string {
  return [
    `D=${shq(h.remoteDir)}`,
    'pid=$(cat "$D/pid" 2>/dev/null || true)',
    'lab_pids() { grep -lzxF "PACELINE_LAB_DIR=$D" /proc/[0-9]*/environ 2>/dev/null | sed -n "s|^/proc/\\([0-9]*\\)/environ\\$|\\1|p" | grep -vx "$$" || true; }',
    'alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q "^State:.*Z" "/proc/$1/status" 2>/dev/null; }',
    'killall_lab() { for i in $(seq 50); do [ -n "$pid" ] && kill -KILL -- "-$pid" "$pid" 2>/dev/null; p=$(lab_pids); [ -n "$p" ] && kill -KILL $p 2>/dev/null; alive "$pid" || [ -n "$(lab_pids)" ] || return 0; sleep 0.1; done; return 1; }',
    '',
  ].join('\n');
}

/** What the remote stop script prints: the pids it signalled (one line, space separated). */
async function stopRemote(labDir: string, h: SshHost, mode: 'graceful' | 'all', graceMs = 10_000): Promise<number[]> {
  const script = [
    stopPrelude(h),
    'victims="$pid $(lab_pids)"',
    ...(mode === 'graceful' ? [`if alive "$pid"; then kill -TERM "$pid"; for i in $(seq ${Math.max(1, Math.ceil(graceMs / 100))}); do alive "$pid" || break; sleep 0.1; done; fi`] : []),
    'killall_lab || { echo "processes of $D survive SIGKILL: $(lab_pids)" >&2; exit 1; }',
    'rm -f "$D/pid"',
    '[ -d "$D" ] && echo "off $(date +%s)" >"$D/power"',
    'echo $victims',
    '',
  ].join('\n');
  const out = await mustScript(labDir, h, script, 'stopping the node', 30_000);
  return out.trim().split(/\s+/).filter((s) => /^\d+$/.test(s)).map(Number).filter((v, i, a) => a.indexOf(v) === i);
}

/** Per-node outcome of sshLabDown. */
export interface SshDownNode {
  readonly node: string;
  readonly killed: readonly number[];
  readonly removed: boolean;
  readonly error?: string;
}

/**
 * `labDown` for the ssh driver: per host, stop the node, copy its log here, remove REMOTEDIR/NODE
 * (only when it holds this lab's marker), close the control master; then remove the local
 * sockets. Throws after doing all it can when a host could not be cleaned up (lab.json stays, so
 * `lab down` can be run again).
 */
export async function sshLabDown(state: LabState, opts: { purge?: boolean } = {}): Promise<DownResult & { remote: SshDownNode[] }> {
  const hosts = [...hostsOf(state).values()];
  const remote = await Promise.all(
    hosts.map(async (h): Promise<SshDownNode> => {
      const local = join(state.dir, 'nodes', h.name);
      let killed: number[] = [];
      try {
        await ensureMaster(state, h);
        const probe = await mustScript(state.dir, h, `D=${shq(h.remoteDir)}\nif [ ! -e "$D" ]; then echo absent; elif [ "$(cut -d' ' -f1 "$D/${SSH_MARKER}" 2>/dev/null)" = ${shq(state.name)} ]; then echo ours; else echo foreign; fi\n`, 'looking at the node directory');
        const what = probe.trim();
        if (what === 'foreign') throw new Error(`${h.remoteDir} on ${h.address} does not hold lab ${state.name}'s marker; left alone`);
        if (what === 'ours') {
          // Every node stops at once: a short grace (they lose quorum together), then SIGKILL.
          killed = await stopRemote(state.dir, h, 'graceful', 3000);
          const log = await sshScript(state.dir, h, `cat ${shq(`${h.remoteDir}/log`)} 2>/dev/null`, 60_000);
          if (log.status === 0 && existsSync(local)) writeFileSync(join(local, 'log'), log.stdout);
          await mustScript(state.dir, h, `D=${shq(h.remoteDir)}\n[ -f "$D/${SSH_MARKER}" ] && rm -rf -- "$D"\n`, `removing ${h.remoteDir}`);
        }
        return { node: h.name, killed, removed: true };
      } catch (err) {
        return { node: h.name, killed, removed: false, error: (err as Error).message };
      } finally {
        await runCommand(['ssh', ...sshOptions(state.dir, h), '-O', 'exit', h.address], { timeoutMs: 10_000 });
        rmSync(controlPath(state.dir, h.name), { force: true });
        rmSync(join(local, 'api.sock'), { force: true });
        rmSync(join(local, 'remote-pid'), { force: true });
      }
    }),
  );
  const failed = remote.filter((r) => r.error !== undefined);
  if (failed.length > 0) throw new Error(`lab ${state.name}: ${failed.map((f) => `${f.node}: ${f.error}`).join('; ')}`);
  if (opts.purge) rmSync(state.dir, { recursive: true, force: true });
  return { killed: [], namespaces: [], remote };
}

/** Whether the node runs on its host, its remote pid and power record. */
async function remoteState(labDir: string, h: SshHost): Promise<{ running: boolean; pid?: number; power?: string; error?: string }> {
  const r = await sshScript(labDir, h, `${stopPrelude(h)}if alive "$pid"; then echo "running $pid"; else echo "stopped $pid"; fi\ncat "$D/power" 2>/dev/null || true\n`, 15_000);
  if (r.status !== 0) return { running: false, error: `ssh: exit ${r.status}: ${r.stderr.trim()}` };
  const [first = '', power] = r.stdout.trim().split('\n');
  const [word, pidText] = first.split(' ');
  const pid = Number(pidText);
  return { running: word === 'running', ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}), ...(power ? { power: power.trim() } : {}) };
}

/** `labStatus` for the ssh driver (the API through the forwarded socket). */
export async function sshLabStatus(state: LabState): Promise<LabReport> {
  const hosts = hostsOf(state);
  const nodes = await Promise.all(
    state.nodes.map(async (n): Promise<NodeReport> => {
      const h = hosts.get(n.name)!;
      let api: StatusAnswer;
      let rs: Awaited<ReturnType<typeof remoteState>>;
      try {
        await ensureMaster(state, h);
        rs = await remoteState(state.dir, h);
        api = rs.running ? await queryStatus(n.apiSocket) : { ok: false, error: rs.error ?? 'not running' };
      } catch (err) {
        rs = { running: false };
        api = { ok: false, error: (err as Error).message };
      }
      return { name: n.name, ...(rs.pid === undefined ? {} : { pid: rs.pid }), running: rs.running, address: n.address, ...(rs.power ? { power: rs.power } : {}), api };
    }),
  );
  return { state, nodes };
}

/**
 * `labExec` for the ssh driver: argv on the node's host (in REMOTEDIR/NODE, with the node's
 * environment and PACELINE_API_SOCKET set), the caller's stdio or captured.
 */
export async function sshLabExec(state: LabState, machine: string, argv: readonly string[], opts: { stdio?: 'inherit' | 'pipe' } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  if (argv.length === 0) throw new Error('lab exec: no command');
  const node = state.nodes.find((n) => n.name === machine || String(n.id) === machine);
  if (node === undefined) throw new Error(`lab ${state.name} has no node ${machine} (nodes: ${state.nodes.map((n) => n.name).join(' ')}; the ssh driver has no client)`);
  const h = hostOf(state, node.name);
  await ensureMaster(state, h);
  const D = h.remoteDir;
  const cmd = `cd ${shq(D)} && PACELINE_LAB_DIR=${shq(D)} PACELINE_LAB_NODE=${shq(h.name)} HA_RSCTMP=${shq(`${D}/rsctmp`)} PACELINE_API_SOCKET=${shq(`${D}/api.sock`)} exec ${argv.map(shq).join(' ')}`;
  const full = ['ssh', ...sshOptions(state.dir, h), '-o', 'ControlMaster=no', h.address, cmd];
  if ((opts.stdio ?? 'inherit') === 'pipe') {
    const r = await runCommand(full, { timeoutMs: 10 * 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const child = spawn(full[0]!, full.slice(1), { stdio: 'inherit' });
  const code = await new Promise<number>((res) => {
    child.once('error', () => res(127));
    child.once('close', (c, sig) => res(c ?? (sig ? 128 : 1)));
  });
  return { code, stdout: '', stderr: '' };
}

/**
 * Fault verbs of the ssh driver and what each needs:
 *   daemon-crash   SIGKILL to the node's main process (ssh only)
 *   graceful-stop  graceful stop: SIGTERM, SIGKILL after 10 s (ssh only)
 *   daemon-start   the boot script again (ssh only)
 *   freeze/thaw    SIGSTOP/SIGCONT to the main process (ssh only)
 *   power-off      the host's "powerOff" command run here when the inventory has one; else
 *                  emulated over ssh: its "powerOffLinks" (interfaces that must not carry the
 *                  ssh connection) go down and lose the addresses added since lab up, and every
 *                  process of the node gets SIGKILL. Without powerOffLinks the network stays up
 *                  (the host keeps answering for its own addresses): a process kill, not a power cut.
 *   power-on       the "powerOn" command (then waits for ssh) when there is one; links up; boot
 *   link-down/up, partition, heal: not available (they need the netns driver's switch)
 */
export const SSH_FAULTS = ['power-off', 'power-on', 'daemon-crash', 'graceful-stop', 'daemon-start', 'freeze', 'thaw'] as const;
export type SshFaultName = (typeof SSH_FAULTS)[number];

async function signalMain(state: LabState, h: SshHost, sig: 'KILL' | 'STOP' | 'CONT'): Promise<number> {
  const at = Date.now();
  await mustScript(state.dir, h, `${stopPrelude(h)}alive "$pid" || { echo "${h.name} is not running" >&2; exit 1; }\nkill -${sig} "$pid"\n`, `SIG${sig} to the node`);
  return at;
}

async function waitForSsh(state: LabState, h: SshHost, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      await ensureMaster(state, h);
      return;
    } catch (err) {
      if (Date.now() > end) throw new Error(`${h.name}: not reachable over ssh ${timeoutMs} ms after power-on: ${(err as Error).message}`);
      await sleep(1000);
    }
  }
}

async function runLocal(argv: readonly string[], h: SshHost, what: string): Promise<void> {
  const full = argv.map((a) => a.replaceAll('{node}', h.name).replaceAll('{address}', h.address));
  const r = await runCommand(full, { timeoutMs: 120_000 });
  if (r.status !== 0) throw new Error(`${h.name}: ${what} command ${full.join(' ')} failed (exit ${r.status}): ${r.stderr.trim()}`);
}

/** Applies a fault verb to a node of an ssh lab; resolves with the wall-clock ms it took effect. */
export async function sshFault(state: LabState, verb: SshFaultName, nodeName: string): Promise<number> {
  const h = hostOf(state, nodeName);
  switch (verb) {
    case 'daemon-crash':
      return signalMain(state, h, 'KILL');
    case 'freeze':
      return signalMain(state, h, 'STOP');
    case 'thaw':
      return signalMain(state, h, 'CONT');
    case 'graceful-stop': {
      const at = Date.now();
      await ensureMaster(state, h);
      await stopRemote(state.dir, h, 'graceful');
      return at;
    }
    case 'daemon-start': {
      const st = await remoteState(state.dir, h);
      if (st.error !== undefined) throw new Error(`${h.name}: ${st.error}`);
      if (st.running) throw new Error(`${h.name} is running already`);
      const at = Date.now();
      await bootRemote(state, h);
      return at;
    }
    case 'power-off': {
      const at = Date.now();
      if (h.powerOff !== undefined) {
        await runLocal(h.powerOff, h, 'powerOff');
        await runCommand(['ssh', ...sshOptions(state.dir, h), '-O', 'exit', h.address], { timeoutMs: 5000 });
        return at;
      }
      const links = (h.powerOffLinks ?? []).map((l) => `ip link set dev ${shq(l)} down; ip -o addr show dev ${shq(l)} | while read -r _ _ _ cidr _; do grep -qF " $cidr " "$D/addrs-${l}" || ip addr del "$cidr" dev ${shq(l)}; done`);
      await mustScript(state.dir, h, [stopPrelude(h), ...links, 'killall_lab || { echo "processes survive SIGKILL" >&2; exit 1; }', 'rm -f "$D/pid"', 'echo "off $(date +%s)" >"$D/power"', ''].join('\n'), 'power-off', 30_000);
      return at;
    }
    case 'power-on': {
      const at = Date.now();
      if (h.powerOn !== undefined) {
        await runLocal(h.powerOn, h, 'powerOn');
        await waitForSsh(state, h, 300_000);
      }
      const st = await remoteState(state.dir, h);
      if (st.running) throw new Error(`${h.name} is on already`);
      if ((h.powerOffLinks ?? []).length > 0) await mustScript(state.dir, h, (h.powerOffLinks ?? []).map((l) => `ip link set dev ${shq(l)} up`).join('\n'), 'links up');
      await bootRemote(state, h);
      return at;
    }
    default:
      throw new Error(`the ssh driver has no fault '${String(verb)}' (${SSH_FAULTS.join(', ')})`);
  }
}
