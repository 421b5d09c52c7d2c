/**
 * `paceline crm_simulate`: Pacemaker 2.1.5's crm_simulate on a CIB file or stdin. Prints the same
 * text (current status, Transition Summary, simulated execution, revised status, scores) and writes
 * the same artifacts (-G graph XML, -D dot, -O output CIB, -I input CIB). The work is done by the
 * scheduler package's pure `crmSimulate`; this file only parses options and does the I/O.
 *
 * Exit codes, as crm_simulate's: 0 ok; 1 the simulated transition did not complete; 64 usage (bad
 * option or value); 66 no usable input (file missing or unreadable, not XML, not a CIB, or -L while
 * no cluster is reachable); 73 an output file could not be written.
 *
 * `--explain RSC` (paceline's own) prints, after the usual output, why RSC is where it is or why it
 * is stopped: every node's score with its contributions, and what blocks its actions.
 */
import { isAscii } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
// Only -L talks to a node: the API client is loaded then, not on every run (see runCrmSimulateAlone).
import type { ApiClient } from '@paceline/controller';
import { runProgram } from '../run.js';
// NEEDS: packages/scheduler/src/index.ts must re-export the crm_simulate module
// (`export * from './crm_simulate/index.js';`); the lead adds that line.
import { crmSimulate, explainResource, exitCodes, type CrmSimulateOptions, type CrmSimulateResult } from '@paceline/scheduler';

/** What the command needs from the world; tests pass their own. */
export interface CrmSimulateIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly setExitCode: (code: number) => void;
  readonly readFile: (path: string) => string;
  readonly readStdin: () => string;
  readonly writeFile: (path: string, text: string) => void;
  /** The current time (epoch seconds), used when neither -t nor the CIB's execution-date says. */
  readonly nowSec: () => number;
}

/** Exit codes of `paceline crm_simulate`, one table (crm_exit_t values). */
export const CRM_SIMULATE_EXIT = { ...exitCodes, cantCreate: 73 } as const;

/**
 * A file's text as readFileSync(path, 'utf8') gives it. ASCII text (a CIB nearly always is) is the
 * same string read as Latin-1, which is a copy where UTF-8 needs a decoding pass: a 10 MB CIB in
 * 2 ms instead of 20-40.
 */
export function utf8Text(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
}

const defaultIo: CrmSimulateIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  setExitCode: (c) => {
    process.exitCode = c;
  },
  readFile: (p) => utf8Text(readFileSync(p)),
  readStdin: () => utf8Text(readFileSync(0)),
  writeFile: (p, t) => writeFileSync(p, t),
  nowSec: () => Math.floor(Date.now() / 1000),
};

/** The options commander collects (names as crm_simulate's long options). */
export interface CrmSimulateFlags {
  xmlFile?: string;
  xmlPipe?: boolean;
  liveCheck?: boolean;
  run?: boolean;
  simulate?: boolean;
  inPlace?: boolean;
  showScores?: boolean;
  showUtilization?: boolean;
  showAttrs?: boolean;
  showFailcounts?: boolean;
  pending?: boolean;
  nodeUp?: string[];
  nodeDown?: string[];
  nodeFail?: string[];
  opInject?: string[];
  opFail?: string[];
  setDatetime?: string;
  quorum?: string;
  watchdog?: string;
  ticketGrant?: string[];
  ticketRevoke?: string[];
  ticketStandby?: string[];
  ticketActivate?: string[];
  saveInput?: string;
  saveOutput?: string;
  saveGraph?: string;
  saveDotfile?: string;
  allActions?: boolean;
  quiet?: boolean;
  outputAs?: string;
  explain?: string;
  verbose?: number;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];
const count = (_value: string, previous: number | undefined): number => (previous ?? 0) + 1;

