import { describe, expect, it } from 'vitest';
import { checkOptionValue, findOption, OPTIONS, optionsFor, parseBoolean, parseIntervalMs, parseMsec, type OptionDef, type OptionScope } from './options.js';

function def(scope: OptionScope, name: string): OptionDef {
  const found = findOption(scope, name);
  if (!found) throw new Error(`no option ${scope}/${name}`);
  return found.def;
}

describe('the options table', () => {
  // The shell and validation rely on every option Pacemaker 2.1.5 documents being present once.
  it('has every Pacemaker 2.1.5 cluster option, each once', () => {
    const names = optionsFor('cluster').map((o) => o.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of [
      'no-quorum-policy', 'symmetric-cluster', 'stonith-enabled', 'stonith-action', 'stonith-timeout', 'have-watchdog',
      'stonith-watchdog-timeout', 'concurrent-fencing', 'priority-fencing-delay', 'startup-fencing', 'cluster-delay',
      'batch-limit', 'migration-limit', 'maintenance-mode', 'start-failure-is-fatal', 'enable-startup-probes', 'shutdown-lock',
      'shutdown-lock-limit', 'stop-orphan-resources', 'stop-orphan-actions', 'stop-all-resources', 'remove-after-stop',
      'placement-strategy', 'node-health-strategy', 'node-health-base', 'node-health-green', 'node-health-yellow', 'node-health-red',
      'cluster-recheck-interval', 'dc-deadtime', 'election-timeout', 'shutdown-escalation', 'join-integration-timeout',
      'join-finalization-timeout', 'transition-delay', 'pe-error-series-max', 'pe-warn-series-max', 'pe-input-series-max',
      'cluster-ipc-limit', 'load-threshold', 'node-action-limit', 'fence-reaction', 'cluster-name', 'dc-version',
      'cluster-infrastructure', 'stonith-max-attempts', 'enable-acl',
    ]) {
      expect(names, n).toContain(n);
    }
  });

  // Resource and operation attributes used by the scheduler and the shell are described.
  it('has resource meta-attributes and operation attributes', () => {
    for (const n of ['priority', 'target-role', 'is-managed', 'maintenance', 'resource-stickiness', 'requires', 'migration-threshold',
      'failure-timeout', 'multiple-active', 'allow-migrate', 'container-attribute-target', 'remote-node', 'remote-port', 'remote-addr',
      'remote-connect-timeout', 'critical', 'clone-max', 'clone-min', 'clone-node-max', 'notify', 'globally-unique', 'ordered',
      'interleave', 'promotable', 'promoted-max', 'promoted-node-max', 'master-max', 'master-node-max']) {
      expect(findOption('resource', n), n).toBeDefined();
    }
    for (const n of ['interval', 'timeout', 'on-fail', 'enabled', 'record-pending', 'role', 'start-delay', 'interval-origin', 'OCF_CHECK_LEVEL']) {
      expect(findOption('operation', n), n).toBeDefined();
    }
  });

  // Every entry is usable for help and completion: help text present, enum values listed, default valid.
  it('has help, values and valid defaults for every entry', () => {
    for (const o of OPTIONS) {
      expect(o.shortHelp.length, o.name).toBeGreaterThan(0);
      expect(o.longHelp.length, o.name).toBeGreaterThan(0);
      if (o.type === 'enum') expect(o.values?.length, o.name).toBeGreaterThan(0);
      if (o.defaultValue !== undefined && o.name !== 'dc-version') expect(checkOptionValue(o, o.defaultValue), `${o.scope}/${o.name}`).toMatchObject({ ok: true });
    }
  });

  // Defaults are Pacemaker 2.1.5's.
  it.each([
    ['no-quorum-policy', 'stop'],
    ['stonith-timeout', '60s'],
    ['cluster-recheck-interval', '15min'],
    ['dc-deadtime', '20s'],
    ['pe-input-series-max', '4000'],
    ['load-threshold', '80%'],
    ['node-health-red', '-INFINITY'],
    ['placement-strategy', 'default'],
  ])('%s defaults to %s', (name, value) => {
    expect(def('cluster', name).defaultValue).toBe(value);
  });

  // Legacy names find the current option, and say so.
  it('finds options by their older names', () => {
    expect(findOption('resource', 'master-max')?.def.name).toBe('master-max');
    expect(findOption('cluster', 'transition_idle_timeout')).toMatchObject({ def: { name: 'cluster-delay' }, viaAlias: 'transition_idle_timeout' });
    expect(findOption('cluster', 'no-such-option')).toBeUndefined();
  });
});

