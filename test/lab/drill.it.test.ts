/**
 * `paceline drill vip-failover --repeat 2 --output json --svg DIR --report FILE.md`, through the
 * commander command (the same code the binary runs), on a real three-node lab in network
 * namespaces the drill creates and removes: the JSON shape, passed runs, an ordered timeline
 * (fault < detection < fence < start of vip < answering), SVG files that parse as XML, the report.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { registerDrillCommand } from '../../packages/cli/src/commands/drill.js';
import { labNamespaces } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { drillJson } from './drill-support.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3'], paths: [built] });

describe.skipIf(reason !== undefined)(`paceline drill vip-failover in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  const out = mkdtempSync(join(tmpdir(), 'paceline-drill-test-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs two failovers and reports them as JSON, SVG and Markdown', async () => {
    const { report, code } = await drillJson(['vip-failover', '--repeat', '2', '--seed', '5', '--settle-timeout', '20', '--svg', join(out, 'svg'), '--report', join(out, 'report.md')]);
    expect(report.scenario).toBe('vip-failover');
    expect(report.seed).toBe(5);
    expect(report.requested).toBe(2);
    expect(report.runs.map((r) => r.reasons), JSON.stringify(report.runs.map((r) => r.reasons))).toEqual([[], []]);
    expect(report.runs).toHaveLength(2);
    for (const run of report.runs) {
      expect(run.reasons).toEqual([]);
      expect(run.passed).toBe(true);
      expect(typeof run.failover_ms).toBe('number');
      expect(run.failover_ms).toBeGreaterThan(0);
      expect(run.failover_ms).toBeLessThan(10_000);
      expect(run.invariants.map((i) => `${i.name}=${i.status}`).sort()).toEqual(['cib-same-on-every-node=ok', 'fencing-before-recovery=ok', 'no-resource-left-stopped=ok', 'single-mac=ok']);
      const t = (kind: string, rsc?: string): number => {
        const e = run.timeline.find((x) => x.kind === kind && (rsc === undefined || x.rsc === rsc));
        expect(e, `${kind}${rsc ? ` ${rsc}` : ''} in the timeline`).toBeDefined();
        return e!.offsetMs;
      };
      expect(t('fault')).toBe(0);
      expect(t('detection')).toBeGreaterThan(0);
      expect(t('fence')).toBeGreaterThan(t('detection'));
      expect(t('start', 'vip')).toBeGreaterThanOrEqual(t('fence'));
      expect(t('answering')).toBeGreaterThan(t('start', 'vip'));
      expect(t('answering')).toBe(run.failover_ms);
      for (let i = 1; i < run.timeline.length; i++) expect(run.timeline[i]!.offsetMs).toBeGreaterThanOrEqual(run.timeline[i - 1]!.offsetMs);
    }
    const ms = report.runs.map((r) => r.failover_ms).sort((a, b) => a - b);
    expect(report.summary).toMatchObject({ min: ms[0], max: ms[1], median: Math.round((ms[0]! + ms[1]!) / 2), passed: 2 });
    expect(code).toBe(0);

    const svgs = readdirSync(join(out, 'svg')).sort();
    expect(svgs).toEqual(['vip-failover-run1.svg', 'vip-failover-run2.svg']);
    for (const f of svgs) {
      // Well-formed XML with an <svg> root (python3's expat parser).
      const root = execFileSync('python3', ['-c', 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().tag)', join(out, 'svg', f)], { encoding: 'utf8' }).trim();
      expect(root).toBe('{http://www.w3.org/2000/svg}svg');
    }
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain(`| median | ${report.summary.median} |`);
    expect(md).toContain('![run 1 timeline](svg/vip-failover-run1.svg)');
    // The drill took its lab down.
    // (Only this process's lab: other drill suites may run at the same time.)
    const mine = `dr${(process.pid % 46656).toString(36)}`;
    const labName = (d: string): string | undefined => {
      try {
        return (JSON.parse(readFileSync(join(tmpdir(), d, 'lab.json'), 'utf8')) as { name?: string }).name;
      } catch {
        return undefined;
      }
    };
    expect(readdirSync(tmpdir()).some((d) => d.startsWith('paceline-drill-') && existsSync(join(tmpdir(), d, 'lab.json')) && labName(d) === mine)).toBe(false);
    expect(labNamespaces(`dr${(process.pid % 46656).toString(36)}`)).toEqual([]);
  }, 150_000);
});

describe('paceline drill usage errors (no lab needed)', () => {
  it('refuses an unknown scenario and a bad output format with the usage exit code', async () => {
    for (const args of [['drill', 'nonsense'], ['drill', 'vip-failover', '--output', 'yaml'], ['drill', 'vip-failover', '--report', 'r.txt']]) {
      const program = new Command('paceline').exitOverride();
      registerDrillCommand(program);
      let stderr = '';
      const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
        stderr += c.toString();
        return true;
      });
      try {
        await program.parseAsync(args, { from: 'user' });
      } finally {
        err.mockRestore();
      }
      expect(process.exitCode).toBe(64);
      expect(stderr).toMatch(/paceline drill: /);
      process.exitCode = 0;
    }
  });
});
