/**
 * `paceline lab up|status|exec|fault|down` through the commander command (local driver,
 * stand-in nodes, --no-wait), without the built binary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { labDown, labProcesses, loadLab, nodePid } from '@paceline/lab';
import { labCommand } from '../../packages/cli/src/commands/lab.js';
import { missing } from '../support/env.js';
import { alive, STANDIN } from './support.js';

const why = missing({ tools: ['sh', 'sleep', 'setsid'] });

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  process.exitCode = undefined;
  try {
    const program = new Command('paceline').enablePositionalOptions().exitOverride().addCommand(labCommand());
    await program.parseAsync(['lab', ...args], { from: 'user' });
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.exitCode = undefined;
  return { code, out, err };
}

describe.skipIf(!!why)(`paceline lab (command) ${why ?? ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-lab-cli-'));
  afterEach(() => {
    process.exitCode = undefined;
  });
  afterAll(async () => {
    await labDown(dir).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('up, status, exec, fault, down', async () => {
    const up = await cli('up', '--name', 'tc', '--dir', dir, '--driver', 'local', '--nodes', '2', '--no-wait', '--node-command', JSON.stringify(STANDIN));
    expect(up.err).toBe('');
    expect(up.code).toBe(0);
    expect(up.out).toMatch(/node1: started, pid \d+/);
    expect(up.out).toMatch(/lab tc is up/);

    const st = await cli('status', '--dir', dir);
    expect(st.code).toBe(0);
    expect(st.out).toMatch(/node1: running \(pid \d+\) 127\.0\.0\.1:\d+/);

    const json = await cli('status', '--dir', dir, '--json');
    expect((JSON.parse(json.out) as { nodes: unknown[] }).nodes.length).toBe(2);

    const ex = await cli('exec', '--dir', dir, 'node2', '--', 'sh', '-c', 'test "$PACELINE_LAB_NODE" = node2 && exit 7');
    expect(ex.code).toBe(7);

    const n1 = loadLab(dir).nodes[0]!;
    const old = nodePid(n1)!;
    expect((await cli('fault', '--dir', dir, 'power-off', 'node1')).code).toBe(0);
    expect(alive(old)).toBe(false);
    expect((await cli('fault', '--dir', dir, 'power-on', 'node1')).code).toBe(0);
    expect(alive(nodePid(n1)!)).toBe(true);
    const bad = await cli('fault', '--dir', dir, 'link-down', 'node1');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/needs the netns driver/);
    expect((await cli('fault', '--dir', dir, 'explode', 'node1')).code).toBe(64);

    const down = await cli('down', '--dir', dir, '--name', 'tc');
    expect(down.code).toBe(0);
    expect(labProcesses(dir)).toEqual([]);
    expect((await cli('down', '--dir', dir, '--name', 'tc')).code).toBe(0);
  });

  it('bad input: unknown driver, bad node command, no lab', async () => {
    expect((await cli('up', '--dir', dir, '--driver', 'vm')).code).toBe(64);
    expect((await cli('up', '--dir', dir, '--driver', 'local', '--node-command', '"x"')).code).toBe(64);
    const st = await cli('status', '--dir', join(dir, 'nothing'));
    expect(st.code).toBe(1);
    expect(st.err).toMatch(/holds no lab/);
  });
});
