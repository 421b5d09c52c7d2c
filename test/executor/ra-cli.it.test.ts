/**
 * `paceline ra` through commander, with real agents in a temp dir (real-process suite). The
 * command is registered on a fresh program, as the main binary does, and its output captured.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentPaths } from '@paceline/executor';
import { registerRaCommands } from '../../packages/cli/src/commands/ra.js';

let dir: string;
let paths: AgentPaths;

const META = `<?xml version="1.0"?>
<resource-agent name="Echo" version="1.0"><version>1.1</version>
<longdesc lang="en">Echoes.</longdesc><shortdesc lang="en">An echo agent</shortdesc>
<parameters><parameter name="word" required="1" unique="1"><shortdesc lang="en">what to say</shortdesc><content type="string" default="hi"/></parameter></parameters>
<actions><action name="start" timeout="20s"/><action name="monitor" timeout="20s" interval="10s" depth="0"/></actions>
</resource-agent>`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pl-ra-'));
  paths = { ocfResourceDirs: [join(dir, 'ocf')], lsbDirs: [join(dir, 'init.d')], stonithDirs: [join(dir, 'sbin')] };
  mkdirSync(join(dir, 'ocf/demo'), { recursive: true });
  mkdirSync(join(dir, 'init.d'));
  mkdirSync(join(dir, 'sbin'));
  const echo = join(dir, 'ocf/demo/Echo');
  writeFileSync(
    echo,
    `#!/bin/sh
case "$1" in
meta-data) cat <<'END'
${META}
END
exit 0;;
start) [ -n "$OCF_RESKEY_word" ] || { echo "ocf-exit-reason:word is required" >&2; exit 6; }
  echo "said $OCF_RESKEY_word interval=$OCF_RESKEY_CRM_meta_interval timeout=$OCF_RESKEY_CRM_meta_timeout"; exit 0;;
hang) sleep 30;;
*) exit 3;;
esac
`,
  );
  chmodSync(echo, 0o755);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function ra(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  let code = 0;
  const program = new Command().exitOverride();
  registerRaCommands(program, { out: (t) => (out += t), err: (t) => (err += t), setExitCode: (c) => (code = c), paths });
  await program.parseAsync(['ra', ...args], { from: 'user' });
  return { out, err, code };
}

describe('paceline ra (real-process suite)', () => {
  it('lists classes, agents and providers', async () => {
    // Discovery as a user sees it before writing a primitive.
    expect((await ra('classes')).out).toBe('ocf / demo\nlsb\nstonith\n');
    expect((await ra('list', 'ocf')).out).toBe('Echo\n');
    expect((await ra('list', 'ocf:demo')).out).toBe('Echo\n');
    expect((await ra('list', 'lsb')).out).toBe('');
    expect((await ra('providers', 'Echo')).out).toBe('demo\n');
    expect(await ra('list', 'nope')).toMatchObject({ code: 64 });
  });

  it('shows parameters and default operations from the meta-data', async () => {
    // `ra info` is how users learn an agent's parameters.
    const r = await ra('info', 'Echo');
    expect(r.code).toBe(0);
    expect(r.out).toContain('ocf:demo:Echo - An echo agent');
    expect(r.out).toContain('word* (string, [hi]) {unique}: what to say');
    expect(r.out).toMatch(/monitor\s+timeout=20s interval=10s depth=0/);
    expect(await ra('info', 'ocf:demo:Missing')).toMatchObject({ code: 105 });
  });

  it('runs one action and exits with its rc, printing the rc name, reason and time', async () => {
    // Like crm_resource --force-start: the exit code is the agent's answer.
    const ok = await ra('run', 'ocf:demo:Echo', 'start', 'word=hello', '--interval', '10s', '--timeout', '30s');
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ocf:demo:Echo start: rc=0 \(OCF_SUCCESS\) status=done time=\d+ms\n/);
    expect(ok.out).toContain('said hello interval=10000 timeout=30000');
    const bad = await ra('run', 'Echo', 'start');
    expect(bad.code).toBe(6);
    expect(bad.out).toContain('rc=6 (OCF_ERR_CONFIGURED)');
    expect(bad.out).toContain('exit reason: word is required');
  });

  it('kills the agent and exits 130 on Ctrl-C', async () => {
    // The agent leads its own process group, so the terminal's SIGINT would not reach it.
    const pending = ra('run', 'Echo', 'hang', '--timeout', '60s');
    await new Promise((res) => setTimeout(res, 300));
    process.emit('SIGINT');
    const r = await pending;
    expect(r.code).toBe(130);
    expect(r.out).toContain('status=cancelled');
  });

  it('reports a timeout with rc 1 and rejects bad options', async () => {
    // A hung agent must not hang the command.
    const r = await ra('run', 'Echo', 'hang', '--timeout', '300ms');
    expect(r.code).toBe(1);
    expect(r.out).toContain('status=timed-out');
    expect(await ra('run', 'Echo', 'start', '--timeout', 'soon')).toMatchObject({ code: 64 });
    expect(await ra('run', 'Echo', 'start', 'noequals')).toMatchObject({ code: 64 });
    const missing = await ra('run', 'ocf:demo:Missing', 'start');
    expect(missing.code).toBe(5);
    expect(missing.out).toContain('rc=5 (OCF_ERR_INSTALLED) status=not-installed');
  });
});
