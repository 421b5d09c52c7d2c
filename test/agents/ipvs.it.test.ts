/**
 * Real-process suite: ocf:paceline:ipvs. Parameter validation always runs. With a kernel that
 * has IPVS (/proc/net/ip_vs), ocf-tester and the "remove exactly what was added" rule run inside
 * a network namespace this suite makes (IPVS tables are per namespace). Without it, the agent must
 * answer OCF_ERR_INSTALLED with a clear reason when paceline's director is not installed either.
 * With paceline's userspace director (the built CLI, packages/cli/dist; this suite builds
 * nothing), ocf-tester, real TCP traffic through a 127.0.0.x VIP to real servers this suite runs
 * on 127.0.0.1, and rules_file run against a director in a private state directory, on any host.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing, repoRoot, which } from '../support/env.js';
import { createNetns, OCF, ocfAgent, ocfTester, runAgent, tempDir, testerReport } from './support.js';

const why = missing({ tools: ['ocf-tester', 'xmllint'] });
const agent = ocfAgent('ipvs');
const kernelIpvs = existsSync('/proc/net/ip_vs');
const pacelineBin = join(repoRoot, 'packages/cli/bin/paceline.js');
// The userspace director runs from the built CLI; CI builds before the tests.
const whyNoDirector = why ?? missing({ paths: [join(repoRoot, 'packages/cli/dist/main.js')] });
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

  it.skipIf(kernelIpvs)('without a backend: 5 with a clear reason, 7 for a probe, 0 for a stop (this kernel has no IPVS)', () => {
    // Without IPVS and without paceline the resource cannot run here, and the cluster must be told why.
    const params = { service, servers, paceline: '/nonexistent/paceline' };
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

/** A TCP server on 127.0.0.1 (ephemeral port) that greets each client with its name and closes. */
function realServer(name: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer((sock) => sock.end(`${name}\n`));
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

function portOf(srv: Server): number {
  return (srv.address() as AddressInfo).port;
}

/** A port that is free on `host` right now (the director binds it moments later). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = portOf(srv);
      srv.close(() => resolve(port));
    });
  });
}

/** What a TCP client reads from host:port until the server closes; errors are returned as text. */
function readFrom(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    let buf = '';
    const sock = createConnection({ host, port });
    sock.setTimeout(5000, () => sock.destroy(new Error('timeout')));
    sock.on('data', (d) => { buf += String(d); });
    sock.on('error', (e) => resolve(`error: ${e.message}`));
    sock.on('close', () => resolve(buf));
  });
}

