/**
 * The pure pieces of the CTS and random drills and of the new fault verbs: the nftables scripts
 * of net-loss / net-delay, the relay's routes, the per-step seeds and choices, start/stop
 * detection in node logs, the CTS CIB, duration parsing and the text report; and the commands'
 * usage errors (no lab needed).
 */
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import {
  CTS_RESOURCES,
  CTS_TESTS,
  RANDOM_FAULTS,
  ctsCib,
  faultVerbs,
  isCtsTest,
  parseNodeLog,
  pick,
  randomChoice,
  replayRandom,
  seededRandom,
  shuffle,
  startStops,
  stepSeed,
  type SeriesReport,
} from '@paceline/lab';
import { formatSeriesText } from '../../packages/cli/src/commands/drill-cts.js';
import { parseDuration } from '../../packages/cli/src/commands/drill-options.js';
import { registerDrillCommand } from '../../packages/cli/src/commands/drill.js';
import { labCommand } from '../../packages/cli/src/commands/lab.js';

const { delayRoutes, delayRules, lossRules } = faultVerbs;

describe('fault rules', () => {
  it('drops a percentage of messaging datagrams both ways', () => {
    const r = lossRules(25);
    expect(r).toContain('table inet paceline_loss');
    expect(r.match(/udp dport 5405 numgen random mod 100 < 25 counter drop/g)).toHaveLength(2);
    expect(r).toContain('hook input');
    expect(r).toContain('hook output');
    for (const bad of [-1, 101, 2.5, Number.NaN]) expect(() => lossRules(bad)).toThrow(/whole percentage/);
  });

  it('routes each peer through its own relay port and leaves the relay itself alone', () => {
    const lab = {
      nodes: [
        { name: 'node1', id: 1, address: '10.77.3.11:5405' },
        { name: 'node2', id: 2, address: '10.77.3.12:5405' },
        { name: 'node3', id: 3, address: '10.77.3.13:5405' },
      ],
    } as never;
    const routes = delayRoutes(lab, 'node2');
    expect(routes).toEqual([
      { port: 16001, peerHost: '10.77.3.11', peerPort: 5405 },
      { port: 16003, peerHost: '10.77.3.13', peerPort: 5405 },
    ]);
    const r = delayRules('10.77.3.12', routes);
    expect(r).toContain('ip daddr 10.77.3.11 udp sport 5405 udp dport 5405 counter dnat to 10.77.3.12:16001');
    expect(r).toContain('ip daddr 10.77.3.13 udp sport 5405 udp dport 5405 counter dnat to 10.77.3.12:16003');
    expect(r).toContain('udp dport 5405 notrack');
    expect(r).not.toContain('10.77.3.12:16002');
  });
});

describe('series seeds and choices', () => {
  it('gives every step its own reproducible seed', () => {
    expect(stepSeed(42, 7)).toBe(stepSeed(42, 7));
    const seeds = new Set(Array.from({ length: 200 }, (_, k) => stepSeed(42, k)));
    expect(seeds.size).toBe(200);
    expect(stepSeed(42, 1)).not.toBe(stepSeed(43, 1));
  });

  it('picks CTS tests and faults, all of them eventually', () => {
    const seen = new Set<string>();
    for (let k = 1; k <= 2000; k++) seen.add(randomChoice(seededRandom(stepSeed(9, k))));
    expect([...seen].sort()).toEqual([...CTS_TESTS, ...RANDOM_FAULTS].sort());
    // Replaying step k alone draws the same thing as in the full series.
    expect(randomChoice(seededRandom(stepSeed(9, 17)))).toBe(randomChoice(seededRandom(stepSeed(9, 17))));
    expect(replayRandom(9, 17)).toMatch(/--seed 9 --from-step 17 --steps 1/);
  });

  it('shuffles into a permutation and picks inside the list', () => {
    const r = seededRandom(3);
    const xs = ['a', 'b', 'c', 'd', 'e'];
    const s = shuffle(r, xs);
    expect([...s].sort()).toEqual(xs);
    for (let i = 0; i < 100; i++) expect(xs).toContain(pick(r, xs));
    expect(() => pick(r, [])).toThrow();
  });

  it('knows the CTS names exactly', () => {
    expect(isCtsTest('SplitBrainTest')).toBe(true);
    expect(isCtsTest('splitbraintest')).toBe(false);
    expect(CTS_TESTS).toHaveLength(17);
  });
});

