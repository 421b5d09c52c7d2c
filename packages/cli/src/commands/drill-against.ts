/**
 * `paceline drill vip-failover --against pacemaker [--repeat N]`: the vip-failover series on
 * paceline (runDrill) and then on real Pacemaker + Corosync (runPacemakerDrill), with the same
 * seed, printed as one table (text) or one JSON object { scenario, seed, against, paceline,
 * pacemaker }. Resolves to the exit code: 0 when every run of both series passed, else 1.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatComparison, pacemakerMissing, runDrill, runPacemakerDrill, type DrillReport } from '@paceline/lab';

export interface AgainstOptions {
  readonly repeat: number;
  readonly seed: number;
  readonly stonith: boolean;
  readonly settleTimeoutMs: number;
  readonly output: string;
  readonly progress: (l: string) => void;
  /** A base directory: the two labs go in DIR/paceline and DIR/pacemaker (kept). */
  readonly dir?: string;
}

const strip = (r: DrillReport & { dir: string }): DrillReport => {
  const { dir: _dir, ...out } = r;
  return out;
};

export async function runAgainstPacemaker(o: AgainstOptions): Promise<number> {
  const lacks = pacemakerMissing();
  if (lacks.length > 0) {
    process.stderr.write(`paceline drill --against pacemaker: needs ${lacks.join(', ')} (Debian: apt-get install corosync pacemaker pacemaker-cli-utils resource-agents)\n`);
    return 1;
  }
  try {
    if (o.dir !== undefined) for (const sub of ['paceline', 'pacemaker']) mkdirSync(join(o.dir, sub), { recursive: true });
    o.progress('paceline series');
    const ours = await runDrill({ scenario: 'vip-failover', repeat: o.repeat, seed: o.seed, stonith: o.stonith, settleTimeoutMs: o.settleTimeoutMs, progress: o.progress, ...(o.dir === undefined ? {} : { dir: join(o.dir, 'paceline') }) });
    o.progress('pacemaker series');
    const theirs = await runPacemakerDrill({ repeat: o.repeat, seed: o.seed, settleTimeoutMs: Math.max(o.settleTimeoutMs, 120_000), progress: o.progress, ...(o.dir === undefined ? {} : { dir: join(o.dir, 'pacemaker'), keep: false }) });
    const series = [
      { stack: 'paceline' as const, fencing: o.stonith, report: strip(ours) },
      { stack: 'pacemaker' as const, fencing: false, report: strip(theirs) },
    ];
    process.stdout.write(
      o.output === 'json'
        ? `${JSON.stringify({ scenario: 'vip-failover', seed: o.seed, against: 'pacemaker', paceline: { fencing: o.stonith, ...series[0]!.report }, pacemaker: { fencing: false, ...series[1]!.report } }, null, 2)}\n`
        : formatComparison('vip-failover', o.seed, series),
    );
    return [...ours.runs, ...theirs.runs].every((r) => r.passed) ? 0 : 1;
  } catch (err) {
    process.stderr.write(`paceline drill vip-failover --against pacemaker: ${(err as Error).message}\n`);
    return 1;
  }
}
