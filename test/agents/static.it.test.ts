/**
 * Real-process suite: what every agent script must satisfy before it runs anything: POSIX sh
 * syntax (dash -n), shellcheck, meta-data valid against resource-agents' DTD and RelaxNG schema
 * (and fence-agents' XML shape), the OCF answer to unknown actions, the README's parameter
 * tables, and install.sh with a DESTDIR.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing, which } from '../support/env.js';
import { agentsDir, fenceAgentNames, OCF, ocfAgent, ocfAgentNames, runAgent, tempDir } from './support.js';

const schemaDir = '/usr/share/resource-agents';
const why = missing({ tools: ['dash', 'xmllint'], paths: [join(schemaDir, 'ra-api-1.dtd'), join(schemaDir, 'metadata.rng')] });

const shellScripts = [
  ...ocfAgentNames.map((n) => join('ocf/paceline', n)),
  ...fenceAgentNames.map((n) => join('stonith', n)),
  'lsb/paceline-demo',
  'lib/paceline-ocf.sh',
  'lib/paceline-fence.sh',
  'install.sh',
];

function xmllint(xml: string, schemaArgs: string[]): { rc: number | null; out: string } {
  const r = spawnSync('xmllint', ['--noout', ...schemaArgs, '-'], { input: xml, encoding: 'utf8' });
  return { rc: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Parameter names declared by a meta-data document (both OCF and fence formats). */
function parameterNames(xml: string): string[] {
  return [...xml.matchAll(/<parameter name="([^"]+)"/g)].map((m) => m[1]!);
}

