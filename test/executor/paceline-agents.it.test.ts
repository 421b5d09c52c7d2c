/**
 * paceline's own agents from this checkout (agents/), found by the executor's default search
 * path relative to the package, run through the executor (real-process suite): ocf:paceline:Dummy,
 * the lsb script paceline-demo, and stonith:fence_dummy. The agents' own behaviour is tested
 * with their own suites; this checks that the executor finds and drives them.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentCatalog, createExecutor, defaultAgentPaths, FsAgentLocator, repoAgentsDir, type Executor } from '@paceline/executor';
import { repoRoot } from '../support/env.js';

let dir: string;
let executor: Executor;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pl-own-'));
  executor = createExecutor({ baseEnv: { ...process.env, PACELINE_DEMO_PIDFILE: join(dir, 'demo.pid') } });
});

afterAll(() => {
  executor?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('paceline agents from the checkout (real-process suite)', () => {
  it('finds the repository agents directory relative to the package', () => {
    // A checkout must work uninstalled: `paceline ra run Dummy start` from the source tree.
    expect(repoAgentsDir()).toBe(join(repoRoot, 'agents'));
    expect(defaultAgentPaths({}).ocfResourceDirs).toEqual([join(repoRoot, 'agents/ocf'), '/usr/lib/ocf/resource.d']);
    expect(new FsAgentLocator().locate({ agentClass: 'ocf', provider: 'paceline', type: 'Dummy' })).toEqual({ path: join(repoRoot, 'agents/ocf/paceline/Dummy') });
  });

  it.skipIf(!existsSync(join(repoRoot, 'agents/ocf/paceline/Dummy')))('drives ocf:paceline:Dummy through start, monitor, stop and meta-data', async () => {
    // paceline's reference agent, with the same steps as Pacemaker would take.
    const base = { rscId: 'pd', agent: { agentClass: 'ocf' as const, provider: 'paceline', type: 'Dummy' }, params: { state: join(dir, 'pd.state') } };
    const rc = async (action: string) => (await executor.run({ ...base, action })).rcName;
    expect(await rc('monitor')).toBe('OCF_NOT_RUNNING');
    expect(await rc('start')).toBe('OCF_SUCCESS');
    expect(await rc('monitor')).toBe('OCF_SUCCESS');
    expect(await rc('stop')).toBe('OCF_SUCCESS');
    expect(await rc('monitor')).toBe('OCF_NOT_RUNNING');
    const md = await new AgentCatalog().metadata(executor, base.agent);
    if (!md.ok) throw new Error(md.error.message);
    expect(md.metadata.parameters.find((p) => p.name === 'state')).toBeDefined();
  });

  it.skipIf(!existsSync(join(repoRoot, 'agents/lsb/paceline-demo')))('drives lsb:paceline-demo, mapping its status codes', async () => {
    // The lsb class end to end: status 3 (stopped) must read as OCF_NOT_RUNNING, not as an error.
    const base = { rscId: 'demo', agent: { agentClass: 'lsb' as const, type: 'paceline-demo' } };
    const rc = async (action: string) => (await executor.run({ ...base, action })).rcName;
    expect(await rc('monitor')).toBe('OCF_NOT_RUNNING');
    expect(await rc('start')).toBe('OCF_SUCCESS');
    expect(await rc('monitor')).toBe('OCF_SUCCESS');
    expect(await rc('stop')).toBe('OCF_SUCCESS');
    expect(await rc('monitor')).toBe('OCF_NOT_RUNNING');
    const md = await new AgentCatalog().metadata(executor, base.agent);
    expect(md).toMatchObject({ ok: true, metadata: { name: 'paceline-demo' } });
  });

  it.skipIf(!existsSync(join(repoRoot, 'agents/stonith/fence_dummy')))('reads stonith:fence_dummy meta-data, starts it as a device and runs its monitor', async () => {
    // Fence agents are found in agents/stonith before /usr/sbin, and speak the stdin protocol.
    const agent = { agentClass: 'stonith' as const, type: 'fence_dummy' };
    const md = await new AgentCatalog().metadata(executor, agent);
    if (!md.ok) throw new Error(md.error.message);
    expect(md.metadata.actions.map((a) => a.name)).toEqual(expect.arrayContaining(['on', 'off', 'reboot', 'status', 'monitor', 'list']));
    // As a cluster resource, a fence device is "not running" until started (registered); the
    // start runs the agent's monitor, and monitors then ask the agent.
    const params = { state_file: join(dir, 'fence.state') };
    expect(await executor.run({ rscId: 'fd', agent, action: 'monitor', params })).toMatchObject({ execStatus: 'done', rc: 7 });
    expect(await executor.run({ rscId: 'fd', agent, action: 'start', params })).toMatchObject({ execStatus: 'done', rc: 0 });
    expect(await executor.run({ rscId: 'fd', agent, action: 'monitor', params })).toMatchObject({ execStatus: 'done', rc: 0 });
  });
});
