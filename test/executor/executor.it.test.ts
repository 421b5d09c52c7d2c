/**
 * The executor with real processes: small shell agents written into a temp dir, run through the
 * real runner and clock. Covers what only real processes show: process-group kills, signals,
 * pipes flooded by an agent, spawn failures, the environment an agent really sees.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentCatalog, createExecutor, RealProcessRunner, type ActionRequest, type AgentPaths, type Executor } from '@paceline/executor';
import { inCi } from '../support/env.js';

let dir: string;
let paths: AgentPaths;
let executor: Executor;

function agent(relPath: string, body: string): string {
  const path = join(dir, relPath);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, 0o755);
  return path;
}

const ocf = (type: string) => ({ agentClass: 'ocf' as const, provider: 'test', type });

/** Running, not a zombie (an init that does not reap, as in some containers, leaves zombies). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pl-exec-'));
  paths = { ocfResourceDirs: [join(dir, 'ocf')], lsbDirs: [join(dir, 'init.d')], stonithDirs: [join(dir, 'sbin')] };
  agent('ocf/test/Env', '#!/bin/sh\nenv | grep -E "^OCF_" | sort\nexit 0\n');
  agent(
    'ocf/test/Hang',
    `#!/bin/sh
# A hung agent that ignores TERM and has a child in its process group.
trap '' TERM
sleep 1000 &
echo $! > "$OCF_RESKEY_pidfile"
while :; do sleep 1; done
`,
  );
  agent(
    'ocf/test/Orphan',
    `#!/bin/sh
# The leader dies of TERM at once; its child ignores TERM and holds stdout open.
( trap '' TERM; exec sleep 1000 ) &
echo $! > "$OCF_RESKEY_pidfile"
wait
`,
  );
  agent('ocf/test/Slow', '#!/bin/sh\nsleep 1000 &\necho $! > "$OCF_RESKEY_pidfile"\nwait\n');
  agent(
    'ocf/test/Flood',
    '#!/bin/sh\necho "ocf-exit-reason:flooding on purpose" >&2\nhead -c 30000000 /dev/zero | tr "\\0" "x"\nhead -c 30000000 /dev/zero | tr "\\0" "y" >&2\nexit 1\n',
  );
  agent(
    'ocf/test/Strict',
    '#!/bin/sh\nif [ -z "$OCF_RESKEY_required" ]; then echo "ocf-exit-reason:parameter required is missing" >&2; exit 6; fi\nexit 0\n',
  );
  agent('ocf/test/Segv', '#!/bin/sh\nkill -SEGV $$\nsleep 5\n');
  agent('ocf/test/NoInterp', '#!/nonexistent/interpreter\nexit 0\n');
  agent('init.d/tinyd', '#!/bin/sh\ncase "$1" in status) exit 3;; start) exit 0;; *) exit 3;; esac\n');
  agent(
    'sbin/fence_test',
    '#!/bin/sh\n# echoes its stdin to stderr; status says the target is off\nwhile read -r line; do echo "$line" >&2; case "$line" in action=*) a=${line#action=};; esac; done\n[ "$a" = status ] && exit 2\nexit 0\n',
  );
  for (const native of [true, false]) {
    executors.set(native, createExecutor({ paths, killGraceMs: 300, abandonAfterKillMs: 2000, actionsParallelMax: 4, runner: new RealProcessRunner({ native }) }));
  }
});

afterAll(() => {
  for (const e of executors.values()) e.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const run = (req: Partial<ActionRequest> & Pick<ActionRequest, 'agent'>) => executor.run({ rscId: 'r1', action: 'start', ...req });

/** One executor per way of starting processes: the native spawner (posix_spawn) and node:child_process. */
const executors = new Map<boolean, Executor>();

it('has the native spawner built (packages/executor/scripts/build-native.mjs) where a C compiler is', () => {
  // Without it every agent run forks the whole daemon; CI machines have a compiler.
  if (inCi || existsSync('/usr/bin/cc')) expect(new RealProcessRunner().nativeSpawn).toBe(true);
});