describe.skipIf(!!why)(`agent scripts (real-process suite) ${why ?? ''}`, () => {
  const staging = tempDir('install');
  afterAll(() => staging.remove());

  it('lists exactly the agents on disk', () => {
    // A new agent must be added to the suites' lists, or it would escape every check here.
    expect(readdirSync(join(agentsDir, 'ocf/paceline')).sort()).toEqual([...ocfAgentNames].sort());
    expect(readdirSync(join(agentsDir, 'stonith')).sort()).toEqual([...fenceAgentNames].sort());
  });

  it.each(shellScripts)('%s parses with dash -n and agents are executable', (rel) => {
    // The agents are POSIX sh and must run where /bin/sh is dash (Debian, Ubuntu).
    const path = join(agentsDir, rel);
    const r = spawnSync('dash', ['-n', path], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    if (!rel.startsWith('lib/')) {
      expect(readFileSync(path, 'utf8').startsWith('#!/bin/sh\n')).toBe(true);
      expect(statSync(path).mode & 0o755).toBe(0o755);
    }
  });

  it.skipIf(!which('shellcheck'))('passes shellcheck (warnings and errors)', () => {
    // shellcheck catches unquoted expansions and typos in variable names that dash -n cannot.
    const r = spawnSync('shellcheck', ['-s', 'sh', '-S', 'warning', ...shellScripts], { cwd: agentsDir, encoding: 'utf8' });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(ocfAgentNames)('ocf:paceline:%s meta-data validates against ra-api-1.dtd and metadata.rng', (name) => {
    // Pacemaker, crmsh and pcs read these documents; ocf-tester checks the DTD, newer tools the schema.
    const r = runAgent(ocfAgent(name), 'meta-data');
    expect(r.rc).toBe(OCF.SUCCESS);
    const dtd = xmllint(r.stdout, ['--dtdvalid', join(schemaDir, 'ra-api-1.dtd')]);
    expect(dtd.out).not.toMatch(/validity error|parser error/);
    expect(dtd.rc).toBe(0);
    const rng = xmllint(r.stdout, ['--relaxng', join(schemaDir, 'metadata.rng')]);
    expect(rng.rc, rng.out).toBe(0);
    expect(r.stdout).toContain('<version>1.1</version>');
    for (const action of ['start', 'stop', 'monitor', 'validate-all', 'meta-data']) {
      expect(r.stdout).toMatch(new RegExp(`<action name="${action}" timeout="\\d+s"`));
    }
  });

  it.each(ocfAgentNames)('ocf:paceline:%s answers an unknown action with OCF_ERR_UNIMPLEMENTED and a reason', (name) => {
    // The spec's rc 3 tells the executor and ocf-tester that an optional action is not supported.
    const r = runAgent(ocfAgent(name), 'no-such-action');
    expect(r.rc).toBe(OCF.ERR_UNIMPLEMENTED);
    expect(r.exitReason).toMatch(/not implemented/);
  });

  it.each(fenceAgentNames)('%s metadata is well-formed fence-agents XML from both input forms', (name) => {
    // Pacemaker's fencer asks for metadata with -o metadata and with action=metadata on stdin.
    const path = join(agentsDir, 'stonith', name);
    const byArg = runAgent(path, ['-o', 'metadata']);
    const byStdin = runAgent(path, [], { input: 'action=metadata\n' });
    expect(byArg.rc).toBe(0);
    expect(byStdin.stdout).toBe(byArg.stdout);
    expect(xmllint(byArg.stdout, []).rc).toBe(0);
    expect(byArg.stdout).toMatch(new RegExp(`<resource-agent name="${name}" shortdesc="[^"]+">`));
    for (const p of ['action', 'plug', 'port']) expect(parameterNames(byArg.stdout)).toContain(p);
    for (const a of ['on', 'off', 'reboot', 'status', 'list', 'monitor', 'metadata']) {
      expect(byArg.stdout).toContain(`<action name="${a}"`);
    }
    expect(byArg.stdout).toMatch(/<getopt mixed="-o, --action=\[action\]" \/>/);
  });

  it('documents every parameter of every agent in agents/README.md', () => {
    // The README is the operator's reference; a parameter missing there is a parameter nobody finds.
    const readme = readFileSync(join(agentsDir, 'README.md'), 'utf8');
    for (const name of ocfAgentNames) {
      expect(readme).toContain(`#### ocf:paceline:${name}`);
      for (const p of parameterNames(runAgent(ocfAgent(name), 'meta-data').stdout)) expect(readme, `${name} ${p}`).toContain(`| \`${p}\` |`);
    }
    for (const name of fenceAgentNames) {
      expect(readme).toContain(`#### ${name}`);
      const md = runAgent(join(agentsDir, 'stonith', name), ['-o', 'metadata']).stdout;
      for (const p of parameterNames(md)) expect(readme, `${name} ${p}`).toContain(`| \`${p}\` |`);
    }
  });

  it('install.sh copies everything under DESTDIR and the installed agents find their library', () => {
    // A package build installs into a staging tree; the agents there must work from their new place.
    const r = spawnSync(join(agentsDir, 'install.sh'), [], { env: { ...process.env, DESTDIR: staging.path }, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const ocfRoot = join(staging.path, 'usr/lib/ocf');
    for (const name of ocfAgentNames) expect(existsSync(join(ocfRoot, 'resource.d/paceline', name))).toBe(true);
    for (const lib of ['paceline-ocf.sh', 'paceline-fence.sh']) expect(existsSync(join(ocfRoot, 'lib/paceline', lib))).toBe(true);
    for (const name of fenceAgentNames) expect(existsSync(join(staging.path, 'usr/sbin', name))).toBe(true);
    expect(existsSync(join(staging.path, 'etc/init.d/paceline-demo'))).toBe(true);
    // Nothing else in the provider directory: tools list every file there as an agent.
    expect(readdirSync(join(ocfRoot, 'resource.d/paceline')).sort()).toEqual([...ocfAgentNames].sort());

    const state = join(staging.path, 'd.state');
    const installed = join(ocfRoot, 'resource.d/paceline/Dummy');
    // OCF_ROOT points elsewhere: the agent must find its library relative to itself.
    expect(runAgent(installed, 'start', { params: { state } }).rc).toBe(OCF.SUCCESS);
    expect(runAgent(installed, 'monitor', { params: { state } }).rc).toBe(OCF.SUCCESS);
    const fence = runAgent(join(staging.path, 'usr/sbin/fence_dummy'), ['-o', 'monitor', `--state-file=${join(staging.path, 'fd')}`]);
    expect(fence.stderr).toBe('');
    expect(fence.rc).toBe(0);
  });
});
