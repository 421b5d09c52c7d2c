/**
 * The lab's ssh driver end to end against real sshd: three network namespaces (the netns
 * driver's bridge, plus a veth from this namespace into it so the ssh client here reaches the
 * nodes), `/usr/sbin/sshd -D` in each with its own host key and config and an authorized key
 * for root. "paceline installed on the hosts" is this repository's CLI (same filesystem; the
 * inventory names it). Then: lab up --driver ssh (settled, a Dummy runs), status, exec over
 * ssh, a daemon crash and restart, lab down (remote directories and processes gone, logs
 * copied back), and clean-up of sshd and the namespaces.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bridgeName, labCib, labDown, labExec, labStatus, labUp, loadInventory, machineNs, netnsDown, netnsUp, nodeAddress, pickSubnetIndex, sshFault, subnet, switchNs, waitSettled, type LabState } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { alive, labName, sleep } from './support.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const why = missing({ root: true, netns: true, tools: ['ip', 'ssh', 'ssh-keygen', 'sshd', 'setsid'], paths: [built] });
const LAB = labName('sh');
const NODES = ['node1', 'node2', 'node3'];

function must(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      res(true);
    });
    s.once('error', () => res(false));
    s.setTimeout(500, () => {
      s.destroy();
      res(false);
    });
  });
}

/** Pids of processes whose environment holds this exact entry. */
function pidsWithEnv(entry: string): number[] {
  const r = spawnSync('sh', ['-c', `grep -lzxF "$0" /proc/[0-9]*/environ 2>/dev/null || true`, entry], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => /^\/proc\/(\d+)\/environ$/.exec(l)?.[1]).filter((x): x is string => x !== undefined).map(Number);
}

