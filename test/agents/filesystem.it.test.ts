/**
 * Real-process suite: ocf:paceline:Filesystem on an ext4 loop device this suite makes (a temp
 * file, mkfs.ext4, losetup) and removes. ocf-tester, monitor depths 10 and 20, and the forced
 * unmount of a busy mount: processes using the mount are killed, a process outside survives, and
 * for a bind mount a process using the SOURCE directory survives (fuser -m would kill it).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/env.js';
import { OCF, ocfAgent, ocfTester, runAgent, tempDir, testerReport } from './support.js';

const why = missing({ tools: ['ocf-tester', 'xmllint', 'mkfs.ext4', 'losetup', 'mount', 'umount'], root: true, paths: ['/dev/loop-control'] });
const agent = ocfAgent('Filesystem');

interface Holder {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** A process that keeps a directory or file busy until it is killed. */
function hold(command: string, cwd: string): Holder {
  const child = spawn('sh', ['-c', command], { cwd, stdio: 'ignore' });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  return { child, exited };
}

function stillRunning(h: Holder): boolean {
  return h.child.exitCode === null && h.child.signalCode === null;
}

/** Waits until the holder's shell has really entered its command (its cwd/fd are in place). */
async function settled(...holders: Holder[]): Promise<void> {
  await new Promise((res) => setTimeout(res, 300));
  for (const h of holders) expect(stillRunning(h)).toBe(true);
}