describe('startStops', () => {
  it('lists starts and stops dispatched after a moment, not probes or monitors', () => {
    const lines = [
      { ts: 1000, event: 'action-dispatch', action: 'd1_start_0', host: 'node1' },
      { ts: 2000, event: 'action-dispatch', action: 'd1_monitor_0', host: 'node2' },
      { ts: 2100, event: 'action-dispatch', action: 'd1_monitor_3000', host: 'node1' },
      { ts: 2200, event: 'action-dispatch', action: 'd2_stop_0', host: 'node3' },
      { ts: 2300, event: 'action-dispatch', action: 'fence-lab_start_0', host: 'node3' },
      { ts: 2400, event: 'action-result', rsc: 'd1', task: 'start', host: 'node1', interval: 0 },
    ];
    const log = parseNodeLog(lines.map((l) => JSON.stringify(l)).join('\n'), 'node1');
    expect(startStops(log, 1500, ['d1', 'd2'])).toEqual(['d2 stop on node3']);
    expect(startStops(log, 0, ['d1', 'd2'])).toEqual(['d1 start on node1', 'd2 stop on node3']);
  });
});

describe('ctsCib', () => {
  it('holds the resources, fencing and the maintenance-mode switch', () => {
    const x = ctsCib({ labDir: '/tmp/lab', nodes: ['node1', 'node2', 'node3'], vip: '10.77.3.100', fsDir: '/tmp/lab/mnt' });
    for (const r of CTS_RESOURCES) expect(x).toContain(`<primitive id="${r}"`);
    expect(x).toContain('type="fence_lab"');
    expect(x).toContain('name="maintenance-mode" value="false"');
    expect(x).toContain('name="OCF_CHECK_LEVEL" value="20"');
    expect(x).toContain('value="10.77.3.100"');
  });
});

describe('drill cts / random commands', () => {
  it('parses durations', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90')).toBe(90_000);
    expect(parseDuration('2d')).toBe(172_800_000);
    expect(parseDuration('1m500ms')).toBe(60_500);
    for (const bad of ['', 'm', '30x', '1.5m', '-1s', '0s']) expect(() => parseDuration(bad)).toThrow(/duration/);
  });

  it('prints a series with its replay line', () => {
    const r: SeriesReport = {
      kind: 'random',
      seed: 5,
      startedAt: '2026-01-01T00:00:00Z',
      durationMs: 61_000,
      steps: [
        { step: 1, test: 'StandbyTest', detail: 'standby node2', passed: true, durationMs: 3000, reasons: [], invariants: [{ name: 'single-activity', status: 'ok' }] },
        { step: 2, test: 'net-loss', detail: '20 % loss', passed: false, durationMs: 9000, reasons: ['invariant one-dc violated: node1,node2'], invariants: [{ name: 'one-dc', status: 'violated', detail: 'node1,node2' }] },
      ],
      passed: 1,
      failed: 1,
      firstFailure: { step: 2, test: 'net-loss', replay: replayRandom(5, 2) },
    };
    const t = formatSeriesText(r);
    expect(t).toMatch(/^drill random \(seed 5\): 2 step\(s\) in 61 s, 1 passed, 1 failed/);
    expect(t).toContain('step 2 net-loss: FAILED');
    expect(t).toContain('! invariant one-dc violated');
    expect(t).toContain('replay: paceline drill random --seed 5 --from-step 2 --steps 1');
  });

  async function run(argv: string[], program: Command): Promise<{ code: number; err: string }> {
    let err = '';
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
    const o = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    process.exitCode = undefined;
    try {
      await program.exitOverride().parseAsync(argv, { from: 'user' });
    } finally {
      e.mockRestore();
      o.mockRestore();
    }
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    process.exitCode = undefined;
    return { code, err };
  }

  it('refuses an unknown CTS test and a bad output format', async () => {
    const p = (): Command => {
      const c = new Command('paceline').enablePositionalOptions().exitOverride();
      registerDrillCommand(c);
      return c;
    };
    const a = await run(['drill', 'cts', 'NoSuchTest'], p());
    expect(a.code).toBe(64);
    expect(a.err).toMatch(/unknown test 'NoSuchTest'.*StartOnebyOne/);
    const b = await run(['drill', 'random', '--output', 'yaml', '--duration', '10s'], p());
    expect(b.code).toBe(64);
    expect(b.err).toMatch(/--output must be text or json/);
    await expect(run(['drill', 'random', '--duration', '10x'], p())).rejects.toThrow(/duration/);
  });

  it('takes a negative clock offset as an argument, and refuses other dashed words', async () => {
    const p = (): Command => new Command('paceline').enablePositionalOptions().addCommand(labCommand());
    const a = await run(['lab', 'fault', 'clock-jump', 'node1', '-10m', '--dir', '/nonexistent-lab'], p());
    expect(a.code).toBe(1);
    expect(a.err).toMatch(/holds no lab/);
    const b = await run(['lab', 'fault', 'power-off', 'node1', '--bogus', '--dir', '/nonexistent-lab'], p());
    expect(b.code).toBe(64);
    expect(b.err).toMatch(/unknown option '--bogus'/);
    const c = await run(['lab', 'fault', 'clock-jump', '-10m', 'node1', '--dir', '/nonexistent-lab'], p());
    expect(c.code).toBe(64);
    expect(c.err).toMatch(/unknown option '-10m'/);
  });
});
