/** The scenario language: what it accepts, and the errors (with line numbers) for what it does not. */
import { describe, expect, it } from 'vitest';
import { parseDuration, parseScenario, runScenario, ScenarioError } from '../../packages/sim/src/index.js';

describe('scenario parser', () => {
  it('reads commands with their line numbers, skipping comments and blank lines', () => {
    const cmds = parseScenario('# story\nnodes 3\n\nstart all   # boot\npartition 1,2|3\nexpect running vip on node1\n');
    expect(cmds.map((c) => [c.line, c.verb, ...c.args])).toEqual([
      [2, 'nodes', '3'],
      [4, 'start', 'all'],
      [5, 'partition', '1,2|3'],
      [6, 'expect', 'running', 'vip', 'on', 'node1'],
    ]);
  });

  it('reads a configure block up to its end line', () => {
    const cmds = parseScenario('nodes 2\nconfigure\n<configuration>\n  <crm_config/>\n</configuration>\nend\nstart all\n');
    expect(cmds[1]).toMatchObject({ line: 2, verb: 'configure' });
    expect(cmds[1]!.body).toContain('<crm_config/>');
    expect(cmds[2]).toMatchObject({ line: 7, verb: 'start' });
  });

  it.each([
    ['nodes 3\nfrobnicate node1\n', 'f.scenario:2: unknown command "frobnicate"'],
    ['tick ten\n', 'f.scenario:1: bad duration "ten"'],
    ['partition 1,2\n', 'f.scenario:1: partition takes groups of nodes separated by |'],
    ['fail rsc1 node2 rc=7\n', 'f.scenario:1: fail takes RSC on NODE'],
    ['fail-start rsc1 on node2 sometimes\n', 'f.scenario:1: fail-start takes RSC on NODE rc=N|hang'],
    ['expect running vip node1\n', 'f.scenario:1: "expect running" takes 3 argument(s), got 2'],
    ['expect happiness\n', 'f.scenario:1: unknown expectation "happiness"'],
    ['\n\nconfigure\n<configuration/>\n', 'f.scenario:3: "configure" block has no closing "end" line'],
    ['configure\n<configuration>\nend\n', 'f.scenario:1: the configure block is not well-formed XML'],
    ['network loss=lots\n', 'f.scenario:1: bad network setting "loss=lots"'],
    ['crash\n', 'f.scenario:1: "crash" takes 1 argument(s), got 0'],
  ])('rejects %j', (text, message) => {
    expect(() => parseScenario(text, 'f.scenario')).toThrow(ScenarioError);
    expect(() => parseScenario(text, 'f.scenario')).toThrow(message);
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('3')).toBe(3_000);
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('reports run-time errors and failed expectations with their line', () => {
    const r = runScenario('nodes 2\nstart all\ncrash node7\n', { file: 'x.scenario' });
    expect(r.failures[0]).toMatch(/^x\.scenario:3: crash node7: no node node7/);
    const r2 = runScenario('nodes 3\nstart all\ntick 3s\nexpect dc node2\n', { file: 'y.scenario' });
    expect(r2.failures[0]).toMatch(/^y\.scenario:4: expect dc node2: node2 is not the DC/);
  });
});
