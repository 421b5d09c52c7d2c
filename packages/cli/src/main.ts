/**
 * `paceline`: one binary for the crm-like shell and the Pacemaker-compatible tools.
 *
 * Each command lives in `commands/` and registers itself on the program; this file only wires
 * them together, so a command can be tested without the others.
 */
import { Command, CommanderError } from 'commander';
import { registerCrmSimulate } from './commands/crm_simulate.js';
import { registerDemo } from './commands/demo.js';
import { registerIpvsCommands } from './commands/ipvs.js';
import { registerMessagingCommands } from './commands/messaging.js';
import { registerRaCommands } from './commands/ra.js';

export function buildProgram(): Command {
  const program = new Command('paceline')
    .description('paceline: a high-availability cluster resource manager, compatible with Pacemaker + Corosync')
    .version('0.1.0', '--version', 'print the version')
    .showHelpAfterError('(run paceline --help for the commands)')
    .enablePositionalOptions();
  registerDemo(program);
  registerCrmSimulate(program);
  registerRaCommands(program);
  registerMessagingCommands(program);
  registerIpvsCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 64;
    throw err;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