describe.skipIf(!!why)(`lab: ssh driver against sshd in namespaces ${why ?? ''}`, () => {
  let base = '';
  let dir = '';
  let remote = '';
  const hostIf = `${LAB}h`;
  const sshds: ChildProcess[] = [];
  let index = 0;
  let lab: LabState;

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'pl-ssh-'));
    dir = join(base, 'lab');
    remote = join(base, 'remote');
    index = pickSubnetIndex();
    netnsUp({ lab: LAB, index, nodes: NODES });
    // This namespace onto the lab's switch: 10.77.X.1.
    must(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'p-host', 'netns', switchNs(LAB)]);
    must(['ip', '-n', switchNs(LAB), 'link', 'set', 'p-host', 'master', bridgeName(LAB), 'up']);
    must(['ip', 'addr', 'add', `${subnet(index)}.1/24`, 'dev', hostIf]);
    must(['ip', 'link', 'set', hostIf, 'up']);
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    writeFileSync(join(base, 'empty-rc'), '');
    must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'paceline-lab-test', '-f', join(base, 'id')]);
    writeFileSync(join(base, 'authorized_keys'), readFileSync(join(base, 'id.pub')), { mode: 0o600 });
    for (const n of NODES) {
      must(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', join(base, `hostkey-${n}`)]);
      writeFileSync(
        join(base, `sshd-${n}.conf`),
        [
          `ListenAddress ${nodeAddress(index, n)}`,
          'Port 22',
          `HostKey ${join(base, `hostkey-${n}`)}`,
          `AuthorizedKeysFile ${join(base, 'authorized_keys')}`,
          `PidFile ${join(base, `sshd-${n}.pid`)}`,
          'PermitRootLogin prohibit-password',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          'AllowStreamLocalForwarding yes',
          'X11Forwarding no',
          'MaxSessions 50',
          'MaxStartups 50',
          '',
        ].join('\n'),
      );
      // A clean host: sshd's sessions see an empty ~/.bashrc (a bind mount in the mount namespace
      // `ip netns exec` gives sshd), so this machine's shell start-up files stay out of the test.
      const rc = `[ -e "$HOME/.bashrc" ] && mount --bind ${join(base, 'empty-rc')} "$HOME/.bashrc"; exec /usr/sbin/sshd -D -e -f "$0"`;
      sshds.push(spawn('ip', ['netns', 'exec', machineNs(LAB, n), 'sh', '-c', rc, join(base, `sshd-${n}.conf`)], { stdio: ['ignore', 'ignore', 'ignore'] }));
    }
    for (const n of NODES) {
      const end = Date.now() + 10_000;
      while (!(await portOpen(nodeAddress(index, n), 22))) {
        if (Date.now() > end) throw new Error(`sshd on ${n} does not listen`);
        await sleep(50);
      }
    }
    writeFileSync(
      join(base, 'inventory.json'),
      JSON.stringify({
        remoteDir: remote,
        paceline: [process.execPath, join(repoRoot, 'packages/cli/bin/paceline.js')],
        hosts: NODES.map((n) => ({ name: n, address: nodeAddress(index, n), user: 'root', key: 'id', port: 22 })),
      }),
    );
    writeFileSync(
      join(base, 'cib.xml'),
      labCib({ labDir: dir, nodes: NODES, stonith: false, resources: '      <primitive id="web" class="ocf" provider="paceline" type="Dummy">\n        <operations><op id="web-monitor" name="monitor" interval="2s"/></operations>\n      </primitive>\n' }),
    );
  }, 30_000);

  afterAll(async () => {
    if (process.env.SH_KEEP) return;
    try {
      if (dir !== '' && existsSync(join(dir, 'lab.json'))) await labDown(dir).catch(() => undefined);
    } finally {
      for (const p of sshds) p.kill('SIGKILL');
      netnsDown(LAB);
      spawnSync('ip', ['link', 'del', hostIf], { stdio: 'ignore' });
      if (base !== '') rmSync(base, { recursive: true, force: true });
    }
  }, 30_000);

  it('rejects a bad inventory with a clear error', () => {
    writeFileSync(join(base, 'bad.json'), JSON.stringify({ hosts: [{ name: 'a b', address: 'x', key: 'k' }] }));
    expect(() => loadInventory(join(base, 'bad.json'), LAB)).toThrow(/hosts\[0\]: bad node name "a b"/);
    writeFileSync(join(base, 'bad.json'), JSON.stringify({ hosts: [{ name: 'n1', address: 'x' }] }));
    expect(() => loadInventory(join(base, 'bad.json'), LAB)).toThrow(/"key" is required/);
  });

  it('lab up --driver ssh: files installed over ssh, nodes started, the cluster settles and runs the Dummy', async () => {
    const lines: string[] = [];
    lab = await labUp({ name: LAB, nodes: 3, driver: 'ssh', dir, inventory: join(base, 'inventory.json'), cib: join(base, 'cib.xml'), settleTimeoutMs: Number(process.env.SH_SETTLE ?? 40_000), progress: (l) => { lines.push(l); if (process.env.SH_DEBUG) process.stderr.write(`${l}\n`); } });
    expect(lab.driver).toBe('ssh');
    expect(lines.some((l) => /^settled after/.test(l))).toBe(true);
    for (const n of NODES) {
      const d = join(remote, n);
      expect(readFileSync(join(d, '.paceline-lab'), 'utf8')).toBe(`${LAB} ${dir}\n`);
      const cfg = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8')) as { messaging: { authkeyPath: string }; api: { socket: string }; nodes: { addresses: string[] }[] };
      expect(cfg.messaging.authkeyPath).toBe(join(d, 'authkey'));
      expect(cfg.api.socket).toBe(join(d, 'api.sock'));
      expect(cfg.nodes.map((x) => x.addresses[0])).toEqual(NODES.map((m) => `${nodeAddress(index, m)}:5405`));
      expect(readFileSync(join(d, 'authkey'))).toEqual(readFileSync(join(dir, 'authkey')));
      // The node runs in its host's namespace (sshd's), not here.
      const pid = Number(readFileSync(join(d, 'pid'), 'utf8'));
      expect(must(['ip', 'netns', 'identify', String(pid)]).trim()).toBe(machineNs(LAB, n));
    }
    const st = await labStatus(dir);
    expect(st.nodes.map((n) => n.running)).toEqual([true, true, true]);
    const where = st.nodes.map((n) => (n.api.ok ? n.api.status.resources?.find((r) => r.id === 'web') : undefined));
    expect(where.every((r) => r !== undefined && r.role === 'Started' && r.nodes.length === 1 && !r.failed), JSON.stringify(where)).toBe(true);
  }, 60_000);

  it('lab exec runs a command on the node over ssh, with the node environment', async () => {
    const r = await labExec(dir, 'node2', ['sh', '-c', 'echo "$PACELINE_LAB_NODE $PWD"; ip -4 -o addr show dev eth0'], { stdio: 'pipe' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`node2 ${join(remote, 'node2')}`);
    expect(r.stdout).toContain(`${nodeAddress(index, 'node2')}/24`);
    expect((await labExec(dir, 'node1', ['sh', '-c', 'exit 7'], { stdio: 'pipe' })).code).toBe(7);
  });

  it('daemon-crash kills the node daemon over ssh; the others see it go; daemon-start brings it back', async () => {
    const pid = Number(readFileSync(join(remote, 'node3', 'pid'), 'utf8'));
    await sshFault(lab, 'daemon-crash', 'node3');
    const end = Date.now() + 15_000;
    let gone = false;
    while (Date.now() < end && !gone) {
      const s = await labStatus(dir);
      const n1 = s.nodes[0]!.api;
      gone = s.nodes[2]!.running === false && n1.ok && n1.status.nodes.some((x) => x.name === 'node3' && !x.online);
      if (!gone) await sleep(200);
    }
    expect(gone).toBe(true);
    expect(alive(pid)).toBe(false);
    await expect(sshFault(lab, 'daemon-crash', 'node3')).rejects.toThrow(/not running/);
    await sshFault(lab, 'daemon-start', 'node3');
    await waitSettled(lab.nodes, { timeoutMs: 30_000 });
  }, 60_000);

  it('power-off without a power command kills every process of the node over ssh; power-on boots it on a clean run directory', async () => {
    writeFileSync(join(remote, 'node1', 'rsctmp', 'stale.state'), 'x');
    await sshFault(lab, 'power-off', 'node1');
    expect(pidsWithEnv(`PACELINE_LAB_DIR=${join(remote, 'node1')}`)).toEqual([]);
    expect(readFileSync(join(remote, 'node1', 'power'), 'utf8')).toMatch(/^off \d+/);
    expect((await labStatus(dir)).nodes[0]!.running).toBe(false);
    await expect(sshFault(lab, 'freeze', 'node1')).rejects.toThrow(/node1 is not running/);
    await sshFault(lab, 'power-on', 'node1');
    expect(existsSync(join(remote, 'node1', 'rsctmp', 'stale.state'))).toBe(false);
    await expect(sshFault(lab, 'power-on', 'node1')).rejects.toThrow(/on already/);
    await waitSettled(lab.nodes, { timeoutMs: 30_000 });
  }, 60_000);

  it('paceline lab fault on an ssh lab: graceful-stop and daemon-start through the CLI; netns-only verbs are refused', async () => {
    const { labCommand } = await import('../../packages/cli/src/commands/lab.js');
    const cli = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
      let out = '';
      let err = '';
      const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((out += c.toString()), true));
      const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += c.toString()), true));
      process.exitCode = 0;
      try {
        await labCommand().exitOverride().parseAsync([...args, '--dir', dir], { from: 'user' });
      } finally {
        o.mockRestore();
        e.mockRestore();
      }
      const code = Number(process.exitCode ?? 0);
      process.exitCode = 0;
      return { code, out, err };
    };
    const stop = await cli('fault', 'graceful-stop', 'node2');
    expect(stop.code, stop.err).toBe(0);
    expect(stop.out).toMatch(/^graceful-stop node2 at \d{4}-/);
    expect((await labStatus(dir)).nodes[1]!.running).toBe(false);
    const part = await cli('fault', 'partition', '1|2,3');
    expect(part.code).toBe(1);
    expect(part.err).toMatch(/the ssh driver has no fault 'partition'/);
    expect((await cli('fault', 'daemon-start', 'node2')).code).toBe(0);
    await waitSettled(lab.nodes, { timeoutMs: 30_000 });
    const st = await cli('status');
    expect(st.out).toMatch(/lab \S+ \(ssh\)/);
    expect(st.out.match(/running \(pid \d+\)/g)).toHaveLength(3);
  }, 60_000);

  it('lab down stops what it started, copies the logs back, removes the remote files and the masters', async () => {
    const r = await labDown(dir);
    expect((r as { remote?: { removed: boolean }[] }).remote?.every((x) => x.removed)).toBe(true);
    for (const n of NODES) {
      expect(existsSync(join(remote, n))).toBe(false);
      expect(pidsWithEnv(`PACELINE_LAB_DIR=${join(remote, n)}`)).toEqual([]);
      expect(readFileSync(join(dir, 'nodes', n, 'log'), 'utf8').length).toBeGreaterThan(0);
      expect(existsSync(join(dir, 'nodes', n, 'api.sock'))).toBe(false);
    }
    expect(pidsWithEnv(`PACELINE_LAB_DIR=${dir}`)).toEqual([]);
    // A directory the lab did not write is left alone.
    mkdirSync(join(remote, 'node1'), { recursive: true });
    writeFileSync(join(remote, 'node1', 'precious'), 'x');
    await expect(labUp({ name: LAB, nodes: 1, driver: 'ssh', dir, inventory: join(base, 'inventory.json'), settle: false })).rejects.toThrow(/not made by paceline lab/);
    expect(readFileSync(join(remote, 'node1', 'precious'), 'utf8')).toBe('x');
  }, 60_000);
});

