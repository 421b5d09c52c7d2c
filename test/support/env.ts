/**
 * What a suite needs from the machine, and what to do when it is missing.
 *
 * Outside CI a missing tool, privilege or corpus skips the suite with a one-line reason. Under
 * CI=true it fails instead: CI installs everything (`scripts/install-test-deps.sh`), so a missing
 * piece there is a broken pipeline, not a reason to pass quietly.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = resolve(repoRoot, '../shared');
export const corpusDir = resolve(sharedDir, 'corpus');
export const schedulerCorpusDir = resolve(corpusDir, 'pacemaker-scheduler');
export const crmshCorpusDir = resolve(corpusDir, 'crmsh');
export const inCi = process.env.CI === 'true' || process.env.CI === '1';

/** Path of an executable on PATH (or in sbin), or undefined. */
export function which(tool: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin'])) {
    if (dir && existsSync(`${dir}/${tool}`)) return `${dir}/${tool}`;
  }
  return undefined;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Returns undefined when every need is met, or a one-line reason naming what is missing.
 * Under CI a missing need throws: the suite must run there.
 */
export function missing(needs: { tools?: string[]; paths?: string[]; root?: boolean; netns?: boolean }): string | undefined {
  const lacks: string[] = [];
  for (const t of needs.tools ?? []) if (!which(t)) lacks.push(`tool ${t}`);
  for (const p of needs.paths ?? []) if (!existsSync(p)) lacks.push(`path ${p}`);
  if (needs.root && !isRoot()) lacks.push('root');
  if (needs.netns) {
    try {
      execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    } catch {
      lacks.push('network namespaces (ip netns)');
    }
  }
  if (lacks.length === 0) return undefined;
  const reason = `needs ${lacks.join(', ')}`;
  if (inCi) throw new Error(`CI=true but this suite ${reason}; scripts/install-test-deps.sh should provide it`);
  return reason;
}
