import { describe, expect, it } from 'vitest';
import { buildSpawnSpec, stonithStdin } from './command.js';
import type { ActionRequest } from './types.js';

const timing = { timeoutMs: 20_000, intervalMs: 10_000 };
const ctx = { baseEnv: { PATH: '/usr/bin:/bin', HOME: '/root', OCF_RESKEY_leak: 'x', OCF_ROOT: '/elsewhere', OCF_CHECK_LEVEL: '20', OCF_RESOURCE_INSTANCE: 'old' } };

describe('buildSpawnSpec', () => {
  it('gives an OCF agent the OCF 1.1 environment with parameters and meta attributes', () => {
    // ClusterLabs agents read exactly these names; any difference breaks them silently.
    const req: ActionRequest = {
      rscId: 'vip', agent: { agentClass: 'ocf', provider: 'heartbeat', type: 'IPaddr2' }, action: 'monitor',
      params: { ip: '10.0.0.1', cidr_netmask: '24' }, meta: { 'clone-max': '2' }, checkLevel: 10, traceRa: true,
    };
    const spec = buildSpawnSpec(req, { path: '/usr/lib/ocf/resource.d/heartbeat/IPaddr2', ocfRoot: '/usr/lib/ocf' }, timing, ctx);
    expect(spec.command).toBe('/usr/lib/ocf/resource.d/heartbeat/IPaddr2');
    expect(spec.args).toEqual(['monitor']);
    expect(spec.stdin).toBeUndefined();
    expect(spec.env).toEqual({
      PATH: '/usr/bin:/bin', HOME: '/root',
      OCF_ROOT: '/usr/lib/ocf', OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '1', OCF_EXIT_REASON_SUPPORTED: '1',
      OCF_RESOURCE_INSTANCE: 'vip', OCF_RESOURCE_TYPE: 'IPaddr2', OCF_RESOURCE_PROVIDER: 'heartbeat',
      OCF_RESKEY_ip: '10.0.0.1', OCF_RESKEY_cidr_netmask: '24', OCF_RESKEY_CRM_meta_clone_max: '2',
      OCF_RESKEY_CRM_meta_timeout: '20000', OCF_RESKEY_CRM_meta_interval: '10000',
      OCF_CHECK_LEVEL: '10', OCF_RESKEY_OCF_CHECK_LEVEL: '10', OCF_TRACE_RA: '1',
    });
  });

  it('uses the default OCF root for agents outside a resource.d and a fallback PATH', () => {
    // paceline's own agents live in agents/ocf of a checkout, which is not an OCF root.
    const req: ActionRequest = { rscId: 'd', agent: { agentClass: 'ocf', provider: 'paceline', type: 'Dummy' }, action: 'start' };
    const spec = buildSpawnSpec(req, { path: '/repo/agents/ocf/paceline/Dummy' }, timing, { baseEnv: {} });
    expect(spec.env.OCF_ROOT).toBe('/usr/lib/ocf');
    expect(spec.env.PATH).toContain('/usr/sbin');
  });

  it('runs status for an LSB monitor, with no OCF variables', () => {
    // Init scripts take the action as their only argument and know nothing of OCF.
    const req: ActionRequest = { rscId: 's', agent: { agentClass: 'lsb', type: 'ssh' }, action: 'monitor', params: { a: 'b' } };
    const spec = buildSpawnSpec(req, { path: '/etc/init.d/ssh' }, timing, ctx);
    expect(spec.args).toEqual(['status']);
    expect(Object.keys(spec.env).sort()).toEqual(['HOME', 'PATH']);
  });

  it('passes a fence agent its parameters and action on stdin, not in argv', () => {
    // Fence agent passwords must never appear in ps output.
    const req: ActionRequest = { rscId: 'f', agent: { agentClass: 'stonith', type: 'fence_ipmilan' }, action: 'meta-data', params: { password: 's3cret' } };
    const spec = buildSpawnSpec(req, { path: '/usr/sbin/fence_ipmilan' }, timing, ctx);
    expect(spec.args).toEqual([]);
    expect(spec.stdin).toBe('action=metadata\npassword=s3cret\n');
  });
});

describe('stonithStdin', () => {
  it('sends the target as port and nodename, and drops pcmk_* parameters', () => {
    // Pacemaker's default pcmk_host_argument is port; fence agents do not know pcmk_* options.
    const req: ActionRequest = { rscId: 'f', agent: { agentClass: 'stonith', type: 'fence_x' }, action: 'reboot', target: 'node2', params: { ip: '10.0.0.9', pcmk_host_list: 'node2' } };
    expect(stonithStdin(req)).toBe('action=reboot\nip=10.0.0.9\nport=node2\nnodename=node2\n');
  });

  it('honours pcmk_host_argument, including none, and keeps values on one line', () => {
    // Some agents name the target plug or take none; a newline in a value must not inject a key.
    const base = { rscId: 'f', agent: { agentClass: 'stonith' as const, type: 'fence_x' }, action: 'off', target: 'n1' };
    expect(stonithStdin({ ...base, params: { pcmk_host_argument: 'plug' } })).toBe('action=off\nplug=n1\nnodename=n1\n');
    expect(stonithStdin({ ...base, params: { pcmk_host_argument: 'none' } })).toBe('action=off\nnodename=n1\n');
    expect(stonithStdin({ ...base, params: { login: 'a\naction=on' } })).toBe('action=off\nlogin=a action=on\nport=n1\nnodename=n1\n');
  });
});