describe.skipIf(!!why)(`Filesystem on an ext4 loop device (real-process suite) ${why ?? ''}`, () => {
  const tmp = tempDir('fs');
  let loop = '';
  const holders: Holder[] = [];
  const mnt = join(tmp.path, 'mnt');

  beforeAll(() => {
    const img = join(tmp.path, 'disk.img');
    execFileSync('truncate', ['-s', '32M', img]);
    execFileSync('mkfs.ext4', ['-q', '-F', img]);
    loop = execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
  });

  afterEach(() => {
    for (const h of holders.splice(0)) if (stillRunning(h)) h.child.kill('SIGKILL');
  });

  afterAll(() => {
    // Unmount whatever a failed test left, deepest first, then free the loop device.
    const mounts = readMounts().filter((m) => m.startsWith(tmp.path)).sort((a, b) => b.length - a.length);
    for (const m of mounts) spawnSync('umount', ['-l', m]);
    if (loop) spawnSync('losetup', ['-d', loop]);
    tmp.remove();
  });

  const params = () => ({ device: loop, directory: mnt, fstype: 'ext4', kill_delay: '1' });

  it('passes ocf-tester', () => {
    // The reference checks: probe, start, monitor, double start, double stop, all on a real mount.
    const r = ocfTester(agent, params(), { name: 'fs' });
    expect(r.rc, testerReport(r)).toBe(0);
    expect(readMounts()).not.toContain(mnt);
  });

  it('monitors at depth 10 (read) and 20 (write and read back), leaving no file behind', () => {
    // Deep monitors catch a filesystem that is mounted but no longer readable or writable.
    expect(runAgent(agent, 'start', { params: params() }).rc).toBe(OCF.SUCCESS);
    try {
      for (const level of ['0', '10', '20']) {
        expect(runAgent(agent, 'monitor', { params: params(), env: { OCF_CHECK_LEVEL: level } }).rc).toBe(OCF.SUCCESS);
      }
      expect(readdirSync(mnt).filter((f) => f.startsWith('.paceline'))).toEqual([]);
      // Read-only now: depth 10 still passes, depth 20 must fail with a reason.
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      expect(runAgent(agent, 'monitor', { params: params(), env: { OCF_CHECK_LEVEL: '10' } }).rc).toBe(OCF.SUCCESS);
      const w = runAgent(agent, 'monitor', { params: params(), env: { OCF_CHECK_LEVEL: '20' } });
      expect(w.rc).toBe(OCF.ERR_GENERIC);
      expect(w.exitReason).toMatch(/cannot write/);
    } finally {
      spawnSync('mount', ['-o', 'remount,rw', mnt]);
      expect(runAgent(agent, 'stop', { params: params() }).rc).toBe(OCF.SUCCESS);
    }
  });

  it('forced unmount kills the processes using the mount and spares a process outside it', async () => {
    // The promise of the agent: on a busy stop, only that mount's users die, never anything else.
    expect(runAgent(agent, 'start', { params: params() }).rc).toBe(OCF.SUCCESS);
    writeFileSync(join(mnt, 'data'), 'x');
    mkdirSync(join(tmp.path, 'elsewhere'), { recursive: true });
    const cwdInside = hold('exec sleep 1000', mnt);
    const fileInside = hold(`exec 3<"${join(mnt, 'data')}"; exec sleep 1000`, tmp.path);
    const ignoresTerm = hold('trap "" TERM; while :; do sleep 0.2; done', mnt);
    const outside = hold('exec sleep 1000', join(tmp.path, 'elsewhere'));
    holders.push(cwdInside, fileInside, ignoresTerm, outside);
    await settled(cwdInside, fileInside, ignoresTerm, outside);

    const r = runAgent(agent, 'stop', { params: params() });
    expect(r.rc, r.stderr).toBe(OCF.SUCCESS);
    expect(readMounts()).not.toContain(mnt);
    expect((await cwdInside.exited).signal).toBe('SIGTERM');
    expect((await fileInside.exited).signal).toBe('SIGTERM');
    // It ignored SIGTERM, so after kill_delay it got SIGKILL.
    expect((await ignoresTerm.exited).signal).toBe('SIGKILL');
    expect(stillRunning(outside)).toBe(true);
    expect(r.stderr).toMatch(new RegExp(`sending SIGKILL to ${ignoresTerm.child.pid} `));
  });

  it('forced unmount of a bind mount spares the users of its source directory', async () => {
    // fuser -m selects by device: it would kill every user of the source filesystem. We must not.
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'ext4', loop, mnt]);
    const source = join(mnt, 'exported');
    const target = join(tmp.path, 'bound');
    mkdirSync(source, { recursive: true });
    const bind = { device: source, directory: target, fstype: 'none', options: 'bind', kill_delay: '1' };
    try {
      expect(runAgent(agent, 'start', { params: bind }).rc).toBe(OCF.SUCCESS);
      expect(runAgent(agent, 'monitor', { params: bind, env: { OCF_CHECK_LEVEL: '20' } }).rc).toBe(OCF.SUCCESS);
      const viaBind = hold('exec sleep 1000', target);
      const viaSource = hold('exec sleep 1000', source);
      holders.push(viaBind, viaSource);
      await settled(viaBind, viaSource);

      const r = runAgent(agent, 'stop', { params: bind });
      expect(r.rc, r.stderr).toBe(OCF.SUCCESS);
      expect(readMounts()).not.toContain(target);
      expect((await viaBind.exited).signal).toBe('SIGTERM');
      expect(stillRunning(viaSource)).toBe(true);
      expect(r.stderr).not.toContain(`${viaSource.child.pid}`);
    } finally {
      for (const h of holders.splice(0)) if (stillRunning(h)) h.child.kill('SIGKILL');
      spawnSync('umount', [target]);
      spawnSync('umount', [mnt]);
    }
  });

  it('does not take another filesystem mounted on its directory for its own', () => {
    // An admin's tmpfs on the mount point must not make the cluster believe the disk is mounted.
    mkdirSync(mnt, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt]);
    try {
      const probe = runAgent(agent, 'monitor', { params: params(), env: { OCF_RESKEY_CRM_meta_interval: '0' } });
      expect(probe.rc).toBe(OCF.NOT_RUNNING);
      expect(probe.stderr).toMatch(/has tmpfs mounted|has .* mounted, not/);
      expect(runAgent(agent, 'start', { params: params() }).rc).toBe(OCF.SUCCESS);
      expect(runAgent(agent, 'monitor', { params: params() }).rc).toBe(OCF.SUCCESS);
      expect(runAgent(agent, 'stop', { params: params() }).rc).toBe(OCF.SUCCESS);
      // Our filesystem is gone, the tmpfs underneath is left alone.
      expect(readMounts().filter((m) => m === mnt)).toHaveLength(1);
    } finally {
      spawnSync('umount', [mnt]);
    }
  });

  it('with force_unmount=false a busy stop fails with a reason and kills nothing', async () => {
    // Some operators prefer a failed stop (and fencing) to killing processes.
    expect(runAgent(agent, 'start', { params: params() }).rc).toBe(OCF.SUCCESS);
    const inside = hold('exec sleep 1000', mnt);
    holders.push(inside);
    await settled(inside);
    const r = runAgent(agent, 'stop', { params: { ...params(), force_unmount: 'false' } });
    expect(r.rc).toBe(OCF.ERR_GENERIC);
    expect(r.exitReason).toMatch(/busy and force_unmount is false/);
    expect(stillRunning(inside)).toBe(true);
    inside.child.kill('SIGKILL');
    await inside.exited;
    expect(runAgent(agent, 'stop', { params: params() }).rc).toBe(OCF.SUCCESS);
  });

  it('answers bad parameters with 6 and a missing device with 5 (7 for a probe, 0 for a stop)', () => {
    // A node that lacks the device simply cannot run the resource; a probe there must not fail.
    const relative = runAgent(agent, 'validate-all', { params: { ...params(), directory: 'mnt' } });
    expect(relative.rc).toBe(OCF.ERR_CONFIGURED);
    expect(runAgent(agent, 'validate-all', { params: { ...params(), run_fsck: 'sometimes' } }).rc).toBe(OCF.ERR_CONFIGURED);
    expect(runAgent(agent, 'validate-all', { params: { directory: mnt } }).rc).toBe(OCF.ERR_CONFIGURED);
    const gone = { ...params(), device: '/dev/paceline-no-such-disk' };
    const v = runAgent(agent, 'validate-all', { params: gone });
    expect(v.rc).toBe(OCF.ERR_INSTALLED);
    expect(v.exitReason).toContain('/dev/paceline-no-such-disk');
    expect(runAgent(agent, 'monitor', { params: gone, env: { OCF_RESKEY_CRM_meta_interval: '0' } }).rc).toBe(OCF.NOT_RUNNING);
    expect(runAgent(agent, 'stop', { params: gone }).rc).toBe(OCF.SUCCESS);
    expect(existsSync(mnt)).toBe(true);
  });
});

/** Mount points from /proc/self/mountinfo (octal escapes decoded). */
function readMounts(): string[] {
  const text = execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' });
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))));
}