describe('lab up --driver ssh: usage (no root)', () => {
  it('needs --inventory, and --inventory needs the ssh driver (exit 64)', async () => {
    const { labCommand } = await import('../../packages/cli/src/commands/lab.js');
    for (const args of [['up', '--driver', 'ssh'], ['up', '--driver', 'local', '--inventory', 'x.json']]) {
      let stderr = '';
      const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
        stderr += c.toString();
        return true;
      });
      try {
        await labCommand().exitOverride().parseAsync(args, { from: 'user' });
      } finally {
        err.mockRestore();
      }
      expect(process.exitCode).toBe(64);
      expect(stderr).toMatch(/ssh driver needs --inventory|--inventory is for the ssh driver/);
      process.exitCode = 0;
    }
  });

  it('fills in the inventory defaults and resolves key paths', async () => {
    const { parseInventory } = await import('@paceline/lab');
    const [a, b] = parseInventory(
      JSON.stringify({ paceline: '/opt/paceline', hosts: [{ name: 'n1', address: '192.0.2.1', key: 'keys/id' }, { name: 'n2', address: '192.0.2.2', key: '~/.ssh/id', user: 'ops', port: 2222, remoteDir: '/srv/lab', paceline: ['node', '/p/cli.js'], clusterAddress: '198.51.100.2', powerOffLinks: ['eth1'] }] }),
      { lab: 'x1', base: '/etc/lab' },
    );
    expect(a).toEqual({ name: 'n1', address: '192.0.2.1', user: 'root', key: '/etc/lab/keys/id', port: 22, paceline: ['/opt/paceline'], remoteDir: '/var/tmp/paceline-lab-x1/n1', clusterAddress: '192.0.2.1', messagingPort: 5405 });
    expect(b).toMatchObject({ user: 'ops', port: 2222, remoteDir: '/srv/lab/n2', paceline: ['node', '/p/cli.js'], clusterAddress: '198.51.100.2', powerOffLinks: ['eth1'] });
    expect(b!.key).toMatch(/\/\.ssh\/id$/);
    expect(b!.key.startsWith('~')).toBe(false);
    expect(() => parseInventory('{"hosts":[{"name":"n1","address":"a","key":"k"},{"name":"n1","address":"b","key":"k"}]}', { lab: 'x', base: '/' })).toThrow(/node name n1 appears twice/);
    expect(() => parseInventory('{"hosts":[{"name":"n1","address":"a","key":"k","port":0}]}', { lab: 'x', base: '/' })).toThrow(/"port" must be a port number/);
    expect(() => parseInventory('{"hosts":[{"name":"n1","address":"a","key":"k","extra":1}]}', { lab: 'x', base: '/' })).toThrow(/unknown field "extra"/);
  });

  it('a missing inventory file is a clear error', () => {
    expect(() => loadInventory('/nonexistent/inventory.json', 'x')).toThrow(/cannot read inventory \/nonexistent\/inventory.json/);
  });
});
