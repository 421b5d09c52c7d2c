/**
 * Real ClusterLabs agents, unchanged, through the executor (real-process suite): Debian's
 * ocf:heartbeat:Dummy, and ocf:heartbeat:IPaddr2 inside a network namespace this suite creates
 * and removes (the agent runs under `ip netns exec`; its ARP stays inside the namespace).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentCatalog,
  RealProcessRunner,
  createExecutor,
  type ActionRequest,
  type Executor,
  type ProcessRunner,
} from '@paceline/executor';
import { missing, which } from '../support/env.js';

const HEARTBEAT = '/usr/lib/ocf/resource.d/heartbeat';

const whyDummy = missing({ paths: [`${HEARTBEAT}/Dummy`, '/usr/lib/ocf/lib/heartbeat/ocf-shellfuncs'] });
describe.skipIf(!!whyDummy)(`ocf:heartbeat:Dummy through the executor ${whyDummy ?? ''}`, () => {
  let executor: Executor;
  let dir: string;
  beforeAll(() => {
    executor = createExecutor();
    dir = mkdtempSync(join(tmpdir(), 'pl-hb-'));
  });
  afterAll(() => {
    executor?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('probes, starts, monitors, stops and reads meta-data', async () => {
    // The reference agent of the OCF world must behave under paceline exactly as under Pacemaker.
    const base = { rscId: 'dummy1', agent: { agentClass: 'ocf' as const, provider: 'heartbeat', type: 'Dummy' }, params: { state: join(dir, 'dummy1.state') } };
    const step = async (action: string, extra: Partial<ActionRequest> = {}) => (await executor.run({ ...base, action, ...extra })).rcName;
    expect(await step('monitor')).toBe('OCF_NOT_RUNNING');
    expect(await step('start')).toBe('OCF_SUCCESS');
    expect(await step('monitor', { intervalMs: 10_000 })).toBe('OCF_SUCCESS');
    expect(await step('stop')).toBe('OCF_SUCCESS');
    expect(await step('stop')).toBe('OCF_SUCCESS');
    expect(await step('monitor')).toBe('OCF_NOT_RUNNING');
    const md = await new AgentCatalog().metadata(executor, base.agent);
    if (!md.ok) throw new Error(md.error.message);
    expect(md.metadata.name).toBe('Dummy');
    expect(md.metadata.parameters.map((p) => p.name)).toContain('state');
    expect(md.metadata.actions.find((a) => a.name === 'start')?.timeoutMs).toBe(20_000);
  });

  it('finds Dummy by its bare name under heartbeat', () => {
    // crmsh users write `primitive d Dummy`; heartbeat is searched first, as crmsh does.
    expect(new AgentCatalog().resolve('Dummy')).toEqual({ ok: true, agent: { agentClass: 'ocf', provider: 'heartbeat', type: 'Dummy' } });
  });
});

/** Runs every agent inside a network namespace, through `ip netns exec` (which execs in place, keeping the pid). */
class NetnsRunner implements ProcessRunner {
  private readonly real = new RealProcessRunner();
  constructor(private readonly ns: string) {}
  spawn(...[spec, sink]: Parameters<ProcessRunner['spawn']>) {
    return this.real.spawn({ ...spec, command: which('ip') ?? '/usr/sbin/ip', args: ['netns', 'exec', this.ns, spec.command, ...spec.args] }, sink);
  }
}

const whyIp = missing({ root: true, netns: true, tools: ['ip'], paths: [`${HEARTBEAT}/IPaddr2`] });
describe.skipIf(!!whyIp)(`ocf:heartbeat:IPaddr2 in a network namespace ${whyIp ?? ''}`, () => {
  const ns = `pl-exec-${process.pid}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });
  let executor: Executor;
  beforeAll(() => {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    // A veth pair with both ends in the namespace (the dummy driver is not always available).
    ip('-n', ns, 'link', 'add', 'pl0', 'type', 'veth', 'peer', 'name', 'pl1');
    ip('-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'pl0');
    ip('-n', ns, 'link', 'set', 'pl0', 'up');
    ip('-n', ns, 'link', 'set', 'pl1', 'up');
    executor = createExecutor({ runner: new NetnsRunner(ns) });
  });
  afterAll(() => {
    executor?.close();
    try {
      ip('netns', 'delete', ns);
    } catch {
      // already gone
    }
  });

  it('adds, monitors and removes a floating address', async () => {
    // The floating IP is the first thing users put on a cluster; the stock agent must work unchanged.
    const base = { rscId: 'vip', agent: { agentClass: 'ocf' as const, provider: 'heartbeat', type: 'IPaddr2' }, params: { ip: '192.0.2.10', cidr_netmask: '24', nic: 'pl0' } };
    const step = async (action: string) => {
      const r = await executor.run({ ...base, action, timeoutMs: 20_000 });
      return `${r.execStatus} ${r.rcName}${r.exitReason ? ` (${r.exitReason})` : ''}`;
    };
    expect(await step('monitor')).toBe('done OCF_NOT_RUNNING');
    expect(await step('start')).toBe('done OCF_SUCCESS');
    expect(ip('-n', ns, 'addr', 'show', 'dev', 'pl0')).toContain('192.0.2.10/24');
    expect(await step('monitor')).toBe('done OCF_SUCCESS');
    expect(await step('stop')).toBe('done OCF_SUCCESS');
    expect(ip('-n', ns, 'addr', 'show', 'dev', 'pl0')).not.toContain('192.0.2.10');
    expect(await step('monitor')).toBe('done OCF_NOT_RUNNING');
  });

  it('passes on the agent rc 6 and its exit reason for a bad address', async () => {
    // Bad parameters from a real agent: OCF_ERR_CONFIGURED with the agent's own words.
    const r = await executor.run({ rscId: 'bad', agent: { agentClass: 'ocf', provider: 'heartbeat', type: 'IPaddr2' }, action: 'start', params: { ip: 'not-an-ip', nic: 'pl0' } });
    expect(r.execStatus).toBe('done');
    expect([2, 6]).toContain(r.rc);
    expect(r.exitReason).toBeTruthy();
  });
});
