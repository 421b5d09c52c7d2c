/**
 * Real-process suite: ocf:paceline:mysql with Debian's mariadb-server, on a private datadir made
 * by mariadb-install-db in a temp directory, a private socket and pid file, and no TCP listener
 * (skip-networking). ocf-tester, the depth-10 query, a server killed behind the agent's back,
 * and the not-installed answers.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/env.js';
import { OCF, ocfAgent, ocfTester, runAgent, tempDir, testerReport } from './support.js';

const why = missing({ tools: ['ocf-tester', 'xmllint', 'mariadbd', 'mariadb', 'mariadb-install-db'], root: true });
const agent = ocfAgent('mysql');

describe.skipIf(!!why)(`mysql with mariadb-server (real-process suite) ${why ?? ''}`, () => {
  const tmp = tempDir('mysql');
  const params = () => ({
    config: join(tmp.path, 'my.cnf'),
    datadir: join(tmp.path, 'data'),
    socket: join(tmp.path, 'run/mysqld.sock'),
    pid: join(tmp.path, 'run/mysqld.pid'),
    log: join(tmp.path, 'log/error.log'),
  });

  beforeAll(() => {
    // The server drops to the mysql user: it must reach its files.
    chmodSync(tmp.path, 0o755);
    writeFileSync(params().config, '[mysqld]\nskip-networking\nskip-name-resolve\ninnodb_buffer_pool_size=16M\n');
    execFileSync('mariadb-install-db', ['--no-defaults', `--datadir=${params().datadir}`, '--user=mysql', '--skip-test-db'], { stdio: 'ignore' });
  });
  afterAll(() => {
    runAgent(agent, 'stop', { params: params() });
    tmp.remove();
  });

  it('passes ocf-tester', () => {
    // The database is the resource users care most about; it must follow the OCF contract.
    const r = ocfTester(agent, params(), { name: 'db' });
    expect(r.rc, testerReport(r)).toBe(0);
  });

  it('runs a real query at depth 10 and fails it with a reason for a bad table or user', () => {
    // A running mariadbd that cannot answer queries is a failed database.
    expect(runAgent(agent, 'start', { params: params() }).rc).toBe(OCF.SUCCESS);
    try {
      const deep = { OCF_CHECK_LEVEL: '10' };
      expect(runAgent(agent, 'monitor', { params: params(), env: deep }).rc).toBe(OCF.SUCCESS);
      const table = runAgent(agent, 'monitor', { params: { ...params(), test_table: 'mysql.no_such_table' }, env: deep });
      expect(table.rc).toBe(OCF.ERR_GENERIC);
      expect(table.exitReason).toMatch(/no_such_table/);
      const user = runAgent(agent, 'monitor', { params: { ...params(), test_user: 'nobody' }, env: deep });
      expect(user.rc).toBe(OCF.ERR_GENERIC);
      expect(user.exitReason).toMatch(/Access denied/);
      // Depth 0 only checks the process.
      expect(runAgent(agent, 'monitor', { params: { ...params(), test_table: 'mysql.no_such_table' } }).rc).toBe(OCF.SUCCESS);
    } finally {
      // Killed behind the agent's back: monitor must say "not running", stop must succeed.
      const pid = readFileSync(params().pid, 'utf8').trim();
      execFileSync('kill', ['-KILL', pid]);
    }
    const deadline = Date.now() + 10_000;
    while (runAgent(agent, 'monitor', { params: params() }).rc !== OCF.NOT_RUNNING && Date.now() < deadline);
    expect(runAgent(agent, 'monitor', { params: params() }).rc).toBe(OCF.NOT_RUNNING);
    expect(runAgent(agent, 'stop', { params: params() }).rc).toBe(OCF.SUCCESS);
  });

  it('refuses to start on a datadir without system tables (5) and reports a missing binary (5, probe 7)', () => {
    // Starting mariadbd on an empty datadir would fail obscurely; the agent says what is wrong.
    const empty = join(tmp.path, 'empty');
    mkdirSync(empty);
    const r = runAgent(agent, 'start', { params: { ...params(), datadir: empty, pid: join(tmp.path, 'run/e.pid'), socket: join(tmp.path, 'run/e.sock') } });
    expect(r.rc).toBe(OCF.ERR_INSTALLED);
    expect(r.exitReason).toMatch(/mariadb-install-db/);
    const gone = { ...params(), binary: '/usr/sbin/no-such-mysqld' };
    expect(runAgent(agent, 'validate-all', { params: gone }).rc).toBe(OCF.ERR_INSTALLED);
    expect(runAgent(agent, 'monitor', { params: gone, env: { OCF_RESKEY_CRM_meta_interval: '0' } }).rc).toBe(OCF.NOT_RUNNING);
    expect(runAgent(agent, 'stop', { params: gone }).rc).toBe(OCF.SUCCESS);
    expect(runAgent(agent, 'validate-all', { params: { ...params(), test_table: 'x; DROP TABLE y' } }).rc).toBe(OCF.ERR_CONFIGURED);
    expect(runAgent(agent, 'validate-all', { params: { ...params(), socket: 'relative.sock' } }).rc).toBe(OCF.ERR_CONFIGURED);
  });
});
