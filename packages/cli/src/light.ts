/**
 * The commands resource agents run many times per action (`paceline ipvsadm`, `paceline
 * director`), each in a process of its own: the binary loads them alone, without the rest of the
 * CLI, so that an agent's start or monitor does not spend most of its time loading the shell, the
 * lab and the simulator (about 0.1 s instead of 0.35 s per call here). Same commands, same
 * output: they register on the program exactly as in the full CLI. `bin/paceline.js` picks them
 * by their first word.
 */
import { Command } from 'commander';
import { registerIpvsCommands } from './commands/ipvs.js';
import { runProgram } from './run.js';

export async function runLight(argv: readonly string[]): Promise<number> {
  const program = new Command('paceline').showHelpAfterError('(run paceline --help for the commands)').enablePositionalOptions();
  registerIpvsCommands(program);
  return runProgram(program, argv);
}
