/**
 * `paceline ipvsadm ...` (ipvsadm's syntax and output, against the running userspace director,
 * or the kernel's IPVS through the real ipvsadm where /proc/net/ip_vs exists) and
 * `paceline director start|stop|status|run [--state-dir DIR]`.
 *
 * The director's state directory is --state-dir, else $PACELINE_DIRECTOR_DIR, else
 * /run/paceline/director. `paceline ipvsadm` takes it as `--state-dir DIR` before the ipvsadm
 * arguments, or from the environment.
 *
 * Exit codes: ipvsadm's own (0, 1 list errors, 2 bad input, 255 kernel-style errors);
 * director: 0 ok, 1 failed to start/stop, 3 not running (status, like LSB).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { DIRECTOR_FILES, Director, controlRequest, type DirectorStatus } from '@paceline/ipvs';

export const DIRECTOR_STATE_DIR_DEFAULT = '/run/paceline/director';
export const DIRECTOR_EXIT = { ok: 0, failed: 1, notRunning: 3 } as const;
/** How long `director start` waits for the daemon's control socket, and `stop` for its exit. */
export const DIRECTOR_WAIT_MS = 10_000;

function stateDirOf(opt: string | undefined): string {
  return opt ?? process.env.PACELINE_DIRECTOR_DIR ?? DIRECTOR_STATE_DIR_DEFAULT;
}

/**
 * What `paceline ipvsadm --version` (or -v) prints when the userspace director answers: ipvsadm's
 * own line shape ("ipvsadm v..."), so tools that detect ipvsadm by it keep working, naming paceline.
 */
export const PACELINE_IPVSADM_VERSION_LINE = 'ipvsadm v1.31 2019/12/24 (paceline userspace director, IPVS v1.2.1 rule syntax)';

function isVersionRequest(args: readonly string[]): boolean {
  return args.length === 1 && (args[0] === '--version' || args[0] === '-v');
}

const NO_IPVS = "Can't initialize ipvs: Protocol not available\nAre you sure that IP Virtual Server is built in the kernel or as module?\n";

/** Run ipvsadm arguments against the director in `stateDir`, or the kernel; returns the exit code. */
export async function ipvsadmCommand(rawArgs: string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream, readStdin: () => Promise<string>): Promise<number> {
  let args = rawArgs;
  let dirOpt: string | undefined;
  if (args[0] === '--state-dir' && args.length >= 2) { dirOpt = args[1]; args = args.slice(2); }
  const dir = stateDirOf(dirOpt);
  const directorSocket = existsSync(join(dir, DIRECTOR_FILES.socket));
  if (!directorSocket && existsSync('/proc/net/ip_vs')) {
    const r = spawnSync('ipvsadm', args, { stdio: 'inherit' });
    return r.status ?? 255;
  }
  // The version is the command's own, whether or not a director runs (ipvsadm answers it without
  // touching the kernel too).
  if (isVersionRequest(args)) {
    out.write(PACELINE_IPVSADM_VERSION_LINE + '\n');
    return 0;
  }
  if (directorSocket) {
    const restoring = args.some((a) => a === '-R' || a === '--restore');
    try {
      const r = await controlRequest(dir, { version: 1, op: 'ipvsadm', args, ...(restoring ? { stdin: await readStdin() } : {}) });
      if (r.ok !== true) { err.write(`paceline ipvsadm: director refused: ${String(r.error)}\n`); return 255; }
      out.write(String(r.stdout));
      err.write(String(r.stderr));
      return Number(r.exitCode);
    } catch (e) {
      err.write(`paceline ipvsadm: director in ${dir} does not answer (${(e as Error).message})\n`);
      return 255;
    }
  }
  err.write(NO_IPVS);
  return 2;
}

function readAllStdin(): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (c: string) => { buf += c; });
    process.stdin.on('end', () => resolve(buf));
  });
}

