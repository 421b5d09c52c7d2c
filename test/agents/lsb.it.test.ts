/**
 * Real-process suite: the LSB init script agents/lsb/paceline-demo and its exit codes, which the
 * executor maps to OCF (status 3 = not running, 1 = dead with a pid file, 0 = running).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing } from '../support/env.js';
import { agentsDir, alive, tempDir } from './support.js';

const why = missing({ tools: ['dash', 'setsid'] });
const script = join(agentsDir, 'lsb/paceline-demo');

describe.skipIf(!!why)(`lsb:paceline-demo (real-process suite) ${why ?? ''}`, () => {
  const tmp = tempDir('lsb');
  const pidfile = join(tmp.path, 'demo.pid');
  const log = join(tmp.path, 'demo.log');
  afterAll(() => {
    run('stop');
    tmp.remove();
  });

  function run(action: string): { rc: number | null; stdout: string } {
    // dash: the script must work where /bin/sh is dash, whatever its shebang finds here.
    const r = spawnSync('dash', [script, action], { env: { PATH: process.env.PATH, PACELINE_DEMO_PIDFILE: pidfile, PACELINE_DEMO_LOG: log }, encoding: 'utf8', timeout: 30_000 });
    return { rc: r.status, stdout: r.stdout };
  }

  it('follows the LSB exit codes through start, status, restart and stop', () => {
    // lsb resources are judged by these codes alone: a wrong status code is a wrong cluster decision.
    expect(run('status').rc).toBe(3);
    expect(run('stop').rc).toBe(0);
    expect(run('start').rc).toBe(0);
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    expect(alive(pid)).toBe(true);
    expect(run('start').rc).toBe(0);
    expect(Number(readFileSync(pidfile, 'utf8').trim())).toBe(pid);
    const status = run('status');
    expect(status.rc).toBe(0);
    expect(status.stdout).toContain(`running (pid ${pid})`);
    expect(run('restart').rc).toBe(0);
    const restarted = Number(readFileSync(pidfile, 'utf8').trim());
    expect(restarted).not.toBe(pid);
    expect(alive(pid)).toBe(false);
    expect(run('force-reload').rc).toBe(0);
    expect(run('stop').rc).toBe(0);
    expect(run('status').rc).toBe(3);
    expect(run('stop').rc).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/started \(pid \d+\)/);
  });

  it('says "dead, pid file exists" (1) for a stale pid file, and rejects unknown actions (2) and reload (3)', () => {
    // A crashed daemon (status 1) must not look like a clean stop (status 3).
    writeFileSync(pidfile, '999999\n');
    expect(run('status').rc).toBe(1);
    expect(run('stop').rc).toBe(0);
    expect(run('status').rc).toBe(3);
    expect(run('dance').rc).toBe(2);
    expect(run('reload').rc).toBe(3);
    expect(run('try-restart').rc).toBe(0);
    expect(run('status').rc).toBe(3);
  });

  it('stops the whole daemon, children included', () => {
    // The daemon's sleep child must not outlive it (it would keep a stopped service half-alive).
    expect(run('start').rc).toBe(0);
    const pid = Number(readFileSync(pidfile, 'utf8').trim());
    expect(run('stop').rc).toBe(0);
    // Zombies waiting for init to reap them are dead; anything else in the group is a leak.
    const rows = spawnSync('ps', ['-e', '-o', 'pgid=,stat='], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim().split(/\s+/));
    expect(rows.filter(([g, stat]) => Number(g) === pid && !stat?.startsWith('Z'))).toEqual([]);
  });
});
