/**
 * `node build-native.mjs SOURCE OUT WHAT FALLBACK`: builds one C file of a package's native/ into
 * a Node addon (OUT, e.g. dist/paceline_spawn.node) with the system's C compiler and Node's own
 * headers (no node-gyp needed); paths are relative to the package (npm runs scripts there). The
 * module name is OUT's base name. Optional: when there is no compiler or no headers it says so
 * (WHAT is not built; FALLBACK says what the package does instead) and exits 0. Used by the
 * executor (native/spawn.c: without it agents are started with node:child_process, a fork of the
 * whole daemon per agent run) and messaging (native/timer.c: without it the driver's idle timer is
 * a setTimeout, one more wake-up per heartbeat interval).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function headerDir() {
  const candidates = [process.env.npm_config_nodedir && resolve(process.env.npm_config_nodedir, 'include', 'node'), resolve(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  return candidates.find((d) => d && existsSync(resolve(d, 'node_api.h')) && existsSync(resolve(d, 'uv.h')));
}

function main([source, out, what, fallback]) {
  if (!source || !out || !what || !fallback) {
    process.stderr.write('usage: node build-native.mjs SOURCE OUT WHAT FALLBACK\n');
    process.exit(2);
  }
  const pkg = basename(process.cwd());
  const mtime = (f) => statSync(f).mtimeMs;
  if (existsSync(out) && mtime(out) >= mtime(source) && mtime(out) >= mtime(fileURLToPath(import.meta.url))) return;
  const include = headerDir();
  if (include === undefined) {
    process.stderr.write(`${pkg}: Node headers (node_api.h, uv.h) not found: ${what} is not built; ${fallback}\n`);
    return;
  }
  const cc = process.env.CC ?? 'cc';
  const name = basename(out).replace(/\.node$/, '');
  mkdirSync(dirname(resolve(out)), { recursive: true });
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', `-DNODE_GYP_MODULE_NAME=${name}`, `-I${include}`, source, '-o', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    process.stderr.write(`${pkg}: building ${what} with ${cc} failed (${err.message.split('\n')[0]}); ${fallback}\n`);
  }
}

main(process.argv.slice(2));
