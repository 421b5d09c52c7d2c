/**
 * Helpers of the agent suites (test/agents/*.it.test.ts): run an agent the way an executor
 * does (OCF environment, parameters as OCF_RESKEY_*), run Debian's ocf-tester on it, and make
 * and remove the network namespaces, temp directories and loop devices the suites need.
 * Everything here spawns real processes; nothing is simulated.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { repoRoot } from '../support/env.js';

export const agentsDir = resolve(repoRoot, 'agents');
export const ocfDir = join(agentsDir, 'ocf/paceline');
export const ocfAgentNames = ['Dummy', 'Stateful', 'IPaddr', 'Filesystem', 'httpd', 'mysql', 'ipvs'] as const;
export const fenceAgentNames = ['fence_dummy', 'fence_lab', 'fence_ssh'] as const;

/** OCF exit codes (OCF 1.1), by name. */
export const OCF = {
  SUCCESS: 0,
  ERR_GENERIC: 1,
  ERR_ARGS: 2,
  ERR_UNIMPLEMENTED: 3,
  ERR_PERM: 4,
  ERR_INSTALLED: 5,
  ERR_CONFIGURED: 6,
  NOT_RUNNING: 7,
  RUNNING_PROMOTED: 8,
  FAILED_PROMOTED: 9,
} as const;

/** Action timeout the suites give agents, in the executor's unit (milliseconds). */
const agentTimeoutMs = 20_000;
/** Kill an agent that hangs past its own timeout by this much: a hang must fail a test, not stall it. */
const agentHardTimeoutMs = 40_000;

export function ocfAgent(name: string): string {
  return join(ocfDir, name);
}

export interface AgentResult {
  readonly rc: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The text of the last `ocf-exit-reason:` line on stderr, if any. */
  readonly exitReason: string | undefined;
}

export interface RunOptions {
  /** Agent parameters, passed as OCF_RESKEY_<name>. */
  readonly params?: Record<string, string>;
  /** Extra environment (OCF_CHECK_LEVEL, OCF_RESKEY_CRM_meta_interval, HA_RSCTMP...). */
  readonly env?: Record<string, string>;
  /** Run inside this network namespace (ip netns exec). */
  readonly netns?: string;
  readonly instance?: string;
  /** Text on stdin (fence agents). */
  readonly input?: string;
}

export function exitReasonOf(stderr: string): string | undefined {
  const lines = stderr.split('\n').filter((l) => l.startsWith('ocf-exit-reason:'));
  const last = lines[lines.length - 1];
  return last === undefined ? undefined : last.slice('ocf-exit-reason:'.length);
}

/** The environment an OCF 1.1 executor gives an agent. */
export function ocfEnv(path: string, opts: RunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    OCF_ROOT: '/usr/lib/ocf',
    OCF_RA_VERSION_MAJOR: '1',
    OCF_RA_VERSION_MINOR: '1',
    OCF_RESOURCE_INSTANCE: opts.instance ?? 'rsc',
    OCF_RESOURCE_TYPE: path.split('/').pop() ?? 'agent',
    OCF_RESOURCE_PROVIDER: 'paceline',
    OCF_RESKEY_CRM_meta_timeout: String(agentTimeoutMs),
  };
  for (const [k, v] of Object.entries(opts.params ?? {})) env[`OCF_RESKEY_${k}`] = v;
  return { ...env, ...opts.env };
}

/** Runs `path action` (args may follow) and waits for it. */
export function runAgent(path: string, action: string | string[], opts: RunOptions = {}): AgentResult {
  const args = Array.isArray(action) ? action : [action];
  const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, path, ...args]] : [path, args];
  const r = spawnSync(cmd, argv, {
    env: ocfEnv(path, opts),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: agentHardTimeoutMs,
    killSignal: 'SIGKILL',
  });
  return { rc: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', exitReason: exitReasonOf(r.stderr ?? '') };
}

export interface TesterResult {
  readonly rc: number | null;
  readonly output: string;
}

/**
 * Debian's ocf-tester on an agent with these parameters. It validates the meta-data against
 * ra-api-1.dtd, runs meta-data as nobody, then probes, starts, stops, restarts, starts twice,
 * stops twice and checks every monitor in between (and promote/demote when supported).
 *
 * The agent runs from an installed copy (agents/install.sh into a world-readable temp OCF root,
 * which becomes OCF_ROOT): that is how Pacemaker meets it, and user nobody must be able to run
 * meta-data, which a checkout under a private home directory would not allow.
 */
export function ocfTester(path: string, params: Record<string, string>, opts: { netns?: string; env?: Record<string, string>; name?: string } = {}): TesterResult {
  const stage = tempDir('ocfroot');
  try {
    chmodSync(stage.path, 0o755);
    execFileSync(join(agentsDir, 'install.sh'), ['--no-lsb', '--no-fence'], { env: { ...process.env, DESTDIR: stage.path, OCF_ROOT: '/usr/lib/ocf' }, stdio: 'ignore' });
    const ocfRoot = join(stage.path, 'usr/lib/ocf');
    const installed = join(ocfRoot, 'resource.d/paceline', basename(path));
    const args = ['-n', opts.name ?? 'rsc'];
    for (const [k, v] of Object.entries(params)) args.push('-o', `${k}=${v}`);
    args.push(installed);
    const [cmd, argv] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, 'ocf-tester', ...args]] : ['ocf-tester', args];
    const r = spawnSync(cmd, argv, {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', OCF_ROOT: ocfRoot, ...opts.env },
      encoding: 'utf8',
      timeout: 120_000,
      killSignal: 'SIGKILL',
    });
    return { rc: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  } finally {
    stage.remove();
  }
}

/** A temp directory that `remove()` deletes. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `pl-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** A network namespace with lo up, named after the suite and this process. */
export function createNetns(tag: string): { name: string; ip(...args: string[]): string; remove(): void } {
  const name = `pl-${tag}-${process.pid}`;
  spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  execFileSync('ip', ['netns', 'add', name]);
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  return {
    name,
    ip: (...args: string[]) => execFileSync('ip', ['-n', name, ...args], { encoding: 'utf8' }),
    remove: () => {
      // Processes left in the namespace (a failed test's servers) go with it.
      const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
      for (const pid of pids.split(/\s+/).filter(Boolean)) spawnSync('kill', ['-KILL', pid]);
      spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    },
  };
}

/** Whether a process with this pid exists and is not a zombie. */
export function alive(pid: number): boolean {
  const r = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  const stat = (r.stdout ?? '').trim();
  return r.status === 0 && stat !== '' && !stat.startsWith('Z');
}

/** Message for an expect() on an ocf-tester run: the whole transcript when it failed. */
export function testerReport(r: TesterResult): string {
  return `ocf-tester exited ${r.rc}:\n${r.output}`;
}