describe('checkOptionValue', () => {
  // One row per type: accepted and rejected values as Pacemaker's validators decide.
  it.each([
    ['cluster', 'stonith-enabled', 'yes', true],
    ['cluster', 'stonith-enabled', 'Off', true],
    ['cluster', 'stonith-enabled', 'maybe', false],
    ['cluster', 'no-quorum-policy', 'freeze', true],
    ['cluster', 'no-quorum-policy', 'FREEZE', true],
    ['cluster', 'no-quorum-policy', 'panic', false],
    ['cluster', 'stonith-action', 'poweroff', true],
    ['cluster', 'stonith-timeout', '90', true],
    ['cluster', 'stonith-timeout', 'PT1M', true],
    ['cluster', 'stonith-timeout', '2 minutes', true],
    ['cluster', 'stonith-timeout', 'soon', false],
    ['cluster', 'stonith-timeout', '10d', false],
    ['cluster', 'stonith-watchdog-timeout', '-1', true],
    ['cluster', 'batch-limit', '30', true],
    ['cluster', 'batch-limit', 'INFINITY', true],
    ['cluster', 'batch-limit', 'many', false],
    ['cluster', 'stonith-max-attempts', '0', false],
    ['cluster', 'stonith-max-attempts', '3', true],
    ['cluster', 'load-threshold', '60%', true],
    ['cluster', 'load-threshold', '60', false],
    ['cluster', 'load-threshold', '-5%', false],
    ['cluster', 'cluster-name', 'anything goes', true],
    ['resource', 'resource-stickiness', '100', true],
    ['resource', 'resource-stickiness', '-INFINITY', true],
    ['resource', 'resource-stickiness', 'sticky', false],
    ['resource', 'target-role', 'Promoted', true],
    ['resource', 'target-role', 'master', true],
    ['resource', 'target-role', 'Running', false],
    ['resource', 'clone-max', '2', true],
    ['resource', 'clone-max', '-1', false],
    ['resource', 'remote-port', '3121', true],
    ['resource', 'remote-port', '70000', false],
    ['resource', 'multiple-active', 'stop_unexpected', true],
    ['operation', 'interval', '10s', true],
    ['operation', 'interval', '0', true],
    ['operation', 'interval', 'P1D', true],
    ['operation', 'interval', 'ten', false],
    ['operation', 'timeout', '30s', true],
    ['operation', 'timeout', 'PT30S', false], // Pacemaker 2.1 reads timeouts with crm_get_msec
    ['operation', 'on-fail', 'demote', true],
    ['operation', 'on-fail', 'explode', false],
    ['operation', 'interval-origin', '2024-01-01T02:00:00Z', true],
    ['operation', 'interval-origin', 'midnight', false],
    ['fencing', 'pcmk_host_check', 'static-list', true],
    ['fencing', 'pcmk_host_check', 'guess', false],
  ] as const)('%s %s=%j -> %s', (scope, name, value, ok) => {
    const r = checkOptionValue(def(scope, name), value);
    expect(r.ok).toBe(ok);
    if (!r.ok) expect(r.problem).toContain(value);
  });

  // Deprecated values are accepted with a warning naming the replacement.
  it('warns about deprecated values', () => {
    expect(checkOptionValue(def('resource', 'target-role'), 'Slave')).toEqual({ ok: true, warning: '"Slave" is deprecated; use "Unpromoted"' });
    expect(checkOptionValue(def('cluster', 'stonith-action'), 'poweroff')).toMatchObject({ ok: true, warning: expect.stringContaining('off') });
  });
});

describe('durations', () => {
  // Timeouts and intervals parse as Pacemaker's crm_get_msec and crm_parse_interval_spec.
  it.each([
    ['10s', 10_000],
    ['10', 10_000],
    ['500ms', 500],
    ['500msec', 500],
    ['1min', 60_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1hr', 3_600_000],
    ['1500us', 1],
    [' 5 s', 5_000],
    ['1.5s', 1_000], // only the integer part counts
    ['20sec', 20_000],
  ])('parseMsec(%j) = %i', (text, ms) => {
    expect(parseMsec(text)).toEqual({ ok: true, ms });
  });

  // Anything else is an error value, not NaN or zero.
  it.each(['', 'abc', '-5s', '10d', '10 weeks'])('parseMsec(%j) fails', (text) => {
    expect(parseMsec(text).ok).toBe(false);
  });

  // Intervals also accept ISO 8601 durations.
  it.each([
    ['PT10S', 10_000],
    ['PT1M30S', 90_000],
    ['PT2H', 7_200_000],
    ['30s', 30_000],
  ])('parseIntervalMs(%j) = %i', (text, ms) => {
    expect(parseIntervalMs(text)).toEqual({ ok: true, ms });
  });

  it.each(['P', 'P1', 'PTXS', 'P1X'])('parseIntervalMs(%j) fails', (text) => {
    // Malformed ISO durations are rejected like Pacemaker's interval parser does.
    expect(parseIntervalMs(text).ok).toBe(false);
  });

  // Boolean words are Pacemaker's crm_str_to_boolean set.
  it('parses booleans', () => {
    expect(['true', 'YES', 'on', 'y', '1'].map(parseBoolean)).toEqual([true, true, true, true, true]);
    expect(['false', 'No', 'off', 'n', '0'].map(parseBoolean)).toEqual([false, false, false, false, false]);
    expect(parseBoolean('maybe')).toBeUndefined();
  });
});