function formatDirectorStatus(s: DirectorStatus, dir: string): string {
  const lines = [`director running (pid ${s.pid}), state dir ${dir}`, `  services: ${s.services}, tracked connections: ${s.connections}`];
  for (const l of s.listeners) lines.push(`  listener ${l.endpoint}${l.error ? `: ${l.error}` : ''}`);
  for (const h of s.health) lines.push(`  health checks on ${h.service}: ${h.targets} real servers`);
  const y = s.sync;
  if (y?.master) lines.push(`  sync master (mcast=${y.master.mcastIfn}, syncid=${y.master.syncid}) to ${y.master.to.join(' ') || '-'}: ${y.master.messages} messages, ${y.master.entries} entries sent, ${y.master.sendErrors} send errors`);
  if (y?.backup) {
    const dropped = Object.entries(y.backup.dropped).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
    lines.push(`  sync backup (mcast=${y.backup.mcastIfn}, syncid=${y.backup.syncid}) on ${y.backup.on}: ${y.backup.messages} messages, ${y.backup.entries} entries received, ${y.backup.refused} refused (table full), dropped: ${dropped}`);
  }
  if (y && (y.held > 0 || y.adopted > 0)) lines.push(`  synced entries held: ${y.held} (${y.heldTemplates} persistence templates), templates adopted: ${y.adopted}`);
  return lines.join('\n') + '\n';
}

async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function answers(dir: string): Promise<boolean> {
  try { return (await controlRequest(dir, { version: 1, op: 'status' }, 1000)).ok === true; } catch { return false; }
}

export function registerIpvsCommands(program: Command): void {
  program
    .command('ipvsadm')
    .description('ipvsadm (1.31 syntax and output) for the userspace director or the kernel; [--state-dir DIR] first')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .passThroughOptions(true)
    .argument('[args...]')
    .action(async (args: string[]) => {
      process.exitCode = await ipvsadmCommand(args, process.stdout, process.stderr, readAllStdin);
    });

  const director = program.command('director').description('the userspace LVS director (a layer-4 proxy applying ipvsadm rules)');
  director
    .command('start')
    .description('start the director in the background')
    .option('--state-dir <dir>', 'rules, config, control socket and log')
    .action(async (opts: { stateDir?: string }) => {
      const dir = stateDirOf(opts.stateDir);
      if (await answers(dir)) { process.stdout.write(`director already running in ${dir}\n`); return; }
      mkdirSync(dir, { recursive: true });
      const logFd = openSync(join(dir, DIRECTOR_FILES.log), 'a');
      const child = spawn(process.execPath, [process.argv[1] ?? '', 'director', 'run', '--state-dir', dir], { detached: true, stdio: ['ignore', logFd, logFd] });
      child.unref();
      if (await waitFor(() => answers(dir), DIRECTOR_WAIT_MS)) { process.stdout.write(`director started in ${dir}\n`); return; }
      process.stderr.write(`paceline director start: no answer from ${dir} within ${DIRECTOR_WAIT_MS} ms; see ${join(dir, DIRECTOR_FILES.log)}\n`);
      process.exitCode = DIRECTOR_EXIT.failed;
    });
  director
    .command('run')
    .description('run the director in the foreground (what start runs)')
    .option('--state-dir <dir>', 'rules, config, control socket and log')
    .action(async (opts: { stateDir?: string }) => {
      const dir = stateDirOf(opts.stateDir);
      const d = new Director(dir, Director.loadConfig(dir));
      await d.start();
      const stop = (): void => void d.stop();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      await new Promise<void>((resolve) => { d.onStop = resolve; });
    });
  director
    .command('stop')
    .description('stop the running director')
    .option('--state-dir <dir>', 'rules, config, control socket and log')
    .action(async (opts: { stateDir?: string }) => {
      const dir = stateDirOf(opts.stateDir);
      if (!(await answers(dir))) { process.stdout.write(`director not running in ${dir}\n`); return; }
      await controlRequest(dir, { version: 1, op: 'stop' });
      if (await waitFor(async () => !existsSync(join(dir, DIRECTOR_FILES.pid)), DIRECTOR_WAIT_MS)) { process.stdout.write('director stopped\n'); return; }
      process.stderr.write(`paceline director stop: still running after ${DIRECTOR_WAIT_MS} ms\n`);
      process.exitCode = DIRECTOR_EXIT.failed;
    });
  director
    .command('status')
    .description('whether the director runs, its listeners and health checks')
    .option('--state-dir <dir>', 'rules, config, control socket and log')
    .action(async (opts: { stateDir?: string }) => {
      const dir = stateDirOf(opts.stateDir);
      try {
        const r = await controlRequest(dir, { version: 1, op: 'status' }, 2000);
        process.stdout.write(formatDirectorStatus(r.status as DirectorStatus, dir));
      } catch {
        process.stdout.write(`director not running in ${dir}\n`);
        process.exitCode = DIRECTOR_EXIT.notRunning;
      }
    });
}
