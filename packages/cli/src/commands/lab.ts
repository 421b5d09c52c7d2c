/**
 * `paceline lab up|down|status|exec|fault`: a lab cluster on this machine (see @paceline/lab).
 *
 * Exit codes: 0 success; 1 the lab failed (did not start or settle, fault failed, no such lab);
 * 64 bad usage; `lab exec` exits with the command's code.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { faults, faultVerbs, formatLabStatus, labDown, labExec, labStatus, labUp, loadLab, parseGroups, SSH_FAULTS, sshFault, type LabDriver, type SshFaultName } from '@paceline/lab';

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
    .option('--driver <DRIVER>', 'netns (needs root), local (loopback) or ssh (the hosts of --inventory)', defaultDriver())
    .option('--inventory <FILE>', 'ssh driver: the hosts (JSON: hosts[] with name, address, user, key, port, paceline)')
    .option('--cib <FILE>', 'initial CIB (XML) for every node')
    .option('--node-command <JSON>', 'node argv as a JSON array; {config}, {node}, {nodeDir} are filled in')
    .option('--no-wait', 'return once the nodes are started, without waiting for the cluster to settle')
    .option('--timeout <SECONDS>', 'how long to wait for the cluster to settle', intArg, 60)
    .option('--fake-clock', 'run the nodes under libfaketime, so that `lab fault clock-jump` can move one node\'s wall clock (netns, local; the default when libfaketime is installed)')
    .option('--no-fake-clock', 'real clocks (no libfaketime)')
    .action(async (o: Common & { nodes: number; driver: string; cib?: string; nodeCommand?: string; wait: boolean; timeout: number; inventory?: string; fakeClock?: boolean }) => {
      if (o.driver !== 'netns' && o.driver !== 'local' && o.driver !== 'ssh') {
        process.stderr.write(`paceline lab up: unknown driver '${o.driver}' (netns, local, ssh)\n`);
        process.exitCode = LAB_EXIT.usage;
        return;
      }
      if ((o.driver === 'ssh') !== (o.inventory !== undefined)) {
        process.stderr.write(`paceline lab up: ${o.driver === 'ssh' ? 'the ssh driver needs --inventory FILE' : '--inventory is for the ssh driver'}\n`);
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
          ...(o.inventory === undefined ? {} : { inventory: o.inventory }),
          ...(o.fakeClock === undefined ? {} : { fakeClock: o.fakeClock }),
          settle: o.wait,
          settleTimeoutMs: o.timeout * 1000,
          progress: (l) => process.stdout.write(`${l}\n`),
        });
        process.stdout.write(`lab ${state.name} is up in ${state.dir}${state.fakeClock === undefined ? '' : ' (fake clocks: lab fault clock-jump works)'}\n`);
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
        const remote = 'remote' in r ? (r.remote as readonly { node: string; killed: readonly number[] }[]) : undefined;
        if (remote !== undefined) process.stdout.write(`lab ${name ?? dirOf(o)} is down (${remote.map((x) => `${x.node}: ${x.killed.length} processes stopped`).join(', ')}; remote files removed)\n`);
        else process.stdout.write(`lab ${name ?? dirOf(o)} is down (${r.killed.length} processes killed, ${r.namespaces.length} namespaces removed)\n`);
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
    .description(
      [
        'inject a fault (prints the moment it took effect):',
        '  power-off|power-on|daemon-crash|daemon-start|graceful-stop|freeze|thaw|link-down|link-up NODE',
        '  link-flap NODE [--count N] [--down-ms MS] [--up-ms MS]',
        '  partition 1,2|3; heal',
        '  net-loss NODE PERCENT; net-loss-clear NODE',
        '  net-delay NODE MS [--jitter MS]; net-delay-clear NODE',
        '  rsc-fail NODE RSC [--mode stop|monitor]; rsc-repair NODE RSC   (ocf:paceline:Dummy)',
        '  fs-readonly|fs-writable|fs-fill|fs-unfill NODE MOUNTPOINT',
        '  clock-jump NODE OFFSET; clock-reset NODE   (OFFSET: +1h, -10m, +30s, -2d; jumps add up;',
        '    the wall clock only, through libfaketime: see lab up --fake-clock)',
      ].join('\n'),
    )
    .argument('<verb>', 'the fault')
    .argument('[target]', 'the node, or the groups of a partition')
    .argument('[args...]', "the verb's further arguments (percent, delay, resource, mount point, clock offset)")
    // A negative clock offset (-10m) is an argument, not an option.
    .allowUnknownOption()
    .option('--count <N>', 'link-flap: outages', intArg, 3)
    .option('--down-ms <MS>', 'link-flap: how long each outage lasts', intArg, 500)
    .option('--up-ms <MS>', 'link-flap: how long the link stays up between outages', intArg, 500)
    .option('--jitter <MS>', 'net-delay: uniform jitter around the delay', '0')
    .option('--mode <MODE>', 'rsc-fail: stop (the service stops) or monitor (every monitor fails until rsc-repair)', 'stop')
    .action(async (verb: string, target: string | undefined, args: string[], o: Common & { count: number; downMs: number; upMs: number; jitter: string; mode: string }) => {
      // allowUnknownOption lets a negative clock offset through; anything else dashed is an unknown option.
      const dashed = [target, ...args].find((x, i) => x !== undefined && x.startsWith('-') && !(verb === 'clock-jump' && i === 1 && /^-\d/.test(x)));
      if (dashed !== undefined) {
        process.stderr.write(`paceline lab fault: unknown option '${dashed}'\n`);
        process.exitCode = LAB_EXIT.usage;
        return;
      }
      try {
        const at = await runFault(dirOf(o), verb, target, args, o);
        if (at === undefined) {
          process.stderr.write(`paceline lab fault: unknown fault '${verb}'\n`);
          process.exitCode = LAB_EXIT.usage;
          return;
        }
        process.stdout.write(`${[verb, target, ...args].filter((x) => x !== undefined).join(' ')} at ${new Date(at).toISOString()}\n`);
      } catch (e) {
        fail('fault', e);
      }
    });
  return lab;
}

function number(what: string, v: string | undefined): number {
  const n = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`${what} must be a number >= 0, not ${v === undefined ? 'missing' : `'${v}'`}`);
  return n;
}

/** Runs one `lab fault` verb; undefined for an unknown verb. */
async function runFault(dir: string, verb: string, target: string | undefined, args: readonly string[], o: { count: number; downMs: number; upMs: number; jitter: string; mode: string }): Promise<number | undefined> {
  const lab = loadLab(dir);
  if (lab.driver === 'ssh') {
    // The ssh driver's verbs (ssh.ts SSH_FAULTS); the others need the netns driver.
    if (!(SSH_FAULTS as readonly string[]).includes(verb)) throw new Error(`the ssh driver has no fault '${verb}' (${SSH_FAULTS.join(', ')})`);
    if (target === undefined) throw new Error(`${verb} needs a node`);
    return sshFault(lab, verb as SshFaultName, target);
  }
  const f = faults(dir);
  const node = (): string => {
    if (target === undefined) throw new Error(`${verb} needs a node`);
    return target;
  };
  const arg = (i: number, what: string): string => {
    const v = args[i];
    if (v === undefined) throw new Error(`${verb} needs ${what}`);
    return v;
  };
  switch (verb) {
    case 'power-off': return f.powerOff(node());
    case 'power-on': return f.powerOn(node());
    case 'daemon-crash': return f.daemonCrash(node());
    case 'daemon-start': return f.daemonStart(node());
    case 'graceful-stop': return f.gracefulStop(node());
    case 'freeze': return f.freeze(node());
    case 'thaw': return f.thaw(node());
    case 'link-down': return f.linkDown(node());
    case 'link-up': return f.linkUp(node());
    case 'link-flap': return f.linkFlap(node(), { count: o.count, downMs: o.downMs, upMs: o.upMs });
    case 'partition': return f.partition(parseGroups(node()));
    case 'heal': return f.heal();
    case 'net-loss': return f.netLoss(node(), number('the loss percentage', arg(0, 'a loss percentage')));
    case 'net-loss-clear': return f.netLossClear(node());
    case 'net-delay': return f.netDelay(node(), number('the delay', arg(0, 'a delay in ms')), number('--jitter', o.jitter));
    case 'net-delay-clear': return f.netDelayClear(node());
    case 'rsc-fail':
      if (o.mode !== 'stop' && o.mode !== 'monitor') throw new Error(`--mode must be stop or monitor, not '${o.mode}'`);
      return f.rscFail(node(), arg(0, 'a resource'), o.mode);
    case 'rsc-repair': return f.rscRepair(node(), arg(0, 'a resource'));
    case 'fs-readonly': return f.fsReadOnly(node(), arg(0, 'a mount point'));
    case 'fs-writable': return f.fsWritable(node(), arg(0, 'a mount point'));
    case 'fs-fill': return f.fsFill(node(), arg(0, 'a mount point'));
    case 'fs-unfill': return f.fsUnfill(node(), arg(0, 'a mount point'));
    case 'clock-jump': return f.clockJump(node(), faultVerbs.parseClockOffset(arg(0, 'a clock offset (+1h, -10m, +30s)')));
    case 'clock-reset': return f.clockReset(node());
    default: return undefined;
  }
}
