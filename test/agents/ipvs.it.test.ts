/**
 * Real-process suite: ocf:paceline:ipvs. Parameter validation always runs. With a kernel that
 * has IPVS (/proc/net/ip_vs), ocf-tester and the "remove exactly what was added" rule run inside
 * a network namespace this suite makes (IPVS tables are per namespace). Without it, and until
 * paceline's userspace director exists, the agent must answer OCF_ERR_INSTALLED with a clear
 * reason, "not running" to a probe and success to a stop.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, which } from '../support/env.js';
import { createNetns, OCF, ocfAgent, ocfTester, runAgent, tempDir, testerReport } from './support.js';

const why = missing({ tools: ['ocf-tester', 'xmllint'] });
const agent = ocfAgent('ipvs');
const kernelIpvs = existsSync('/proc/net/ip_vs');
// The userspace director counts once `paceline ipvsadm` answers (the LVS issue adds it).
const pacelineDirector = /ipvsadm/.test(spawnSync('paceline', ['ipvsadm', '--version'], { encoding: 'utf8' }).stdout ?? '');
const service = '-t 10.88.0.100:80 -s wrr -p 300';
const servers = '10.88.0.11:80@3 10.88.0.12:80';

describe.skipIf(!!why)(`ipvs (real-process suite) ${why ?? ''}`, () => {
  const tmp = tempDir('ipvs');
  afterAll(() => tmp.remove());
  const env = () => ({ HA_RSCTMP: tmp.path });

  it.each([
    [{}, /service \(or rules_file\) is required/],
    [{ service: '10.88.0.100:80' }, /must start with -t, -u or -f/],
    [{ service: '-t 10.88.0.100' }, /ADDR:PORT/],
    [{ service, method: 'nat' }, /method must be masq, route or tunnel/],
    [{ service, servers: '10.88.0.11' }, /not ADDR:PORT\[@WEIGHT\]/],
    [{ service, servers: '10.88.0.11:80@heavy' }, /not ADDR:PORT\[@WEIGHT\]/],
    [{ service, rules_file: '/dev/null' }, /either service or rules_file/],
    [{ service, backend: 'userspace' }, /backend must be/],
  ])('rejects %j with OCF_ERR_CONFIGURED', (params, reason) => {
    // Bad rules are a configuration error, found before any backend is touched.
    const r = runAgent(agent, 'validate-all', { params, env: env() });
    expect(r.rc).toBe(OCF.ERR_CONFIGURED);
    expect(r.exitReason).toMatch(reason);
  });

  it('rejects a rules_file line that is not an -A or -a rule', () => {
    // ipvsadm-save files may be edited by hand; a stray -C (clear all!) must never be applied.
    const file = join(tmp.path, 'bad.rules');
    writeFileSync(file, '-A -t 10.88.0.100:80 -s rr\n-C\n');
    const r = runAgent(agent, 'validate-all', { params: { rules_file: file }, env: env() });
    expect(r.rc).toBe(OCF.ERR_CONFIGURED);
    expect(r.exitReason).toContain("'-C'");
    expect(runAgent(agent, 'validate-all', { params: { rules_file: join(tmp.path, 'none.rules') }, env: env() }).rc).toBe(OCF.ERR_INSTALLED);
  });

  it.skipIf(kernelIpvs || pacelineDirector)('without a backend: 5 with a clear reason, 7 for a probe, 0 for a stop (this kernel has no IPVS)', () => {
    // Until a backend exists the resource cannot run here, and the cluster must be told why.
    const params = { service, servers };
    const start = runAgent(agent, 'start', { params, env: env() });
    expect(start.rc).toBe(OCF.ERR_INSTALLED);
    expect(start.exitReason).toMatch(/no IPVS backend: .*\/proc\/net\/ip_vs.*paceline ipvsadm/);
    expect(runAgent(agent, 'validate-all', { params, env: env() }).rc).toBe(OCF.ERR_INSTALLED);
    expect(runAgent(agent, 'monitor', { params, env: { ...env(), OCF_RESKEY_CRM_meta_interval: '0' } }).rc).toBe(OCF.NOT_RUNNING);
    expect(runAgent(agent, 'stop', { params, env: env() }).rc).toBe(OCF.SUCCESS);
    const kernel = runAgent(agent, 'start', { params: { ...params, backend: 'kernel' }, env: env() });
    expect(kernel.rc).toBe(OCF.ERR_INSTALLED);
    expect(kernel.exitReason).toMatch(/kernel has no IPVS/);
  });

  describe.skipIf(!kernelIpvs || !which('ipvsadm'))('with the kernel backend, in a network namespace', () => {
    let ns: ReturnType<typeof createNetns> | undefined;
    const netns = () => {
      ns ??= createNetns('ipvs');
      return ns.name;
    };
    afterAll(() => ns?.remove());
    const table = () => runAgent('/usr/sbin/ipvsadm', ['-S', '-n'], { netns: netns() }).stdout;

    it('passes ocf-tester', () => {
      // The kernel director is the production backend; the agent must follow the OCF contract with it.
      const r = ocfTester(agent, { service, servers, method: 'route' }, { netns: netns(), env: env(), name: 'lvs' });
      expect(r.rc, testerReport(r)).toBe(0);
      expect(table()).not.toContain('10.88.0.100:80');
    });

    it('stop removes exactly what start added, leaving a real server that was there before', () => {
      // Other tools (or another resource) may own part of the table; stop must not touch it.
      expect(runAgent('/usr/sbin/ipvsadm', ['-A', '-t', '10.88.0.200:80', '-s', 'rr'], { netns: netns() }).rc).toBe(0);
      const params = { service: '-t 10.88.0.200:80 -s rr', servers: '10.88.0.21:80 10.88.0.22:80' };
      expect(runAgent(agent, 'monitor', { params, netns: netns(), env: env() }).rc).toBe(OCF.ERR_GENERIC);
      expect(runAgent(agent, 'start', { params, netns: netns(), env: env() }).rc).toBe(OCF.SUCCESS);
      expect(table()).toMatch(/-a -t 10\.88\.0\.200:80 -r 10\.88\.0\.21:80 -m -w 1/);
      expect(runAgent(agent, 'stop', { params, netns: netns(), env: env() }).rc).toBe(OCF.SUCCESS);
      expect(table()).toContain('-A -t 10.88.0.200:80 -s rr');
      expect(table()).not.toContain('10.88.0.21:80');
    });

    it('applies and removes a rules_file in ipvsadm-save format', () => {
      // Saved tables are how existing LVS setups migrate to the cluster.
      const file = join(tmp.path, 'saved.rules');
      writeFileSync(file, '# saved\n-A -u 10.88.0.53:53 -s rr\n-a -u 10.88.0.53:53 -r 10.88.0.31:53 -g -w 2\n');
      const params = { rules_file: file };
      expect(runAgent(agent, 'start', { params, netns: netns(), env: env() }).rc).toBe(OCF.SUCCESS);
      expect(table()).toContain('-a -u 10.88.0.53:53 -r 10.88.0.31:53 -g -w 2');
      expect(runAgent(agent, 'monitor', { params, netns: netns(), env: env() }).rc).toBe(OCF.SUCCESS);
      expect(runAgent(agent, 'stop', { params, netns: netns(), env: env() }).rc).toBe(OCF.SUCCESS);
      expect(table()).not.toContain('10.88.0.53');
    });
  });
});
