import { describe, expect, it } from 'vitest';
import { HealthPolicy, emptyTable, inetAton, runIpvsadm, type RuleTable } from './index.js';

function apply(t: RuleTable, args: string[]): RuleTable {
  const r = runIpvsadm(t, args);
  if (r.exitCode !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.table;
}
const KEY = { fwmark: 0, protocol: 'tcp' as const, addr: inetAton('10.0.0.1')!, port: 80 };
const A = { addr: inetAton('10.1.1.1')!, port: 80 };
const B = { addr: inetAton('10.1.1.2')!, port: 80 };

function setup(quiescent: boolean): { p: HealthPolicy; t: RuleTable } {
  let t = emptyTable();
  for (const l of ['-A -t 10.0.0.1:80', '-a -t 10.0.0.1:80 -r 10.1.1.1 -m -w 4 -x 50', '-a -t 10.0.0.1:80 -r 10.1.1.2 -m -w 2']) t = apply(t, l.split(' '));
  const p = new HealthPolicy({ service: '-t 10.0.0.1:80', probe: { type: 'tcp' }, fall: 3, rise: 2, quiescent, sorry: '10.9.9.9:8080' }, KEY);
  p.sync(t);
  return { p, t };
}

/** Feed results and apply the actions, as the director does. */
function feed(p: HealthPolicy, t: RuleTable, dest: { addr: number; port: number }, results: boolean[]): { t: RuleTable; logs: string[] } {
  const logs: string[] = [];
  for (const ok of results) for (const a of p.observe(dest, ok, t)) { t = apply(t, a.args); p.sync(t); logs.push(a.log); }
  return { t, logs };
}

describe('health policy', () => {
  it('removes a server after fall failures in a row and re-adds it with its weight and thresholds after rise successes', () => {
    // fall/rise as keepalived counts them: a single success in between resets the failure count.
    const { p, t } = setup(false);
    let r = feed(p, t, A, [false, false, true, false, false]);
    expect(r.logs).toEqual([]);
    r = feed(p, r.t, A, [false]);
    expect(r.logs).toEqual(['real server 10.1.1.1:80 (-t 10.0.0.1:80) down after 3 failed checks: removed']);
    expect(runIpvsadm(r.t, ['-Sn']).stdout).not.toContain('10.1.1.1');
    r = feed(p, r.t, A, [true]);
    expect(r.logs).toEqual([]);
    r = feed(p, r.t, A, [true]);
    expect(r.logs).toEqual(['real server 10.1.1.1:80 (-t 10.0.0.1:80) up after 2 good checks: added']);
    expect(runIpvsadm(r.t, ['-Ln', '--thresholds']).stdout).toContain('10.1.1.1:80                  50         0');
    expect(runIpvsadm(r.t, ['-Sn']).stdout).toContain('-a -t 10.0.0.1:80 -r 10.1.1.1:80 -m -w 4');
  });

  it('quiesces to weight 0 and restores the weight; the sorry server comes in when all are down and leaves when one is back', () => {
    // ldirectord quiescent=yes and fallback= behaviour.
    const { p, t } = setup(true);
    let r = feed(p, t, A, [false, false, false]);
    expect(runIpvsadm(r.t, ['-Sn']).stdout).toContain('-r 10.1.1.1:80 -m -w 0');
    r = feed(p, r.t, B, [false, false, false]);
    expect(r.logs).toEqual(['real server 10.1.1.2:80 (-t 10.0.0.1:80) down after 3 failed checks: quiesced (weight 0)', 'no real server up for -t 10.0.0.1:80: sorry server 10.9.9.9:8080 added']);
    expect(runIpvsadm(r.t, ['-Sn']).stdout).toContain('-r 10.9.9.9:8080 -m -w 1');
    r = feed(p, r.t, B, [true, true]);
    expect(r.logs[1]).toBe('a real server is up for -t 10.0.0.1:80: sorry server 10.9.9.9:8080 removed');
    expect(runIpvsadm(r.t, ['-Sn']).stdout).toContain('-r 10.1.1.2:80 -m -w 2');
    expect(runIpvsadm(r.t, ['-Sn']).stdout).not.toContain('10.9.9.9');
  });

  it('forgets a server the operator removed, and watches one the operator added', () => {
    // The checker follows ipvsadm changes instead of fighting them.
    const { p, t } = setup(false);
    let t2 = apply(t, ['-d', '-t', '10.0.0.1:80', '-r', '10.1.1.2']);
    t2 = apply(t2, ['-a', '-t', '10.0.0.1:80', '-r', '10.1.1.3', '-m']);
    p.sync(t2);
    expect(p.targets().map((d) => d.addr & 255).sort()).toEqual([1, 3]);
  });
});
