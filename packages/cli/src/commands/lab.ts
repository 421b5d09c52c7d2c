/**
 * `paceline lab up|down|status|exec|fault`: a lab cluster on this machine (see @paceline/lab).
 *
 * Exit codes: 0 success; 1 the lab failed (did not start or settle, fault failed, no such lab);
 * 64 bad usage; `lab exec` exits with the command's code.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { faults, formatLabStatus, labDown, labExec, labStatus, labUp, parseGroups, type LabDriver } from '@paceline/lab';

export const LAB_EXIT = { ok: 0, failed: 1, usage: 64 } as const;
const DEFAULT_NAME = 'lab';

/** The lab directory used when --dir is not given. */
export function defaultLabDir(name: string): string {
  return join(tmpdir(), `paceline-lab-${name}`);
}

function defaultDriver(): LabDriver {
  return typeof process.getuid === 'function' && process.getuid() === 0 ? 'netns' : 'local';
}

function intArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive whole number');
  return n;
}

function fail(what: string, err: unknown): void {
  process.stderr.write(`paceline lab ${what}: ${(err as Error).message}\n`);
  process.exitCode = LAB_EXIT.failed;
}

interface Common {
  name?: string;
  dir?: string;
}
const nameOf = (o: Common): string => o.name ?? DEFAULT_NAME;
const dirOf = (o: Common): string => o.dir ?? defaultLabDir(nameOf(o));

/** Builds the `lab` command with its subcommands (add it with program.addCommand). */
export function labCommand(): Command {
  const lab = new Command('lab').enablePositionalOptions().description('lab clusters on this machine: network namespaces (root) or loopback processes');
  const common = (c: Command): Command => c.option('--name <NAME>', `lab name (1-8 lower-case letters or digits; default ${DEFAULT_NAME})`).option('--dir <DIR>', 'lab directory (default: TMPDIR/paceline-lab-NAME)');

  common(lab.command('up'))
    .description('start a cluster: network, authkey, configs, nodes; wait until it settled')
    .option('-n, --nodes <N>', 'number of nodes', intArg, 3)
    .option('--driver <DRIVER>', 'netns (needs root) or local (loopback)', defaultDriver())
    .option('--cib <FILE>', 'initial CIB (XML) for every node')
    .option('--node-command <JSON>', 'node argv as a JSON array; {config}, {node}, {nodeDir} are filled in')
    .option('--no-wait', 'return once the nodes are started, without waiting for the cluster to settle')
    .option('--timeout <SECONDS>', 'how long to wait for the cluster to settle', intArg, 60)
    .action(async (o: Common & { nodes: number; driver: string; cib?: string; nodeCommand?: string; wait: boolean; timeout: number }) => {
      if (o.driver !== 'netns' && o.driver !== 'local') {
        process.stderr.write(`paceline lab up: unknown driver '${o.driver}' (netns, local)\n`);
        process.exitCode = LAB_EXIT.usage;
        return;
      }
      let nodeCommand: string[] | undefined;
      if (o.nodeCommand !== undefined) {
        try {
          const parsed: unknown = JSON.parse(o.nodeCommand);
          if (!Array.isArray(parsed) || parsed.length === 0 || parsed.some((a) => typeof a !== 'string')) throw new Error('not a non-empty array of strings');
          nodeCommand = parsed as string[];
        } catch (e) {
          process.stderr.write(`paceline lab up: --node-command: ${(e as Error).message}\n`);
          process.exitCode = LAB_EXIT.usage;
          return;
        }
      }
      try {
        const state = await labUp({
          name: nameOf(o),
          nodes: o.nodes,
          driver: o.driver,
          dir: dirOf(o),
          ...(o.cib === undefined ? {} : { cib: o.cib }),
          ...(nodeCommand === undefined ? {} : { nodeCommand }),
          settle: o.wait,
          settleTimeoutMs: o.timeout * 1000,
          progress: (l) => process.stdout.write(`${l}\n`),
        });
        process.stdout.write(`lab ${state.name} is up in ${state.dir}\n`);
      } catch (e) {
        fail('up', e);
      }
    });

  common(lab.command('down'))
    .description('stop every node and remove the lab\'s namespaces (idempotent)')
    .option('--purge', 'remove the lab directory too')
    .action(async (o: Common & { purge?: boolean }) => {
      try {
        // Without lab.json, namespaces are found by the lab's name: the one given, or the
        // default name when the directory is the default one too (never a guess for another dir).
        const name = o.name ?? (o.dir === undefined ? DEFAULT_NAME : undefined);
        const r = await labDown(dirOf(o), { ...(name === undefined ? {} : { name }), purge: o.purge ?? false });
        process.stdout.write(`lab ${name ?? dirOf(o)} is down (${r.killed.length} processes killed, ${r.namespaces.length} namespaces removed)\n`);
      } catch (e) {
        fail('down', e);
      }
    });

  common(lab.command('status'))
    .description('nodes, processes and each node\'s cluster status')
    .option('--json', 'print JSON')
    .action(async (o: Common & { json?: boolean }) => {
      try {
        const r = await labStatus(dirOf(o));
        process.stdout.write(o.json ? `${JSON.stringify(r, null, 2)}\n` : formatLabStatus(r));
      } catch (e) {
        fail('status', e);
      }
    });

  common(lab.command('exec'))
    .description('run a command on a node (in its namespace) or on the client: lab exec NODE -- CMD...')
    .argument('<machine>', 'node1, node2, ... or client')
    .argument('<command...>', 'the command and its arguments')
    .passThroughOptions()
    .action(async (machine: string, command: string[], o: Common) => {
      try {
        const r = await labExec(dirOf(o), machine, command[0] === '--' ? command.slice(1) : command);
        process.exitCode = r.code;
      } catch (e) {
        fail('exec', e);
      }
    });

  common(lab.command('fault'))
    .description('inject a fault: power-off|power-on|daemon-crash|daemon-start|freeze|thaw|link-down|link-up NODE, partition 1,2|3, heal')
    .argument('<verb>', 'the fault')
    .argument('[target]', 'the node, or the groups of a partition')
    .action(async (verb: string, target: string | undefined, o: Common) => {
      try {
        const f = faults(dirOf(o));
        const needTarget = (): string => {
          if (target === undefined) throw new Error(`${verb} needs a node`);
          return target;
        };
        let at: number;
        switch (verb) {
          case 'power-off': at = await f.powerOff(needTarget()); break;
          case 'power-on': at = await f.powerOn(needTarget()); break;
          case 'daemon-crash': at = f.daemonCrash(needTarget()); break;
          case 'daemon-start': at = await f.daemonStart(needTarget()); break;
          case 'freeze': at = f.freeze(needTarget()); break;
          case 'thaw': at = f.thaw(needTarget()); break;
          case 'link-down': at = f.linkDown(needTarget()); break;
          case 'link-up': at = f.linkUp(needTarget()); break;
          case 'partition': at = f.partition(parseGroups(needTarget())); break;
          case 'heal': at = f.heal(); break;
          default:
            process.stderr.write(`paceline lab fault: unknown fault '${verb}'\n`);
            process.exitCode = LAB_EXIT.usage;
            return;
        }
        process.stdout.write(`${verb}${target ? ` ${target}` : ''} at ${new Date(at).toISOString()}\n`);
      } catch (e) {
        fail('fault', e);
      }
    });
  return lab;
}