/** readFrom, retried while the director's listener is not up yet (connection refused), for up to 3 s. */
async function readThroughVip(host: string, port: number): Promise<string> {
  const until = Date.now() + 3000;
  for (;;) {
    const got = await readFrom(host, port);
    if (!got.includes('ECONNREFUSED') || Date.now() > until) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!!whyNoDirector)(`ipvs on paceline's userspace director (real-process suite, loopback) ${whyNoDirector ?? ''}`, () => {
  const tmp = tempDir('ipvs-director');
  const dirs: string[] = [];
  const rs: Server[] = [];
  let p1 = 0;
  let p2 = 0;
  const env = () => ({ HA_RSCTMP: tmp.path });
  /** Agent parameters for the userspace backend with a director in a private state directory. */
  const backend = (dir: string) => ({ backend: 'paceline', paceline: pacelineBin, director_state_dir: dir });
  const newDir = (name: string) => {
    const d = join(tmp.path, name);
    dirs.push(d);
    return d;
  };
  const pl = (dir: string, ...args: string[]) => spawnSync(pacelineBin, ['ipvsadm', '--state-dir', dir, ...args], { encoding: 'utf8' });
  const directorRuns = (dir: string) => spawnSync(pacelineBin, ['director', 'status', '--state-dir', dir], { encoding: 'utf8' }).status === 0;

  beforeAll(async () => {
    rs.push(await realServer('rs-1'), await realServer('rs-2'));
    p1 = portOf(rs[0]!);
    p2 = portOf(rs[1]!);
  });
  afterAll(() => {
    // Directors the agent started outlive it by design; this suite stops its own (by pid if stop fails).
    for (const dir of dirs) {
      if (!existsSync(join(dir, 'director.pid'))) continue;
      spawnSync(pacelineBin, ['director', 'stop', '--state-dir', dir], { stdio: 'ignore', timeout: 15_000 });
      const pidFile = join(dir, 'director.pid');
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
    }
    for (const srv of rs) srv.close();
    tmp.remove();
  });

  it('answers --version like ipvsadm, naming paceline (how the agent detects the director)', () => {
    // The agent's backend detection relies on this line; it must not need a running director.
    const r = spawnSync(pacelineBin, ['ipvsadm', '--state-dir', join(tmp.path, 'none'), '--version'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ipvsadm v\d.*paceline/);
  });

  it('passes ocf-tester with the director not running beforehand', async () => {
    // The OCF contract (probe 7, start, idempotent start/stop, monitors) on the backend of hosts without kernel IPVS.
    const dir = newDir('tester');
    const vport = await freePort('127.0.0.61');
    const params = { service: `-t 127.0.0.61:${vport} -s rr`, servers: `127.0.0.1:${p1} 127.0.0.1:${p2}@2`, method: 'masq', ...backend(dir) };
    const r = ocfTester(agent, params, { env: env(), name: 'lvs' });
    expect(r.rc, testerReport(r)).toBe(0);
    expect(directorRuns(dir)).toBe(true);
    expect(pl(dir, '-S', '-n').stdout).not.toContain(`127.0.0.61:${vport}`);
  });

  it('start applies the service, a client reaches the real servers through the VIP, stop leaves another service alone', async () => {
    // The point of the resource: traffic to the VIP is balanced to the real servers, and stop only takes back its own rules.
    const dir = newDir('traffic');
    const vport = await freePort('127.0.0.62');
    const other = await freePort('127.0.0.64');
    const params = { service: `-t 127.0.0.62:${vport} -s rr`, servers: `127.0.0.1:${p1} 127.0.0.1:${p2}`, ...backend(dir) };
    const probe = runAgent(agent, 'monitor', { params, env: { ...env(), OCF_RESKEY_CRM_meta_interval: '0' }, instance: 'traffic' });
    expect(probe.rc, 'probe with no director running').toBe(OCF.NOT_RUNNING);
    const start = runAgent(agent, 'start', { params, env: env(), instance: 'traffic' });
    expect(start.rc, start.stderr).toBe(OCF.SUCCESS);
    const list = pl(dir, '-L', '-n').stdout;
    expect(list).toMatch(new RegExp(`TCP  127\\.0\\.0\\.62:${vport} rr`));
    expect(list).toMatch(new RegExp(`-> 127\\.0\\.0\\.1:${p1} +Masq +1 `));
    expect(list).toMatch(new RegExp(`-> 127\\.0\\.0\\.1:${p2} +Masq +1 `));
    const seen = new Set([await readThroughVip('127.0.0.62', vport), await readThroughVip('127.0.0.62', vport)]);
    expect([...seen].sort()).toEqual(['rs-1\n', 'rs-2\n']);
    // Another service, and a real server added by hand to ours, belong to someone else.
    expect(pl(dir, '-A', '-t', `127.0.0.64:${other}`, '-s', 'rr').status).toBe(0);
    expect(pl(dir, '-a', '-t', `127.0.0.64:${other}`, '-r', `127.0.0.1:${p1}`, '-m').status).toBe(0);
    expect(runAgent(agent, 'monitor', { params, env: env(), instance: 'traffic' }).rc).toBe(OCF.SUCCESS);
    expect(runAgent(agent, 'stop', { params, env: env(), instance: 'traffic' }).rc).toBe(OCF.SUCCESS);
    const saved = pl(dir, '-S', '-n').stdout;
    expect(saved).not.toContain(`127.0.0.62:${vport}`);
    expect(saved).toContain(`-A -t 127.0.0.64:${other} -s rr`);
    expect(saved).toContain(`-a -t 127.0.0.64:${other} -r 127.0.0.1:${p1} -m -w 1`);
    expect(await readThroughVip('127.0.0.64', other)).toBe('rs-1\n');
    expect(runAgent(agent, 'monitor', { params, env: env(), instance: 'traffic' }).rc).toBe(OCF.NOT_RUNNING);
    expect(runAgent(agent, 'stop', { params, env: env(), instance: 'traffic' }).rc).toBe(OCF.SUCCESS);
  });

  it('applies and removes a rules_file in ipvsadm-save format', async () => {
    // Saved tables are how existing LVS setups migrate to the cluster, here onto the userspace director.
    const dir = newDir('rules');
    const vport = await freePort('127.0.0.63');
    const file = join(tmp.path, 'saved.rules');
    writeFileSync(file, `# saved\n-A -t 127.0.0.63:${vport} -s wrr\n-a -t 127.0.0.63:${vport} -r 127.0.0.1:${p2} -m -w 3\n`);
    const params = { rules_file: file, ...backend(dir) };
    expect(runAgent(agent, 'validate-all', { params, env: env(), instance: 'rules' }).rc).toBe(OCF.SUCCESS);
    expect(runAgent(agent, 'start', { params, env: env(), instance: 'rules' }).rc).toBe(OCF.SUCCESS);
    expect(pl(dir, '-S', '-n').stdout).toContain(`-a -t 127.0.0.63:${vport} -r 127.0.0.1:${p2} -m -w 3`);
    expect(await readThroughVip('127.0.0.63', vport)).toBe('rs-2\n');
    expect(runAgent(agent, 'monitor', { params, env: env(), instance: 'rules' }).rc).toBe(OCF.SUCCESS);
    expect(runAgent(agent, 'stop', { params, env: env(), instance: 'rules' }).rc).toBe(OCF.SUCCESS);
    expect(pl(dir, '-S', '-n').stdout).not.toContain('127.0.0.63');
  });

  it('stop with the director down starts it to delete the rules it persisted', async () => {
    // The director serves its saved table again when it starts; a stopped resource's rules must not come back.
    const dir = newDir('restart');
    const vport = await freePort('127.0.0.65');
    const params = { service: `-t 127.0.0.65:${vport} -s rr`, servers: `127.0.0.1:${p1}`, ...backend(dir) };
    expect(runAgent(agent, 'start', { params, env: env(), instance: 'restart' }).rc).toBe(OCF.SUCCESS);
    expect(spawnSync(pacelineBin, ['director', 'stop', '--state-dir', dir]).status).toBe(0);
    expect(runAgent(agent, 'monitor', { params, env: env(), instance: 'restart' }).rc).toBe(OCF.NOT_RUNNING);
    expect(readFileSync(join(dir, 'rules'), 'utf8')).toContain(`127.0.0.65:${vport}`);
    expect(runAgent(agent, 'stop', { params, env: env(), instance: 'restart' }).rc).toBe(OCF.SUCCESS);
    expect(pl(dir, '-S', '-n').stdout).not.toContain(`127.0.0.65:${vport}`);
  });

  it.each([
    [{ method: 'route' }, /method=route is not supported by paceline's userspace director.*masquerading only/],
    [{ method: 'tunnel' }, /method=tunnel is not supported by paceline's userspace director.*masquerading only/],
  ])('refuses %j on the userspace director with OCF_ERR_CONFIGURED', (extra, reason) => {
    // A proxy cannot route or tunnel; silently masquerading instead would change what real servers see.
    const dir = newDir(`refuse-${extra.method}`);
    const params = { service: '-t 127.0.0.66:80 -s rr', servers: '127.0.0.1:9', ...extra, ...backend(dir) };
    for (const action of ['validate-all', 'start']) {
      const r = runAgent(agent, action, { params, env: env(), instance: 'refuse' });
      expect(r.rc, action).toBe(OCF.ERR_CONFIGURED);
      expect(r.exitReason).toMatch(reason);
    }
    expect(runAgent(agent, 'monitor', { params, env: { ...env(), OCF_RESKEY_CRM_meta_interval: '0' }, instance: 'refuse' }).rc).toBe(OCF.NOT_RUNNING);
    expect(directorRuns(dir)).toBe(false);
  });

  it('refuses a rules_file with -g or no forwarding flag on the userspace director', () => {
    // ipvsadm defaults to direct routing (-g) when a line has no flag; the director cannot honour it.
    const dir = newDir('refuse-rules');
    for (const [name, flag] of [['g', ' -g'], ['none', '']] as const) {
      const file = join(tmp.path, `route-${name}.rules`);
      writeFileSync(file, `-A -t 127.0.0.67:80 -s rr\n-a -t 127.0.0.67:80 -r 127.0.0.1:9${flag} -w 1\n`);
      const r = runAgent(agent, 'validate-all', { params: { rules_file: file, ...backend(dir) }, env: env(), instance: 'refuse' });
      expect(r.rc, name).toBe(OCF.ERR_CONFIGURED);
      expect(r.exitReason).toMatch(/rules_file: .*masquerading only.*-r 127\.0\.0\.1:9/);
    }
  });
});
