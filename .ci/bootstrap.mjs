#!/usr/bin/env node
// The README's two commands, `npm start` and `npm test`, land here so that each works on a fresh
// clone with only Node.js and npm: it installs the dependencies when they are missing or stale,
// builds, then runs. Only Node's built-ins are used until the install is done.
//
//   node .ci/bootstrap.mjs start [args...]   the main job (paceline demo)
//   node .ci/bootstrap.mjs test              typecheck, lint and every test suite
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const root = new URL('..', import.meta.url).pathname;
const inCi = process.env.CI === 'true' || process.env.CI === '1';
const say = (msg) => process.stderr.write(`paceline: ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function must(step, cmd, args, opts) {
  const t0 = Date.now();
  say(`${step}...`);
  const status = run(cmd, args, opts);
  if (status !== 0) {
    say(`${step} failed (exit ${status})`);
    process.exit(status);
  }
  say(`${step}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

function ensureInstalled() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.paceline-install-stamp');
  const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  // `npm install` rather than `npm ci`: turbo lists optional binaries for every platform, and a
  // registry that serves only some of them leaves them out of the lockfile, which `npm ci`
  // refuses. The lockfile still pins every version installed. better-sqlite3 builds from source
  // (no prebuilt binary can be downloaded here): about a minute.
  must('installing dependencies (npm install; builds better-sqlite3 from source, about a minute)', 'npm', ['install', '--no-audit', '--no-fund']);
  // npm may have brought the lockfile up to date: stamp what is there now, so the next run
  // does not install again.
  writeFileSync(stamp, createHash('sha256').update(readFileSync(lock)).digest('hex'));
}

function build() {
  must('building (tsc via turbo)', 'npx', ['--no-install', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
}

function test() {
  if (inCi) must('installing test dependencies (Debian packages)', 'bash', ['.ci/install-test-deps.sh']);
  must('type-checking', 'npx', ['--no-install', 'turbo', 'run', 'typecheck', '--output-logs=errors-only'], {
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
  });
  must('type-checking test suites', 'npx', ['--no-install', 'tsc', '-p', 'test/tsconfig.json']);
  must('linting package boundaries', 'node', ['.ci/check-boundaries.mjs']);
  const out = join(mkdtempSync(join(tmpdir(), 'paceline-test-')), 'vitest.json');
  say('running every test suite (vitest)...');
  const status = run('npx', ['--no-install', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`]);
  let report;
  try {
    report = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    say(`no test report was written (vitest exit ${status})`);
    process.exit(status || 1);
  }
  const passed = report.numPassedTests ?? 0;
  const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  process.stdout.write(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  if (passed === 0) {
    say('no test ran: that is a failure');
    process.exit(1);
  }
  process.exit(status !== 0 || failed > 0 ? status || 1 : 0);
}

const [what, ...rest] = process.argv.slice(2);
ensureInstalled();
build();
if (what === 'test') test();
else if (what === 'start') process.exit(run('node', ['packages/cli/bin/paceline.js', 'demo', ...rest]));
else {
  say(`unknown step ${what ?? '(none)'}; use start or test`);
  process.exit(2);
}
