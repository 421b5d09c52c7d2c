#!/usr/bin/env node
// The installed entry point: runs the compiled CLI. `npm run build` (or the README's commands) builds it.
//
// `paceline node start [--config FILE]` goes straight to the daemon: a long-running node should
// not carry the code of every other command (the shell, the lab, the simulator...) in its memory.
// Any other form of it (help, a wrong option) goes through the full CLI, which explains.
const args = process.argv.slice(2);
const daemonOnly =
  args[0] === 'node' && args[1] === 'start' && (args.length === 2 || (args.length === 4 && args[2] === '--config' && !args[3].startsWith('-')));

const notBuilt = (err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && /dist\/(main|index|light|commands\/crm_simulate)\.js/.test(String(err.message))) {
    process.stderr.write('paceline: not built yet; run `npm run build` in the repository first\n');
    process.exit(2);
  }
  throw err;
};

// Commands resource agents run many times per action: loaded alone too (see src/light.ts).
const light = args[0] === 'ipvsadm' || args[0] === 'director';
// crm_simulate runs alone too: a run loads the scheduler, not the shell, the lab and the rest.
const simulateOnly = args[0] === 'crm_simulate';

if (daemonOnly) {
  import('@paceline/daemon')
    .then(async ({ runNodeCommand, NODE_CONFIG_PATH_DEFAULT }) => {
      process.exitCode = await runNodeCommand(args[3] ?? NODE_CONFIG_PATH_DEFAULT);
    })
    .catch(notBuilt);
} else if (light) {
  import('../dist/light.js')
    .then(async ({ runLight }) => {
      process.exitCode = await runLight(args);
    })
    .catch(notBuilt);
} else if (simulateOnly) {
  import('../dist/commands/crm_simulate.js')
    .then(async ({ runCrmSimulateAlone }) => {
      process.exitCode = await runCrmSimulateAlone(args);
    })
    .catch(notBuilt);
} else {
  import('../dist/main.js').catch(notBuilt);
}
