/**
 * `paceline drill mysql`: MariaDB on shared storage (cib-examples/mysql-shared-storage.xml in the
 * lab) on three nodes with fence_lab. The group `db` mounts the shared ext4 disk
 * (drill-storage.ts), brings up the floating IP and starts mariadbd with its datadir, socket and
 * pid file on the disk (so only the node that mounts it sees them).
 *
 * Before the lab comes up, the drill makes the database on the host: mariadb-install-db into the
 * disk's content directory, then a temporary server (no network) creates the database `drill`,
 * its table `t` and the user `drill` that the client uses over TCP; the disk is made from that.
 *
 * One run: the client writes 20 rows through the floating IP (autocommit), takes a fingerprint
 * of the table (row count and an MD5 of every row), then queries every 50 ms while the drill
 * powers the holder off; failover_ms is from the fault to the first successful query after the
 * outage. Invariants: single-mac, fencing-before-recovery (the lost node fenced before db-fs
 * started elsewhere: two nodes never mount the disk), cib-same-on-every-node,
 * no-resource-left-stopped and data-intact (the same fingerprint after the failover, with this
 * run's 20 rows).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labCib, vipHolder, esc, floatingIpPrimitive } from './drill.js';
import { arpHolderAt, fencingInvariant, macTable, servedByOther, lostNodeTimeline, recoveryDc, settledInvariants, singleMacInvariant, verdict, type DrillScenarioDef, type RunCtx, type RunOutcome, READY_MS } from './drill-common.js';
import { failuresAfter, flapReason, serviceBack, watchCommand, type ProbeSample } from './drill-probe.js';
import type { InvariantResult } from './drill-render.js';
import { makeSharedDisk } from './drill-storage.js';
import { readNodeLogs } from './drill-timeline.js';
import { backToFull } from './drill-web.js';
import { faults } from './faults.js';
import { sleep, type LabState } from './lab.js';
import { must, run } from './netns.js';
import { analyze, watchIp, type Sample } from './watch.js';


/** The client's account (the drill's own database, in a lab nobody else reaches). */
export const DB_USER = 'drill';
export const DB_PASSWORD = 'drill-pw';
/** Rows each run writes before the fault. */
export const ROWS_PER_RUN = 20;

/** The server configuration: TCP on every address of the node, small memory, no native AIO (containers). */
export function mysqlLabConfig(): string {
  return `# paceline drill mysql: MariaDB for a lab node (datadir, socket and pid file come from the agent)
[mysqld]
port=3306
bind-address=0.0.0.0
skip-name-resolve
innodb_buffer_pool_size=16M
innodb_log_file_size=8M
innodb_use_native_aio=0
performance_schema=OFF
max_connect_errors=1000000
`;
}

/** The db group of cib-examples/mysql-shared-storage.xml with the lab's device, address and paths on the disk. */
export function mysqlCib(o: { labDir: string; nodes: readonly string[]; stonith: boolean; vip: string; device: string; mountPoint: string; config: string }): string {
  const m = o.mountPoint;
  return labCib({
    labDir: o.labDir,
    nodes: o.nodes,
    stonith: o.stonith,
    resources: `      <group id="db">
        <primitive id="db-fs" class="ocf" provider="paceline" type="Filesystem">
          <instance_attributes id="db-fs-ia">
            <nvpair id="db-fs-device" name="device" value="${esc(o.device)}"/>
            <nvpair id="db-fs-directory" name="directory" value="${esc(m)}"/>
            <nvpair id="db-fs-fstype" name="fstype" value="ext4"/>
          </instance_attributes>
          <operations><op id="db-fs-monitor" name="monitor" interval="20s" timeout="40s"/></operations>
        </primitive>
${floatingIpPrimitive('db-vip', o.vip, '5s', '        ')}
        <primitive id="db-server" class="ocf" provider="paceline" type="mysql">
          <instance_attributes id="db-server-ia">
            <nvpair id="db-server-config" name="config" value="${esc(o.config)}"/>
            <nvpair id="db-server-datadir" name="datadir" value="${esc(join(m, 'mysql'))}"/>
            <nvpair id="db-server-socket" name="socket" value="${esc(join(m, 'run', 'mysqld.sock'))}"/>
            <nvpair id="db-server-pid" name="pid" value="${esc(join(m, 'run', 'mysqld.pid'))}"/>
            <nvpair id="db-server-log" name="log" value="${esc(join(m, 'log', 'error.log'))}"/>
            <nvpair id="db-server-user" name="user" value="mysql"/>
          </instance_attributes>
          <operations>
            <op id="db-server-monitor" name="monitor" interval="20s" timeout="30s"/>
            <op id="db-server-start" name="start" interval="0s" timeout="120s"/>
            <op id="db-server-stop" name="stop" interval="0s" timeout="120s"/>
          </operations>
        </primitive>
      </group>
`,
  });
}

