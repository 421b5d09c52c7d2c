/**
 * `paceline`: one binary for the crm-like shell and the Pacemaker-compatible tools.
 *
 * Each command lives in `commands/` and registers itself on the program; this file only wires
 * them together, so a command can be tested without the others.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { runProgram } from './run.js';
import { CRM_EXIT, registerCrmCommands, runCrm, startInteractiveShell } from './commands/crm.js';
import { apiReachable } from './commands/crm-live.js';
import { apiSocket } from './commands/live.js';
import { registerClusterCommands } from './commands/cluster.js';
import { registerCrmSimulate } from './commands/crm_simulate.js';
import { registerDemo } from './commands/demo.js';
import { registerIpvsCommands } from './commands/ipvs.js';
import { registerMessagingCommands } from './commands/messaging.js';
import { registerNodeCommands } from './commands/node.js';
import { registerPacemakerTools } from './commands/pacemaker-tools.js';
import { labCommand } from './commands/lab.js';
import { registerDrillCommand } from './commands/drill.js';
import { registerSimCommands } from './commands/sim.js';
import { registerRaCommands } from './commands/ra.js';

export function buildProgram(): Command {
  const program = new Command('paceline')
    .description('paceline: a high-availability cluster resource manager, compatible with Pacemaker + Corosync')
    .version('0.1.0', '--version', 'print the version')
    .showHelpAfterError('(run paceline --help for the commands)')
    .enablePositionalOptions()
    .option('-f, --file <SCRIPT>', 'run a crm shell script (crmsh syntax), like crm -f')
    .option('--cib-file <FILE>', 'work on this CIB file offline (like CIB_file=FILE)')
    .action(async (flags: { file?: string; cibFile?: string }) => {
      if (flags.file === undefined) {
        // No arguments on a terminal: the interactive crm shell, offline on CIB_file / --cib-file,
        // else live when this machine's node answers.
        const offline = flags.cibFile ?? process.env.CIB_file;
        if (process.stdin.isTTY && process.stdout.isTTY && (offline || (await apiReachable(apiSocket(undefined))).ok)) {
          process.exitCode = await startInteractiveShell(flags.cibFile ? { cibFile: flags.cibFile } : {});
          return;
        }
        program.help({ error: false });
        return;
      }
      process.exitCode = await runScriptFile(flags.file, flags.cibFile);
    });
  registerCrmCommands(program);
  registerDemo(program);
  registerCrmSimulate(program);
  registerRaCommands(program);
  registerMessagingCommands(program);
  registerIpvsCommands(program);
  registerNodeCommands(program);
  registerClusterCommands(program);
  registerPacemakerTools(program);
  registerSimCommands(program);
  program.addCommand(labCommand());
  registerDrillCommand(program);
  return program;
}

/** `paceline -f SCRIPT`: the crm shell's batch mode; `-` reads the script from stdin. */
async function runScriptFile(path: string, cibFile: string | undefined): Promise<number> {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    process.stderr.write(`paceline: cannot read script ${path}: ${(e as Error).message}\n`);
    return CRM_EXIT.noInput;
  }
  const outcome = await runCrm(text, cibFile === undefined ? {} : { cibFile });
  const text2 = outcome.output === '' || outcome.output.endsWith('\n') ? outcome.output : `${outcome.output}\n`;
  (outcome.exitCode === 0 ? process.stdout : process.stderr).write(text2);
  return outcome.exitCode;
}

export async function main(argv: string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