describe.each([
  { native: true, how: 'native spawner' },
  { native: false, how: 'node:child_process' },
])('executor with real processes, $how (real-process suite)', ({ native }) => {
  beforeAll(() => {
    executor = executors.get(native)!;
  });

  it('gives an agent the OCF environment it reads', async () => {
    // Checks the variables as the agent's own shell sees them, not as we built them.
    const r = await run({ agent: ocf('Env'), action: 'monitor', params: { ip: '10.1.1.1' }, intervalMs: 5000, checkLevel: 20 });
    expect(r).toMatchObject({ execStatus: 'done', rc: 0 });
    for (const line of ['OCF_RESKEY_ip=10.1.1.1', 'OCF_RESKEY_CRM_meta_interval=5000', 'OCF_RESKEY_CRM_meta_timeout=20000', 'OCF_CHECK_LEVEL=20', 'OCF_RESOURCE_INSTANCE=r1', 'OCF_RESOURCE_PROVIDER=test', 'OCF_RESOURCE_TYPE=Env', 'OCF_RA_VERSION_MAJOR=1', 'OCF_ROOT=/usr/lib/ocf']) {
      expect(r.stdout.split('\n')).toContain(line);
    }
  });

  it('kills a hung agent that ignores TERM, and the children in its process group', async () => {
    // A timed-out stop that left its children running would keep the resource half-alive.
    const pidfile = join(dir, 'hang.pid');
    const r = await run({ agent: ocf('Hang'), action: 'stop', timeoutMs: 500, params: { pidfile } });
    expect(r).toMatchObject({ execStatus: 'timed-out', rc: 1, rcName: 'OCF_ERR_GENERIC', signal: 'SIGKILL' });
    const child = Number(readFileSync(pidfile, 'utf8'));
    expect(child).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(child)).toBe(false);
  });

  it('kills what is left of the group when the leader dies of TERM but a child ignores it', async () => {
    // A child left behind after a timed-out action would keep a half-stopped resource alive.
    const pidfile = join(dir, 'orphan.pid');
    const r = await run({ agent: ocf('Orphan'), action: 'stop', timeoutMs: 300, params: { pidfile } });
    expect(r).toMatchObject({ execStatus: 'timed-out', signal: 'SIGTERM' });
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(Number(readFileSync(pidfile, 'utf8')))).toBe(false);
  });

  it('cancels a running agent by killing its process group', async () => {
    // Cancellation must free the resource and leave nothing of the action behind.
    const pidfile = join(dir, 'slow.pid');
    const done = new Promise<import('@paceline/executor').ActionResult>((resolve) => {
      const r = executor.execute({ rscId: 'slow', agent: ocf('Slow'), action: 'start', params: { pidfile } }, resolve);
      if (!r.ok) throw new Error(r.error.message);
      const poll = setInterval(() => {
        if (existsSync(pidfile) && readFileSync(pidfile, 'utf8').trim() !== '') {
          clearInterval(poll);
          executor.cancel(r.callId);
        }
      }, 20);
    });
    const r = await done;
    expect(r).toMatchObject({ execStatus: 'cancelled', signal: 'SIGTERM' });
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(Number(readFileSync(pidfile, 'utf8')))).toBe(false);
  });

  it('survives an agent that floods stdout and stderr, keeping bounded tails and the exit reason', async () => {
    // 60 MB of output must cost the bound, not 60 MB, and the reason printed first must survive.
    const r = await run({ agent: ocf('Flood'), outputCharsMax: 64 * 1024 });
    expect(r).toMatchObject({ execStatus: 'done', rc: 1, exitReason: 'flooding on purpose' });
    expect(r.stdout.length).toBe(64 * 1024);
    expect(r.stderr.length).toBe(64 * 1024);
    expect(r.stdout).toMatch(/^x+$/);
    expect(r.outputTruncatedChars).toBe(60_000_000 + 'ocf-exit-reason:flooding on purpose\n'.length - 2 * 64 * 1024);
  });

  it('reports a missing agent as not installed without running anything', async () => {
    // The cluster treats not-installed as a hard, node-wide failure of the resource.
    const r = await run({ agent: ocf('NoSuchAgent') });
    expect(r).toMatchObject({ execStatus: 'not-installed', rc: 5, rcName: 'OCF_ERR_INSTALLED' });
  });

  it('reports an agent whose interpreter is missing as not installed', async () => {
    // The file exists but cannot be executed: the kernel says ENOENT.
    const r = await run({ agent: ocf('NoInterp') });
    expect(r).toMatchObject({ execStatus: 'not-installed', rc: 5 });
  });

  it('passes on the agent rc 6 and its reason for bad parameters', async () => {
    // OCF_ERR_CONFIGURED must reach the controller as the agent's answer, with status done.
    const r = await run({ agent: ocf('Strict'), params: {} });
    expect(r).toMatchObject({ execStatus: 'done', rc: 6, rcName: 'OCF_ERR_CONFIGURED', exitReason: 'parameter required is missing' });
    expect(await run({ agent: ocf('Strict'), params: { required: 'yes' } })).toMatchObject({ rc: 0 });
  });

  it('reports an agent killed by a signal as an error naming the signal', async () => {
    // A crashed agent gave no answer; its death must not be read as an rc.
    const r = await run({ agent: ocf('Segv') });
    expect(r).toMatchObject({ execStatus: 'error', rc: 1, signal: 'SIGSEGV' });
  });

  it('maps an LSB status of 3 to OCF_NOT_RUNNING', async () => {
    // An init script's "stopped" must read as stopped.
    const r = await run({ agent: { agentClass: 'lsb', type: 'tinyd' }, action: 'monitor' });
    expect(r).toMatchObject({ execStatus: 'done', exitCode: 3, rc: 7, rcName: 'OCF_NOT_RUNNING' });
  });

  it('feeds a fence agent key=value lines on stdin and maps status 2 to off', async () => {
    // The fencer's protocol with fence-agents: nothing on the command line.
    const r = await run({ agent: { agentClass: 'stonith', type: 'fence_test' }, action: 'status', target: 'node3', params: { ip: '192.0.2.7', pcmk_delay_max: '5' } });
    expect(r).toMatchObject({ execStatus: 'done', exitCode: 2, rc: 7 });
    expect(r.stderr).toBe('action=status\nip=192.0.2.7\nport=node3\nnodename=node3\n');
  });

  it('reports a recurring monitor once while its answer stays the same', async () => {
    // Only changes go to the controller, with real timers too.
    const results: string[] = [];
    const r = executor.execute({ rscId: 'mon', agent: ocf('Env'), action: 'monitor', intervalMs: 50 }, (res) => results.push(`${res.execStatus}:${res.runNumber}`));
    if (!r.ok) throw new Error(r.error.message);
    await new Promise((res) => setTimeout(res, 600));
    executor.cancel(r.callId);
    await new Promise((res) => setTimeout(res, 50));
    expect(results[0]).toBe('done:1');
    expect(results).toHaveLength(2);
    expect(results[1]).toMatch(/^cancelled:/);
  });
});

