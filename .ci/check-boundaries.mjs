#!/usr/bin/env node
// Lint: the package boundaries of docs/architecture.md, checked on every import.
//
// Usage: node scripts/check-boundaries.mjs [package...]   (no argument: every package)
// Fails (exit 1) naming the file, the line and the rule when:
//  - a package imports a workspace package its row forbids;
//  - a pure package (cib, scheduler) imports I/O modules or reads a clock or randomness;
//  - a package has no README.md, or its README does not open with a paragraph on its one job.
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** One row per package: the workspace packages it must not import, and whether it must be pure. */
const rules = {
  cib: { forbid: ['*'], pure: true },
  scheduler: { forbid: ['messaging', 'executor', 'controller', 'store', 'daemon', 'cli', 'lab', 'sim', 'ipvs'], pure: true },
  messaging: { forbid: ['cib', 'scheduler', 'controller', 'executor', 'store', 'daemon', 'cli', 'lab', 'sim'] },
  executor: { forbid: ['messaging', 'controller', 'scheduler', 'store', 'daemon', 'cli', 'lab', 'sim'] },
  store: { forbid: ['scheduler', 'controller', 'messaging', 'executor', 'daemon', 'cli', 'lab', 'sim'] },
  controller: { forbid: ['daemon', 'cli', 'lab'] },
  daemon: { forbid: ['cli', 'lab'] },
  // cli starts a node (`paceline node start` calls the daemon's entry point); all else goes through the API.
  cli: { forbid: [] },
  lab: { forbid: [] },
  sim: { forbid: ['daemon', 'cli', 'lab'] },
  ipvs: { forbid: ['controller', 'daemon'] },
};
const ioModules = ['fs', 'fs/promises', 'net', 'dgram', 'child_process', 'http', 'https', 'os', 'worker_threads', 'cluster', 'tls', 'dns', 'readline'];
const impureCalls = [
  [/\bDate\.now\s*\(/, 'reads the clock (Date.now)'],
  [/\bnew Date\s*\(\s*\)/, 'reads the clock (new Date())'],
  [/\bperformance\.now\s*\(/, 'reads the clock (performance.now)'],
  [/\bMath\.random\s*\(/, 'uses randomness (Math.random)'],
  [/\bprocess\.(env|argv|exit|hrtime)\b/, 'reads the process environment'],
  [/\bsetTimeout\s*\(|\bsetInterval\s*\(/, 'uses timers'],
];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      // Benchmarks are programs that measure (clocks, files): they are not the pure core.
      if (name !== 'bench' && name !== 'node_modules' && name !== 'dist') walk(p, out);
    } else if (/\.ts$/.test(name) && !/\.test\.ts$/.test(name)) out.push(p);
  }
  return out;
}

const problems = [];
const wanted = process.argv.slice(2);
const pkgs = readdirSync(join(root, 'packages')).filter((p) => existsSync(join(root, 'packages', p, 'package.json')));
for (const pkg of wanted.length ? wanted : pkgs) {
  const dir = join(root, 'packages', pkg);
  const rule = rules[pkg];
  if (!rule) {
    problems.push(`packages/${pkg}: no row in scripts/check-boundaries.mjs; add one (and to docs/architecture.md)`);
    continue;
  }
  const readme = join(dir, 'README.md');
  if (!existsSync(readme)) problems.push(`packages/${pkg}/README.md: missing (its first paragraph states the package's one job)`);
  else {
    const first = readFileSync(readme, 'utf8').split('\n').find((l) => l.trim() && !l.startsWith('#'));
    if (!first || first.length < 20) problems.push(`packages/${pkg}/README.md: the first paragraph must state the package's one job`);
  }
  for (const file of walk(join(dir, 'src'))) {
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      const where = `${relative(root, file)}:${i + 1}`;
      const m = line.match(/^\s*(?:import|export)\b[^'"]*from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/);
      const spec = m && (m[1] ?? m[2] ?? m[3]);
      if (spec) {
        const ws = spec.match(/^@paceline\/([^/]+)/);
        if (ws && ws[1] !== pkg && (rule.forbid.includes('*') || rule.forbid.includes(ws[1])))
          problems.push(`${where}: ${pkg} must not depend on ${ws[1]} (docs/architecture.md)`);
        const node = spec.replace(/^node:/, '');
        if (rule.pure && !/^type\s/.test(line.trim().replace(/^import\s+/, '')) && ioModules.includes(node) && !/^\s*import\s+type\b/.test(line))
          problems.push(`${where}: ${pkg} is pure and must not import ${spec}`);
      }
      if (rule.pure && !/^\s*(\/\/|\*)/.test(line))
        for (const [re, what] of impureCalls) if (re.test(line)) problems.push(`${where}: ${pkg} is pure and ${what}`);
    });
  }
}
if (problems.length) {
  process.stderr.write(problems.join('\n') + `\n${problems.length} boundary problem(s)\n`);
  process.exit(1);
}
process.stdout.write(`boundaries ok (${(wanted.length ? wanted : pkgs).join(', ')})\n`);
