/**
 * Real-process suite: ocf:paceline:httpd with Debian's apache2 and with nginx, each with a
 * private configuration in a temp directory and run inside a network namespace this suite makes,
 * so that the servers listen on the namespace's loopback only. ocf-tester, the status check,
 * a server that dies behind the agent's back, and the not-installed and misconfigured answers.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../support/env.js';
import { createNetns, OCF, ocfAgent, ocfTester, runAgent, tempDir, testerReport } from './support.js';

const why = missing({ tools: ['ocf-tester', 'xmllint', 'curl', 'apache2', 'nginx'], root: true, netns: true, paths: ['/etc/apache2/envvars'] });
const agent = ocfAgent('httpd');

/** A minimal Apache configuration that still relies on Debian's envvars (APACHE_RUN_USER...). */
function apacheConfig(dir: string, port: number): string {
  const mod = (name: string) => `LoadModule ${name}_module /usr/lib/apache2/modules/mod_${name}.so`;
  return [
    'ServerRoot /etc/apache2',
    'ServerName localhost',
    mod('mpm_event'),
    mod('authz_core'),
    mod('status'),
    mod('dir'),
    `Listen 127.0.0.1:${port}`,
    `PidFile ${dir}/apache2.pid`,
    `ErrorLog ${dir}/apache2-error.log`,
    `Mutex file:${dir} default`,
    'User ${APACHE_RUN_USER}',
    'Group ${APACHE_RUN_GROUP}',
    `DocumentRoot ${dir}/www`,
    `<Directory ${dir}/www>`,
    '  Require all granted',
    '</Directory>',
    '<Location /server-status>',
    '  SetHandler server-status',
    '  Require all granted',
    '</Location>',
    '',
  ].join('\n');
}

function nginxConfig(dir: string, port: number): string {
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/nginx-${t};`);
  return [
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/nginx-error.log;`,
    'events { worker_connections 64; }',
    'http {',
    '  access_log off;',
    ...temp,
    '  server {',
    `    listen 127.0.0.1:${port};`,
    `    root ${dir}/www;`,
    '    location /nginx_status { stub_status; }',
    '  }',
    '}',
    '',
  ].join('\n');
}

describe.skipIf(!!why)(`httpd with apache2 and nginx (real-process suite) ${why ?? ''}`, () => {
  const tmp = tempDir('httpd');
  let ns: ReturnType<typeof createNetns>;
  const apache = () => ({
    binary: '/usr/sbin/apache2',
    configfile: join(tmp.path, 'apache2.conf'),
    statusurl: 'http://127.0.0.1:8081/server-status',
    testregex: 'Apache Server Status',
  });
  const nginx = () => ({
    binary: '/usr/sbin/nginx',
    configfile: join(tmp.path, 'nginx.conf'),
    statusurl: 'http://127.0.0.1:8082/nginx_status',
    testregex: 'Active connections',
  });

  beforeAll(() => {
    ns = createNetns('httpd');
    // The servers' unprivileged workers must read the document root.
    chmodSync(tmp.path, 0o755);
    mkdirSync(join(tmp.path, 'www'));
    writeFileSync(join(tmp.path, 'www/index.html'), '<html><body>paceline</body></html>\n');
    writeFileSync(join(tmp.path, 'apache2.conf'), apacheConfig(tmp.path, 8081));
    writeFileSync(join(tmp.path, 'nginx.conf'), nginxConfig(tmp.path, 8082));
  });
  afterAll(() => {
    for (const params of [apache(), nginx()]) runAgent(agent, 'stop', { params, netns: ns.name });
    ns?.remove();
    tmp.remove();
  });

  const run = (action: string, params: Record<string, string>, env: Record<string, string> = {}) => runAgent(agent, action, { params, netns: ns.name, env });

  it('passes ocf-tester with apache2 (Debian envvars sourced)', () => {
    // Debian's apache2 refuses to start without the APACHE_* variables; the agent must provide them.
    const r = ocfTester(agent, apache(), { netns: ns.name, name: 'web-apache' });
    expect(r.rc, testerReport(r)).toBe(0);
  });

  it('passes ocf-tester with nginx', () => {
    // The same agent drives nginx, chosen by the binary's name.
    const r = ocfTester(agent, nginx(), { netns: ns.name, name: 'web-nginx' });
    expect(r.rc, testerReport(r)).toBe(0);
  });

  it.each([
    ['apache2', apache],
    ['nginx', nginx],
  ])('%s: monitor fails when the page does not match testregex, and 7 once the server is killed', (_name, params) => {
    // A server that answers the wrong page is failed; one that died is stopped, not failed.
    expect(run('start', params()).rc).toBe(OCF.SUCCESS);
    try {
      const wrong = run('monitor', { ...params(), testregex: 'no such text here' });
      expect(wrong.rc).toBe(OCF.ERR_GENERIC);
      expect(wrong.exitReason).toMatch(/without a match for 'no such text here'/);
      const missingPage = run('monitor', { ...params(), statusurl: params().statusurl.replace(/\/[a-z_-]+$/, '/no-such-page') });
      expect(missingPage.rc).toBe(OCF.ERR_GENERIC);
      expect(missingPage.exitReason).toMatch(/fetching .* failed/);
    } finally {
      // Kill the master behind the agent's back (SIGKILL: no cleanup of the pid file).
      const pidfile = params().binary.includes('nginx') ? 'nginx.pid' : 'apache2.pid';
      runAgent('/bin/sh', ['-c', `kill -KILL $(cat ${join(tmp.path, pidfile)})`], { netns: ns.name });
    }
    expect(run('monitor', params()).rc).toBe(OCF.NOT_RUNNING);
    // Workers may linger briefly; stop must still succeed and leave the port free for a start.
    expect(run('stop', params()).rc).toBe(OCF.SUCCESS);
    expect(run('start', params()).rc).toBe(OCF.SUCCESS);
    expect(run('stop', params()).rc).toBe(OCF.SUCCESS);
  });

  it('answers a missing binary with 5, but 7 for a probe and 0 for a stop', () => {
    // A node without the web server cannot run it; a probe there must report "not running".
    const params = { ...nginx(), binary: '/usr/sbin/no-such-httpd' };
    const v = run('validate-all', params);
    expect(v.rc).toBe(OCF.ERR_INSTALLED);
    expect(v.exitReason).toContain('/usr/sbin/no-such-httpd');
    expect(run('start', params).rc).toBe(OCF.ERR_INSTALLED);
    expect(run('monitor', params, { OCF_RESKEY_CRM_meta_interval: '0' }).rc).toBe(OCF.NOT_RUNNING);
    expect(run('stop', params).rc).toBe(OCF.SUCCESS);
  });

  it('answers a missing config with 5 and a bad status URL or regex with 6', () => {
    // Configuration errors must be told apart from missing software and from runtime failures.
    expect(run('validate-all', { ...apache(), configfile: join(tmp.path, 'nope.conf') }).rc).toBe(OCF.ERR_INSTALLED);
    const url = run('validate-all', { ...apache(), statusurl: 'localhost/server-status' });
    expect(url.rc).toBe(OCF.ERR_CONFIGURED);
    expect(url.exitReason).toMatch(/statusurl/);
    expect(run('validate-all', { ...apache(), testregex: '(unclosed' }).rc).toBe(OCF.ERR_CONFIGURED);
  });
});