/** The schema the drill's client writes to. */
const SCHEMA = `CREATE DATABASE drill;
CREATE TABLE drill.t (id INT AUTO_INCREMENT PRIMARY KEY, run INT NOT NULL, v VARCHAR(64) NOT NULL) ENGINE=InnoDB;
CREATE USER '${DB_USER}'@'%' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL ON drill.* TO '${DB_USER}'@'%';
`;

/**
 * Makes a datadir with the drill's schema in `datadir` (mariadb-install-db, then a temporary
 * server on a socket of its own with no network). `work` holds the socket, pid and log.
 */
export async function makeDatabase(datadir: string, config: string, work: string): Promise<void> {
  must(['mariadb-install-db', `--defaults-file=${config}`, `--datadir=${datadir}`, '--user=mysql', '--skip-test-db', '--auth-root-authentication-method=socket']);
  const sock = join(work, 'boot.sock');
  const server = spawn('mariadbd', [`--defaults-file=${config}`, `--datadir=${datadir}`, `--socket=${sock}`, `--pid-file=${join(work, 'boot.pid')}`, `--log-error=${join(work, 'boot.log')}`, '--skip-networking', '--user=mysql'], { stdio: 'ignore' });
  const exited = new Promise<number>((res) => server.once('exit', (c) => res(c ?? 128)));
  try {
    const end = Date.now() + 60_000;
    while (run(['mariadb', '--no-defaults', '-S', sock, '-e', 'SELECT 1']).status !== 0) {
      if (server.exitCode !== null || Date.now() > end) throw new Error(`the temporary mariadbd did not come up (see ${join(work, 'boot.log')})`);
      await sleep(200);
    }
    must(['mariadb', '--no-defaults', '-S', sock], SCHEMA);
    must(['mariadb-admin', '--no-defaults', '-S', sock, 'shutdown']);
    const code = await Promise.race([exited, sleep(30_000).then(() => -1)]);
    if (code !== 0) throw new Error(`the temporary mariadbd did not shut down cleanly (${code})`);
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

export const mysqlScenario: DrillScenarioDef = {
  name: 'mysql',
  description: 'power off the holder of a MariaDB group (ext4 shared disk + IP + mariadbd, 3 nodes)',
  nodes: 3,
  tools: ['losetup', 'mkfs.ext4', 'mariadbd', 'mariadb', 'mariadb-install-db', 'mariadb-admin', 'python3'],
  async prepare(p) {
    // mariadbd drops to the mysql user: it must traverse the lab directory.
    chmodSync(p.dir, 0o755);
    const base = join(p.dir, 'mysql');
    mkdirSync(base, { recursive: true });
    const config = join(base, 'my.cnf');
    writeFileSync(config, mysqlLabConfig());
    const content = join(p.dir, 'shared', 'content');
    for (const d of ['mysql', 'run', 'log']) mkdirSync(join(content, d), { recursive: true });
    must(['chown', 'mysql:mysql', join(content, 'mysql'), join(content, 'run'), join(content, 'log'), base]);
    p.log('making the database (mariadb-install-db, schema drill.t)');
    await makeDatabase(join(content, 'mysql'), config, base);
    const disk = makeSharedDisk(p.dir, { content, sizeMb: 160, label: 'drilldb' });
    p.log(`shared storage: ${disk.image} on ${disk.device}, mounted by the holder on ${disk.mountPoint}`);
    return {
      cib: mysqlCib({ labDir: p.dir, nodes: p.nodes, stonith: p.stonith, vip: p.vip, device: disk.device, mountPoint: disk.mountPoint, config }),
      run: (lab, c) => mysqlRun(lab, c),
      cleanup: () => disk.release(),
    };
  },
};

/** The client's argv for one SQL statement through the floating IP. */
function sqlArgv(vip: string, sql: string, timeoutS = 2): string[] {
  return ['mariadb', '--no-defaults', '-h', vip, '-u', DB_USER, `-p${DB_PASSWORD}`, `--connect-timeout=${timeoutS}`, '-N', '-B', '-e', sql];
}

/** Runs SQL from the client namespace; retries until it succeeds or timeoutMs passed. */
async function clientSql(lab: LabState, vip: string, sql: string, timeoutMs = 10_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = run(['ip', 'netns', 'exec', lab.client!.netns, ...sqlArgv(vip, sql)]);
    if (r.status === 0) return r.stdout.trim();
    if (Date.now() > end) throw new Error(`SQL through ${vip} failed: ${r.stderr.trim().split('\n').at(-1) ?? `exit ${r.status}`}`);
    await sleep(200);
  }
}

const FINGERPRINT = `SELECT COUNT(*), COALESCE(MD5(GROUP_CONCAT(CONCAT(id, ':', run, ':', v) ORDER BY id SEPARATOR ',')), '-') FROM drill.t`;

/** data-intact: the table's fingerprint after the failover equals the one before, and this run's rows are all there. */
export function dataInvariant(before: string, after: string | undefined, runRows: number | undefined, expectRows: number): InvariantResult {
  if (after === undefined) return { name: 'data-intact', status: 'violated', detail: 'the table could not be read after the failover' };
  if (after !== before) return { name: 'data-intact', status: 'violated', detail: `fingerprint before '${before}', after '${after}'` };
  if (runRows !== expectRows) return { name: 'data-intact', status: 'violated', detail: `${runRows ?? 'no'} rows of this run, not ${expectRows}` };
  return { name: 'data-intact', status: 'ok', detail: `${before.split(/\s+/)[0]} rows, same checksum` };
}

/** One mysql run (see the file comment). */
export async function mysqlRun(lab: LabState, c: RunCtx): Promise<RunOutcome> {
  const from = await vipHolder(lab, 'db-vip');
  if (from === undefined) throw new Error('the db group runs nowhere before the fault');
  const values = Array.from({ length: ROWS_PER_RUN }, (_, i) => `(${c.run}, 'run${c.run}-row${i + 1}-${Math.floor(c.rand() * 1e9)}')`).join(', ');
  await clientSql(lab, c.vip, `INSERT INTO drill.t (run, v) VALUES ${values}`, 30_000);
  const before = await clientSql(lab, c.vip, FINGERPRINT);
  const reasons: string[] = [];
  const macs = macTable(lab);
  const arp = watchIp({ netns: lab.client!.netns, ip: c.vip });
  // A query waits 1 s for its connection; the process gets 5 s (a loaded machine starts it slowly).
  const probe = watchCommand({ netns: lab.client!.netns, argv: sqlArgv(c.vip, 'SELECT COUNT(*) FROM drill.t', 1), intervalMs: 50, timeoutMs: 5000 });
  let faultAt = 0;
  let back: ProbeSample | undefined;
  let arpSamples: Sample[] = [];
  let samples: ProbeSample[] = [];
  try {
    await Promise.all([arp.ready(READY_MS), probe.ready(READY_MS)]);
    const end0 = Date.now() + 5000;
    while (!probe.samples.some((s) => s.ok) && Date.now() < end0) await sleep(20);
    if (!probe.samples.some((s) => s.ok)) reasons.push(`before the fault, no query through ${c.vip} succeeded (${probe.samples.at(-1)?.text ?? 'no answer'})`);
    await sleep(c.preFaultMs);
    faultAt = await faults(lab.dir).powerOff(from);
    c.log(`power off ${from}`);
    const end = faultAt + 60_000;
    while (Date.now() < end) {
      await sleep(50);
      back = serviceBack(probe.samples, faultAt, (x) => servedByOther(macs, arp.samples, x.t, from));
      if (back !== undefined && Date.now() - back.t >= 1500) break;
    }
  } finally {
    [arpSamples, samples] = await Promise.all([arp.stop(), probe.stop()]);
  }
  const until = Date.now();
  back = serviceBack(samples, faultAt, (x) => servedByOther(macs, arpSamples, x.t, from));
  const o = analyze(arpSamples, faultAt);
  const to = o.macAfter?.length === 1 ? macs.get(o.macAfter[0]!) : undefined;
  if (back === undefined) reasons.push(samples.some((s) => s.sent > faultAt && !s.ok) ? `no query through ${c.vip} succeeded within 60000 ms of the fault` : `no query through ${c.vip} failed after the fault: the fault did not take the database down`);
  if (to === from) reasons.push(`${c.vip} answers from ${from}, the node that was powered off`);
  const flaps = back === undefined ? [] : failuresAfter(samples, back);
  if (back !== undefined && flaps.length > 0) reasons.push(flapReason(flaps, back, faultAt, (t) => arpHolderAt(macs, arpSamples, t), 'the database'));
  let after: string | undefined;
  let runRows: number | undefined;
  try {
    after = await clientSql(lab, c.vip, FINGERPRINT);
    runRows = Number(await clientSql(lab, c.vip, `SELECT COUNT(*) FROM drill.t WHERE run = ${c.run}`));
  } catch (err) {
    reasons.push((err as Error).message);
  }
  const settled = await backToFull(lab, from, c, reasons);
  const survivors = lab.nodes.map((n) => n.name).filter((n) => n !== from);
  const logs = readNodeLogs(lab.dir, survivors);
  const fault = `power off ${from}`;
  const timeline = lostNodeTimeline(lab, { faultAt, fault, lost: [from], logs, ...(back === undefined ? {} : { answeredAt: back.t }), ...(to === undefined ? {} : { answeredBy: to }), until });
  const invariants: InvariantResult[] = [
    singleMacInvariant(o.twoMacSamples.length),
    fencingInvariant(c.stonith, logs, recoveryDc(timeline, survivors), from, to, faultAt, 'db-fs'),
    ...settledInvariants(settled, lab.nodes.map((n) => n.name)),
    dataInvariant(before, after, runRows, ROWS_PER_RUN),
  ];
  return { run: verdict(c.run, fault, back === undefined ? undefined : back.t - faultAt, reasons, invariants, timeline, from, to), unsettled: settled.length === 0 };
}