export function registerCrmSimulate(program: Command, io: CrmSimulateIo = defaultIo): void {
  const cmd = program
    .command('crm_simulate')
    .description('simulate the cluster\'s response to events (Pacemaker crm_simulate)')
    .option('-x, --xml-file <FILE>', 'retrieve XML from the named file')
    .option('-p, --xml-pipe', 'retrieve XML from stdin')
    .option('-L, --live-check', 'use the running cluster\'s CIB')
    .option('-R, --run', 'process the input and show what actions the cluster will take')
    .option('-S, --simulate', 'like --run, but also simulate taking those actions and show the new status')
    .option('-X, --in-place', 'like --simulate, but store the results back to the input file')
    .option('-s, --show-scores', 'show allocation scores')
    .option('-U, --show-utilization', 'show utilization information')
    .option('-A, --show-attrs', 'show node attributes')
    .option('-c, --show-failcounts', 'show resource fail counts (accepted; not shown yet)')
    .addOption(new Option('-j, --pending', 'display pending state (the default)').hideHelp())
    .option('-u, --node-up <NODE>', 'simulate bringing a node online', collect)
    .option('-d, --node-down <NODE>', 'simulate taking a node offline', collect)
    .option('-f, --node-fail <NODE>', 'simulate a node failing', collect)
    .option('-i, --op-inject <OPSPEC>', 'inject an operation result: ${resource}_${task}_${interval_in_ms}@${node}=${rc}', collect)
    .option('-F, --op-fail <OPSPEC>', 'make the named action fail with rc during the simulation', collect)
    .option('-t, --set-datetime <DATETIME>', 'set date/time (ISO 8601)')
    .option('-q, --quorum <QUORUM>', "set to '1' (or 'true') to indicate the cluster has quorum")
    .option('-w, --watchdog <DEVICE>', "set to '1' (or 'true') to indicate an active watchdog device")
    .option('-g, --ticket-grant <TICKET>', 'simulate granting a ticket', collect)
    .option('-r, --ticket-revoke <TICKET>', 'simulate revoking a ticket', collect)
    .option('-b, --ticket-standby <TICKET>', 'simulate making a ticket standby', collect)
    .option('-e, --ticket-activate <TICKET>', 'simulate activating a ticket', collect)
    .option('-I, --save-input <FILE>', 'save the input configuration to the named file')
    .option('-O, --save-output <FILE>', 'save the output configuration to the named file')
    .option('-G, --save-graph <FILE>', 'save the transition graph (XML) to the named file')
    .option('-D, --save-dotfile <FILE>', 'save the transition graph (DOT) to the named file')
    .option('-a, --all-actions', 'display all possible actions in the DOT graph')
    .option('-Q, --quiet', 'display only essential output')
    .addOption(new Option('--output-as <FORMAT>', 'output format').choices(['text', 'xml']).default('text'))
    .option('--explain <RSC>', 'explain why RSC is where it is, or why it is stopped')
    .option('-V, --verbose', 'more output (accepted)', count)
    .option('--socket <PATH>', 'with -L: the node API socket (default $PACELINE_API_SOCKET or /run/paceline/api.sock)')
    .action(async (flags: CrmSimulateFlags & { socket?: string }) => {
      if (flags.liveCheck) {
        // -L: the CIB as the local node holds it (the replica every member keeps in step).
        const socket = flags.socket ?? process.env.PACELINE_API_SOCKET ?? '/run/paceline/api.sock';
        let client: ApiClient | undefined;
        try {
          const { ApiClient: Client } = await import('@paceline/controller');
          client = await Client.connect({ socket });
          const q = (await client.request('cib.query', {})) as { xml: string };
          io.setExitCode(runCrmSimulate({ ...flags, liveCheck: false, xmlPipe: true }, { ...io, readStdin: () => q.xml }));
        } catch (e) {
          io.err(`crm_simulate: CIB query failed: could not read the live CIB through ${socket}: ${e instanceof Error ? e.message : String(e)}\n`);
          io.setExitCode(CRM_SIMULATE_EXIT.noInput);
        } finally {
          client?.close();
        }
        return;
      }
      io.setExitCode(runCrmSimulate(flags, io));
    });
  cmd.exitOverride((err) => {
    if (err.exitCode === 0) throw err;
    io.setExitCode(CRM_SIMULATE_EXIT.usage);
    throw err;
  });
}

/**
 * `paceline crm_simulate ...` loaded alone: `bin/paceline.js` picks it by its first word, so a run
 * loads the scheduler and this command only, not the shell, the lab and the other commands (the
 * full CLI takes about 0.25 s more to load here). Same options, output and exit codes: the command
 * registers on the program exactly as in the full CLI. Returns the exit code.
 */
export async function runCrmSimulateAlone(argv: readonly string[], io: CrmSimulateIo = defaultIo): Promise<number> {
  const program = new Command('paceline').showHelpAfterError('(run paceline --help for the commands)').enablePositionalOptions();
  registerCrmSimulate(program, io);
  return runProgram(program, argv);
}

