#!/usr/bin/env node
// The installed entry point: runs the compiled CLI. `npm run build` (or the README's commands) builds it.
import('../dist/main.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    process.stderr.write('paceline: not built yet; run `npm run build` in the repository first\n');
    process.exit(2);
  }
  throw err;
});
