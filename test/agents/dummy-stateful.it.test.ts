/**
 * Real-process suite: ocf:paceline:Dummy and ocf:paceline:Stateful under Debian's ocf-tester,
 * and their fault knobs (a sleep per action, files that make the next action fail or hang),
 * which the executor's tests and the failure drills depend on.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing } from '../support/env.js';
import { OCF, ocfAgent, ocfTester, runAgent, tempDir, testerReport } from './support.js';

const why = missing({ tools: ['ocf-tester', 'xmllint'] });

describe.skipIf(!!why)(`Dummy and Stateful (real-process suite) ${why ?? ''}`, () => {
  const tmp = tempDir('dummy');
  afterAll(() => tmp.remove());
  const dummy = ocfAgent('Dummy');
  const stateful = ocfAgent('Stateful');

  it('Dummy passes ocf-tester', () => {
    // The reference agent of the test suites must itself follow the OCF contract to the letter.
    const r = ocfTester(dummy, { state: join(tmp.path, 'ot-dummy.state') });
    expect(r.rc, testerReport(r)).toBe(0);
    expect(r.output).toContain('passed all tests');
  });

  it('Stateful passes ocf-tester, including promote and demote', () => {
    // ocf-tester checks promote/demote idempotence only when both actions exist; they must.
    const r = ocfTester(stateful, { state: join(tmp.path, 'ot-stateful.state') });
    expect(r.rc, testerReport(r)).toBe(0);
    expect(r.output).not.toContain('does not support the promote action');
    expect(r.output).toContain('passed all tests');
  });

  it('Stateful reports 8 when promoted and 7 when stopped, and refuses to promote a stopped instance', () => {
    // The scheduler reads the promoted role from monitor's rc 8.
    const params = { state: join(tmp.path, 'roles.state') };
    const rc = (action: string) => runAgent(stateful, action, { params }).rc;
    expect(rc('monitor')).toBe(OCF.NOT_RUNNING);
    const promoteStopped = runAgent(stateful, 'promote', { params });
    expect(promoteStopped.rc).toBe(OCF.NOT_RUNNING);
    expect(promoteStopped.exitReason).toMatch(/not running/);
    expect(rc('start')).toBe(OCF.SUCCESS);
    expect(rc('monitor')).toBe(OCF.SUCCESS);
    expect(rc('promote')).toBe(OCF.SUCCESS);
    expect(rc('monitor')).toBe(OCF.RUNNING_PROMOTED);
    expect(rc('start')).toBe(OCF.SUCCESS);
    expect(rc('monitor')).toBe(OCF.RUNNING_PROMOTED);
    expect(rc('demote')).toBe(OCF.SUCCESS);
    expect(rc('monitor')).toBe(OCF.SUCCESS);
    expect(rc('notify')).toBe(OCF.SUCCESS);
    expect(rc('stop')).toBe(OCF.SUCCESS);
    expect(rc('monitor')).toBe(OCF.NOT_RUNNING);
  });

  it.each([
    ['Dummy', { op_sleep: 'soon' }],
    ['Dummy', { state: 'relative/path' }],
    ['Stateful', { promoted_score: 'ten' }],
  ] as const)('%s rejects bad parameters %j with OCF_ERR_CONFIGURED', (name, params) => {
    // A configuration mistake must read as "configured wrong" (no retry elsewhere), with a reason.
    const r = runAgent(ocfAgent(name), 'validate-all', { params });
    expect(r.rc).toBe(OCF.ERR_CONFIGURED);
    expect(r.exitReason).toBeTruthy();
    expect(runAgent(ocfAgent(name), 'start', { params }).rc).toBe(OCF.ERR_CONFIGURED);
  });

  it('a fail file makes exactly the next action fail with its rc and a reason', () => {
    // Drills inject one monitor failure (rc 7: "it died") and expect the next monitor to be clean.
    const state = join(tmp.path, 'fail.state');
    const params = { state };
    expect(runAgent(dummy, 'start', { params }).rc).toBe(OCF.SUCCESS);
    writeFileSync(`${state}.fail-monitor`, '7\n');
    const failed = runAgent(dummy, 'monitor', { params });
    expect(failed.rc).toBe(OCF.NOT_RUNNING);
    expect(failed.exitReason).toContain('injected failure of monitor (rc 7)');
    expect(existsSync(`${state}.fail-monitor`)).toBe(false);
    expect(runAgent(dummy, 'monitor', { params }).rc).toBe(OCF.SUCCESS);

    // An empty file means a generic error; the failed stop leaves the resource started.
    writeFileSync(`${state}.fail-stop`, '');
    expect(runAgent(dummy, 'stop', { params }).rc).toBe(OCF.ERR_GENERIC);
    expect(runAgent(dummy, 'monitor', { params }).rc).toBe(OCF.SUCCESS);
    expect(runAgent(dummy, 'stop', { params }).rc).toBe(OCF.SUCCESS);
    expect(runAgent(dummy, 'monitor', { params }).rc).toBe(OCF.NOT_RUNNING);
  });

  it('a "keep" fail file fails every start until removed', () => {
    // A resource that cannot start anywhere drives the fail-count and migration-threshold logic.
    const state = join(tmp.path, 'keep.state');
    writeFileSync(`${state}.fail-start`, '1 keep\n');
    for (let i = 0; i < 2; i++) expect(runAgent(dummy, 'start', { params: { state } }).rc).toBe(OCF.ERR_GENERIC);
    expect(runAgent(dummy, 'monitor', { params: { state } }).rc).toBe(OCF.NOT_RUNNING);
    rmSync(`${state}.fail-start`);
    expect(runAgent(dummy, 'start', { params: { state } }).rc).toBe(OCF.SUCCESS);
  });

  it('Stateful can simulate a failed promoted instance (rc 9) and a failed promote', () => {
    // rc 9 is the one result only promotable resources produce; the scheduler must see it.
    const state = join(tmp.path, 'st-fail.state');
    const params = { state };
    expect(runAgent(stateful, 'start', { params }).rc).toBe(OCF.SUCCESS);
    writeFileSync(`${state}.fail-promote`, '1');
    expect(runAgent(stateful, 'promote', { params }).rc).toBe(OCF.ERR_GENERIC);
    expect(runAgent(stateful, 'monitor', { params }).rc).toBe(OCF.SUCCESS);
    expect(runAgent(stateful, 'promote', { params }).rc).toBe(OCF.SUCCESS);
    writeFileSync(`${state}.fail-monitor`, '9');
    expect(runAgent(stateful, 'monitor', { params }).rc).toBe(OCF.FAILED_PROMOTED);
    expect(runAgent(stateful, 'monitor', { params }).rc).toBe(OCF.RUNNING_PROMOTED);
  });

  it('a hang file keeps the action running until the file goes', async () => {
    // The executor's timeout tests need an agent that hangs on demand and can be released.
    const state = join(tmp.path, 'hang.state');
    writeFileSync(`${state}.hang-start`, '');
    const child = spawn(dummy, ['start'], { env: { ...process.env, OCF_RESKEY_state: state, OCF_RESOURCE_INSTANCE: 'hang' } });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const early = await Promise.race([exited, new Promise<'running'>((res) => setTimeout(() => res('running'), 1500))]);
    expect(early).toBe('running');
    rmSync(`${state}.hang-start`);
    expect(await exited).toBe(OCF.SUCCESS);
    expect(readFileSync(state, 'utf8')).toMatch(/^started/);
  });

  it('op_sleep delays each action but not meta-data', async () => {
    // Slow agents are how drills exercise queueing; the delay must apply to the action, not to discovery.
    const params = { state: join(tmp.path, 'slow.state'), op_sleep: '30' };
    const child = spawn(dummy, ['monitor'], { env: { ...process.env, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [`OCF_RESKEY_${k}`, v])) }, detached: true });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const early = await Promise.race([exited, new Promise<'running'>((res) => setTimeout(() => res('running'), 1000))]);
    expect(early).toBe('running');
    // The whole process group: the sleep is a child of the agent.
    process.kill(-child.pid!, 'SIGKILL');
    await exited;
    expect(runAgent(dummy, 'meta-data', { params }).rc).toBe(OCF.SUCCESS);
  });
});
