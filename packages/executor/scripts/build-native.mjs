/**
 * Builds native/spawn.c into dist/paceline_spawn.node with the system's C compiler and
 * Node's own headers (no node-gyp needed). Optional: when there is no compiler or no headers it
 * says so and exits 0, and the executor starts agents with node:child_process instead (a fork of
 * the whole daemon per agent run: correct, but it costs the node more CPU; see native/spawn.c).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'spawn.c');
const out = join(root, 'dist', 'paceline_spawn.node');

function headerDir() {
  const candidates = [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'), join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((d) => d && existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));
}

function main() {
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(source).mtimeMs && statSync(out).mtimeMs >= statSync(fileURLToPath(import.meta.url)).mtimeMs) return;
  const include = headerDir();
  if (include === undefined) {
    process.stderr.write('executor: Node headers (node_api.h, uv.h) not found: the native spawner is not built; agents will be started with node:child_process\n');
    return;
  }
  const cc = process.env.CC ?? 'cc';
  mkdirSync(dirname(out), { recursive: true });
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=paceline_spawn', `-I${include}`, source, '-o', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    process.stderr.write(`executor: building the native spawner with ${cc} failed (${err.message.split('\n')[0]}); agents will be started with node:child_process\n`);
  }
}

main();