/** Runs the command for parsed flags; returns the exit code. */
export function runCrmSimulate(flags: CrmSimulateFlags, io: CrmSimulateIo): number {
  const fail = (code: number, message: string): number => {
    io.err(`crm_simulate: ${message}\n`);
    return code;
  };
  if (flags.outputAs !== undefined && flags.outputAs !== 'text' && flags.outputAs !== 'xml') {
    return fail(CRM_SIMULATE_EXIT.usage, `unknown output format ${flags.outputAs}`);
  }
  if (flags.liveCheck) {
    return fail(CRM_SIMULATE_EXIT.noInput, 'CIB query failed: live mode (-L) needs the node API (run through the paceline command)');
  }
  const input = readInput(flags, io);
  if (typeof input !== 'string') return fail(input.code, input.message);

  const options = toOptions(flags, io.nowSec());
  const result = crmSimulate(input, options);
  if (result.exitCode !== 0 && result.stdout === '') {
    io.err(result.stderr);
    return result.exitCode;
  }
  io.out(flags.outputAs === 'xml' ? (result.xml ?? '') : result.stdout);
  if (result.stderr) io.err(result.stderr);
  if (flags.explain !== undefined) {
    const code = explain(result, flags.explain, io);
    if (code !== 0) return code;
  }
  return writeArtifacts(flags, result, io) ?? result.exitCode;
}

function readInput(flags: CrmSimulateFlags, io: CrmSimulateIo): string | { code: number; message: string } {
  const path = flags.xmlPipe || flags.xmlFile === undefined || flags.xmlFile === '-' ? undefined : flags.xmlFile;
  try {
    return path === undefined ? io.readStdin() : io.readFile(path);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { code: CRM_SIMULATE_EXIT.noInput, message: `could not read ${path ?? 'stdin'}: ${why}` };
  }
}

function toOptions(flags: CrmSimulateFlags, nowSec: number): CrmSimulateOptions {
  const simulate = flags.simulate === true || flags.inPlace === true || (flags.opFail?.length ?? 0) > 0;
  return {
    run: flags.run === true || flags.explain !== undefined,
    simulate,
    showScores: flags.showScores === true,
    showUtilization: flags.showUtilization === true,
    showPending: true,
    showAttributes: flags.showAttrs === true,
    quiet: flags.quiet === true,
    ...(flags.setDatetime !== undefined ? { now: flags.setDatetime } : {}),
    currentTimeSec: nowSec,
    nodeUp: flags.nodeUp ?? [],
    nodeDown: flags.nodeDown ?? [],
    nodeFail: flags.nodeFail ?? [],
    opInject: flags.opInject ?? [],
    opFail: flags.opFail ?? [],
    ...(flags.quorum !== undefined ? { quorum: flags.quorum } : {}),
    ...(flags.watchdog !== undefined ? { watchdog: flags.watchdog } : {}),
    ticketGrant: flags.ticketGrant ?? [],
    ticketRevoke: flags.ticketRevoke ?? [],
    ticketStandby: flags.ticketStandby ?? [],
    ticketActivate: flags.ticketActivate ?? [],
    graph: flags.saveGraph !== undefined,
    dot: flags.saveDotfile !== undefined,
    allActions: flags.allActions === true,
    saveOutput: flags.saveOutput !== undefined || flags.inPlace === true,
    saveInput: flags.saveInput !== undefined,
    xml: flags.outputAs === 'xml',
  };
}

function explain(result: CrmSimulateResult, rsc: string, io: CrmSimulateIo): number {
  if (!result.scheduled) return CRM_SIMULATE_EXIT.error;
  const lines = explainResource(result.scheduled, rsc, result.cib);
  if (lines === undefined) {
    io.err(`crm_simulate: --explain: no resource named ${rsc}\n`);
    return CRM_SIMULATE_EXIT.usage;
  }
  io.out(`\nExplanation:\n${lines.map((l) => `${l}\n`).join('')}`);
  return 0;
}

/** Writes -I/-O/-G/-D (and -X back to the input); an exit code when one cannot be written. */
function writeArtifacts(flags: CrmSimulateFlags, result: CrmSimulateResult, io: CrmSimulateIo): number | undefined {
  const outputs: Array<[string | undefined, string | undefined]> = [
    [flags.saveInput, result.inputCib],
    [flags.saveOutput, result.outputCib],
    [flags.inPlace && flags.xmlFile !== undefined && flags.xmlFile !== '-' ? flags.xmlFile : undefined, result.outputCib],
    [flags.saveGraph, result.graphXml],
    [flags.saveDotfile, result.dot],
  ];
  for (const [path, text] of outputs) {
    if (path === undefined || text === undefined) continue;
    try {
      io.writeFile(path, text);
    } catch (err) {
      io.err(`crm_simulate: Could not create '${path}': ${err instanceof Error ? err.message : String(err)}\n`);
      return CRM_SIMULATE_EXIT.cantCreate;
    }
  }
  return undefined;
}
