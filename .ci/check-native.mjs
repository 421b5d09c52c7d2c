// Runs after `npm install`: fails loudly when a native addon was not built, instead of letting a
// skipped install script surface later as a confusing runtime error.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

const require = createRequire(import.meta.url);
const natives = ['better-sqlite3'];
let failed = false;
for (const name of natives) {
  let pkgDir;
  try {
    pkgDir = require.resolve(`${name}/package.json`).replace(/\/package\.json$/, '');
  } catch {
    continue; // not a dependency of this checkout (yet)
  }
  try {
    const mod = require(name);
    if (name === 'better-sqlite3') new mod(':memory:').prepare('select 1').get();
  } catch (err) {
    failed = true;
    const built = existsSync(`${pkgDir}/build/Release`);
    process.stderr.write(
      `paceline: native module ${name} does not load (${built ? 'built but broken' : 'its install script did not build it'}): ${err.message}\n` +
        `  fix: npm rebuild ${name} --foreground-scripts  (needs python3, make and g++)\n`,
    );
  }
}
process.exit(failed ? 1 : 0);
