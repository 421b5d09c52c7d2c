/**
 * The clock-jump fault: offset parsing and formatting, the offset file, the boot script's
 * libfaketime lines, the drill's log correction for jumped nodes, and (no root, needs libfaketime) a local lab whose node's wall clock jumps
 * while the host's does not, as `lab exec NODE -- date +%s` and the node's own process see it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootScript, clockOffsetFile, fakeClockEnv, faultVerbs, faults, findLibfaketime, labDown, labExec, libfaketimeCandidates, labUp, nodePid, type LabNode, type LabState, type LogEvent } from '@paceline/lab';
import { jumpEntries, unskew, type ClockJump } from '../../packages/lab/src/drill-clock.js';
import { missing } from '../support/env.js';
import { STANDIN } from './support.js';

const { parseClockOffset, formatClockOffset, parseOffsetFile, MAX_CLOCK_JUMP_S } = faultVerbs;

describe('clock offsets', () => {
  it('parses a sign, a whole number and a unit into signed seconds', () => {
    expect(parseClockOffset('+1h')).toBe(3600);
    expect(parseClockOffset('-10m')).toBe(-600);
    expect(parseClockOffset('+30s')).toBe(30);
    expect(parseClockOffset('-2d')).toBe(-172_800);
    expect(parseClockOffset('-90')).toBe(-90);
    expect(parseClockOffset(' +5m ')).toBe(300);
  });

  it('refuses offsets without a sign, with other units, fractions, zero, or beyond a year', () => {
    for (const bad of ['1h', 'h', '+', '+1.5h', '+1w', '+1 h', '++1h', '', '+1hm', '-0x10']) expect(() => parseClockOffset(bad), bad).toThrow(/bad clock offset/);
    expect(() => parseClockOffset('+0')).toThrow(/zero/);
    expect(() => parseClockOffset('-0h')).toThrow(/zero/);
    expect(() => parseClockOffset('+367d')).toThrow(/more than 366 days/);
    expect(parseClockOffset(`-${MAX_CLOCK_JUMP_S}`)).toBe(-MAX_CLOCK_JUMP_S);
  });

  it('formats seconds with the largest whole unit', () => {
    expect(formatClockOffset(3600)).toBe('+1h');
    expect(formatClockOffset(-7200)).toBe('-2h');
    expect(formatClockOffset(-600)).toBe('-10m');
    expect(formatClockOffset(90)).toBe('+90s');
    expect(formatClockOffset(86_400)).toBe('+1d');
    expect(formatClockOffset(0)).toBe('+0s');
    for (const s of [1, -59, 61, 3601, -86_399]) expect(parseClockOffset(formatClockOffset(s))).toBe(s);
  });

  it('reads the offset file libfaketime reads', () => {
    expect(parseOffsetFile('+3600\n')).toBe(3600);
    expect(parseOffsetFile('-600\n')).toBe(-600);
    expect(parseOffsetFile('+0')).toBe(0);
    expect(() => parseOffsetFile('+1h')).toThrow(/not a clock offset file/);
  });
});

describe('fake clock settings', () => {
  const node: LabNode = { name: 'node1', id: 1, address: '127.0.0.1:5405', dir: '/lab/nodes/node1', config: '/lab/nodes/node1/config.json', apiSocket: '/lab/nodes/node1/api.sock' };

  it('preloads libfaketime with the node offset file, leaving the monotonic clocks alone', () => {
    expect(fakeClockEnv('/lib/ft.so.1', node)).toEqual({
      LD_PRELOAD: '/lib/ft.so.1',
      FAKETIME_TIMESTAMP_FILE: '/lab/nodes/node1/clock-offset',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
      FAKETIME_CACHE_DURATION: '0',
    });
    expect(clockOffsetFile(node)).toBe('/lab/nodes/node1/clock-offset');
  });

  it('exports the settings in the boot script of a fake-clocked lab only', () => {
    const on = bootScript({ dir: '/lab', nodeCommand: ['paceline'], fakeClock: '/lib/ft.so.1' }, node);
    expect(on).toContain(`export LD_PRELOAD='/lib/ft.so.1' FAKETIME_TIMESTAMP_FILE="$D/clock-offset" FAKETIME_DONT_FAKE_MONOTONIC='1' FAKETIME_CACHE_DURATION='0'`);
    expect(on).toContain('[ -s "$D/clock-offset" ] || echo +0 >"$D/clock-offset"');
    // Before the node command starts.
    expect(on.indexOf('LD_PRELOAD')).toBeLessThan(on.indexOf('setsid sh -c'));
    expect(bootScript({ dir: '/lab', nodeCommand: ['paceline'] }, node)).not.toContain('FAKETIME');
  });

  it('looks for libfaketime where Debian puts it, or only where PACELINE_LIBFAKETIME says', () => {
    expect(libfaketimeCandidates({})).toContain('/usr/lib/faketime/libfaketime.so.1');
    expect(libfaketimeCandidates({}).some((p) => /\/usr\/lib\/[a-z0-9_]+-linux-gnu\/faketime\/libfaketime\.so\.1$/.test(p))).toBe(true);
    expect(libfaketimeCandidates({ PACELINE_LIBFAKETIME: '/opt/ft.so' })).toEqual(['/opt/ft.so']);
  });
});

describe('clock-jump verbs on lab states', () => {
  let dir = '';
  const state = (over: Partial<LabState>): LabState => ({
    version: 1,
    name: 'ck',
    driver: 'local',
    dir,
    nodes: [{ name: 'node1', id: 1, address: '127.0.0.1:1', dir: join(dir, 'node1'), config: '', apiSocket: '' }],
    vips: [],
    nodeCommand: ['x'],
    createdAt: '',
    ...over,
  });
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-clock-'));
    mkdirSync(join(dir, 'node1'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds jumps up in the offset file, resets to +0, and refuses a reset on true time', async () => {
    const s = state({ fakeClock: '/lib/ft.so.1' });
    const file = clockOffsetFile(s.nodes[0]!);
    expect(faultVerbs.clockOffset(s, 'node1')).toBe(0);
    const t0 = Date.now();
    const at = await faultVerbs.clockJump(s, 'node1', '+1h');
    expect(at).toBeGreaterThanOrEqual(t0);
    // It returns once the nodes had a new second to read the file in.
    expect(Date.now() - at).toBeGreaterThanOrEqual(1000);
    expect(readFileSync(file, 'utf8')).toBe('+3600\n');
    await faultVerbs.clockJump(s, 'node1', -7200);
    expect(readFileSync(file, 'utf8')).toBe('-3600\n');
    expect(faultVerbs.clockOffset(s, 'node1')).toBe(-3600);
    await faultVerbs.clockReset(s, 'node1');
    expect(readFileSync(file, 'utf8')).toBe('+0\n');
    await expect(faultVerbs.clockReset(s, 'node1')).rejects.toThrow(/on true time already/);
    writeFileSync(file, `+${MAX_CLOCK_JUMP_S}\n`);
    await expect(faultVerbs.clockJump(s, 'node1', '+1s')).rejects.toThrow(/would be .* off true time/);
    await expect(faultVerbs.clockJump(s, 'node1', 1.5)).rejects.toThrow(/whole number/);
    await expect(faultVerbs.clockJump(s, 'node9', '+1s')).rejects.toThrow(/has no node node9/);
  });

  it('names --fake-clock on a lab with real clocks, and refuses the ssh driver', async () => {
    await expect(faultVerbs.clockJump(state({}), 'node1', '+1h')).rejects.toThrow(/runs real clocks.*--fake-clock/);
    await expect(faultVerbs.clockJump(state({ driver: 'ssh', fakeClock: '/lib/ft.so.1' }), 'node1', '+1h')).rejects.toThrow(/ssh driver's hosts keep real clocks/);
    await expect(labUp({ name: 'ck', nodes: 1, driver: 'ssh', dir, fakeClock: true })).rejects.toThrow(/--fake-clock works with the netns and local drivers/);
  });
});

const lib = findLibfaketime();
const why = missing({ tools: ['sh', 'sleep', 'setsid', 'date'], paths: [lib ?? libfaketimeCandidates()[0]!] });

describe.skipIf(!!why)(`clock jump on a local lab (libfaketime) ${why ?? ''}`, () => {
  let dir = '';
  let lab: LabState;
  /** The node's wall clock minus the host's, in seconds, as `date +%s` run in the node sees it. */
  const skew = async (node: string): Promise<number> => {
    const r = await labExec(dir, node, ['date', '+%s'], { stdio: 'pipe' });
    expect(r.code, r.stderr).toBe(0);
    return Number(r.stdout.trim()) - Math.floor(Date.now() / 1000);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-lab-clock-'));
    lab = await labUp({ name: 'tc', nodes: 2, driver: 'local', dir, nodeCommand: STANDIN, settle: false, fakeClock: true });
  });
  afterAll(async () => {
    await labDown(dir).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the nodes under libfaketime on true time', async () => {
    expect(lab.fakeClock).toBe(lib);
    for (const n of lab.nodes) {
      expect(readFileSync(clockOffsetFile(n), 'utf8')).toBe('+0\n');
      const environ = readFileSync(`/proc/${nodePid(n)}/environ`, 'latin1').split('\0');
      expect(environ).toContain(`LD_PRELOAD=${lib}`);
      expect(environ).toContain(`FAKETIME_TIMESTAMP_FILE=${clockOffsetFile(n)}`);
      expect(Math.abs(await skew(n.name))).toBeLessThanOrEqual(1);
    }
  });

  it("moves one node's wall clock by the offset, not the other's nor the host's, and back", async () => {
    const f = faults(dir);
    await f.clockJump('node1', '+1h');
    // Against the host's clock (this process runs without the preload): node1 moved, node2 not.
    expect(Math.abs((await skew('node1')) - 3600)).toBeLessThanOrEqual(1);
    expect(Math.abs(await skew('node2'))).toBeLessThanOrEqual(1);
    await f.clockJump('node1', '-10m');
    expect(Math.abs((await skew('node1')) - 3000)).toBeLessThanOrEqual(1);
    await f.clockJump('node2', '-2h');
    expect(Math.abs((await skew('node2')) + 7200)).toBeLessThanOrEqual(1);
    await f.clockReset('node1');
    await f.clockReset('node2');
    for (const n of ['node1', 'node2']) expect(Math.abs(await skew(n))).toBeLessThanOrEqual(1);
  });

  it('starts a real-clock lab without the preload when asked', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'paceline-lab-clock-'));
    try {
      const l2 = await labUp({ name: 'tr', nodes: 1, driver: 'local', dir: d2, nodeCommand: STANDIN, settle: false, fakeClock: false });
      expect(l2.fakeClock).toBeUndefined();
      expect(readFileSync(`/proc/${nodePid(l2.nodes[0]!)}/environ`, 'latin1')).not.toContain('LD_PRELOAD=');
      await expect(faults(d2).clockJump('node1', '+1h')).rejects.toThrow(/runs real clocks/);
    } finally {
      await labDown(d2).catch(() => undefined);
      rmSync(d2, { recursive: true, force: true });
    }
  });
});