describe('agent discovery (real-process suite)', () => {
  it('lists providers and agents per class and resolves bare names', () => {
    // What `paceline ra list` and the shell's completion show.
    const catalog = new AgentCatalog(paths);
    expect(catalog.providers()).toEqual(['test']);
    expect(catalog.providers('Env')).toEqual(['test']);
    expect(catalog.providers('Nope')).toEqual([]);
    expect(catalog.agents('ocf', 'test').map((a) => a.type)).toEqual(['Env', 'Flood', 'Hang', 'NoInterp', 'Orphan', 'Segv', 'Slow', 'Strict']);
    expect(catalog.agents('lsb')).toEqual([{ agentClass: 'lsb', type: 'tinyd' }]);
    expect(catalog.agents('stonith')).toEqual([{ agentClass: 'stonith', type: 'fence_test' }]);
    expect(catalog.resolve('Env')).toEqual({ ok: true, agent: { agentClass: 'ocf', provider: 'test', type: 'Env' } });
    expect(catalog.resolve('tinyd')).toEqual({ ok: true, agent: { agentClass: 'lsb', type: 'tinyd' } });
    expect(catalog.resolve('fence_test')).toEqual({ ok: true, agent: { agentClass: 'stonith', type: 'fence_test' } });
    expect(catalog.resolve('nothing')).toMatchObject({ ok: false, error: { code: 'agent-not-found' } });
    expect(catalog.resolve('ocf:test:../../etc')).toMatchObject({ ok: false, error: { code: 'bad-agent-name' } });
  });

  it('makes LSB meta-data from the script and reports a failing meta-data action', async () => {
    // Discovery must not crash on agents without proper meta-data.
    const catalog = new AgentCatalog(paths);
    const lsb = await catalog.metadata(executor, { agentClass: 'lsb', type: 'tinyd' });
    expect(lsb).toMatchObject({ ok: true, metadata: { name: 'tinyd' } });
    const bad = await catalog.metadata(executor, ocf('Strict'));
    expect(bad).toMatchObject({ ok: false, error: { code: 'metadata-failed' } });
    const env = await catalog.metadata(executor, ocf('Env'));
    expect(env).toMatchObject({ ok: false, error: { code: 'metadata-syntax' } });
  });
});
