/**
 * Running a commander program as the `paceline` binary does: the exit code of the command, 0 for
 * help and version, 64 (EX_USAGE) for a usage error commander caught.
 */
import { CommanderError, type Command } from 'commander';

export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  program.exitOverride();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 64;
    throw err;
  }
}