describe('clock-jump drill: logs of jumped nodes on the host time', () => {
  const ev = (node: string, t: number, event: string): LogEvent => ({ t, node, event, data: {} });
  const H = 3_600_000;

  it('takes the offset out of the lines logged since the last jump, and drops the rest', () => {
    const now = 10 * H;
    // node1 jumped +1h at 8h, then -2h (to -1h) at 9h; node3 never jumped.
    const jumps: ClockJump[] = [
      { at: 8 * H, node: 'node1', deltaS: 3600, offsetS: 3600 },
      { at: 9 * H, node: 'node1', deltaS: -7200, offsetS: -3600 },
    ];
    const logs = new Map([
      [
        'node1',
        [
          ev('node1', 7 * H, 'start-before-any-jump'), // true time 7h: would land at 8h, before the last jump
          ev('node1', 8.5 * H + H, 'during-plus-1h'), // true 8.5h, stamped 9.5h: would land at 10.5h, in the future
          ev('node1', 9.5 * H - H, 'after-last-jump'), // true 9.5h, stamped 8.5h
        ],
      ],
      ['node3', [ev('node3', 9.5 * H, 'true-time'), ev('node3', 10.5 * H, 'future')]],
    ]);
    const out = unskew(logs, jumps, now);
    expect(out.get('node1')!.map((e) => [e.event, e.t])).toEqual([['after-last-jump', 9.5 * H]]);
    expect(out.get('node3')!.map((e) => e.event)).toEqual(['true-time']);
  });

  it('places the jumps on the timeline before the fault, with the offset they left', () => {
    const e = jumpEntries(
      [
        { at: 1000, node: 'node2', deltaS: 3600, offsetS: 3600 },
        { at: 9000, node: 'node2', deltaS: -3600, offsetS: 0 },
      ],
      5000,
    );
    expect(e).toEqual([
      { offsetMs: -4000, kind: 'fault', node: 'node2', detail: 'clock jump node2 +1h (now +1h off true time)' },
      { offsetMs: 4000, kind: 'fault', node: 'node2', detail: 'clock jump node2 -1h (now on true time)' },
    ]);
  });
});
