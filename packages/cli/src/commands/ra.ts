/**
 * `paceline ra`: resource agents without a cluster. List classes, providers and agents, show an
 * agent's meta-data, and run one action through the executor (like `crm_resource --force-*`),
 * exiting with the agent's OCF rc.
 *
 * Exit codes besides `ra run`'s agent rc: 0 ok; 64 usage (bad agent name, bad option); 105 no
 * such agent; 1 the agent's meta-data could not be read; 130 `ra run` interrupted (Ctrl-C: the
 * agent's process group is killed first). `ra run` exits with the OCF rc, which
 * for an action that did not run to completion is the rc recorded for its status (timed out: 1,
 * not installed: 5).
 */
import type { Command } from 'commander';
import {
  AgentCatalog,
  createExecutor,
  defaultAgentPaths,
  formatAgent,
  isAgentClass,
  parseDurationMs,
  type ActionResult,
  type AgentMetadata,
  type AgentPaths,
  type AgentRef,
  type CatalogError,
} from '@paceline/executor';

export interface RaIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly setExitCode: (code: number) => void;
  /** Where agents are searched (default: defaultAgentPaths()). */
  readonly paths?: AgentPaths;
}

/** Exit codes of `paceline ra`, one table. */
export const RA_EXIT = { ok: 0, failed: 1, usage: 64, noSuchAgent: 105, interrupted: 130 } as const;

const CATALOG_EXIT: Record<CatalogError['code'], number> = {
  'bad-agent-name': RA_EXIT.usage,
  'agent-not-found': RA_EXIT.noSuchAgent,
  'agent-ambiguous': RA_EXIT.usage,
  'metadata-failed': RA_EXIT.failed,
  'metadata-syntax': RA_EXIT.failed,
  'metadata-shape': RA_EXIT.failed,
};

const defaultIo: RaIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  setExitCode: (c) => {
    process.exitCode = c;
  },
};

export function registerRaCommands(program: Command, io: RaIo = defaultIo): void {
  const catalog = () => new AgentCatalog(io.paths ?? defaultAgentPaths());
  const fail = (code: number, message: string) => {
    io.err(`paceline ra: ${message}\n`);
    io.setExitCode(code);
  };
  const ra = program.command('ra').description('resource agents: list them, describe them, run one action');

  ra.command('classes')
    .description('list the agent classes (and OCF providers)')
    .action(() => {
      const c = catalog();
      for (const cls of c.classes()) io.out(cls === 'ocf' ? `ocf / ${c.providers().join(' ')}\n` : `${cls}\n`);
    });

  ra.command('list')
    .argument('<class>', 'CLASS or ocf:PROVIDER')
    .description('list the agents of a class (or of one OCF provider)')
    .action((spec: string) => {
      const [cls = '', provider] = spec.split(':');
      if (!isAgentClass(cls)) return fail(RA_EXIT.usage, `unknown class "${cls}"`);
      const names = catalog().agents(cls, provider).map((a) => a.type);
      io.out(names.length > 0 ? `${[...new Set(names)].join('\n')}\n` : '');
    });

  ra.command('providers')
    .argument('<agent>', 'an OCF agent type, e.g. Dummy')
    .description('list the OCF providers that have this agent')
    .action((name: string) => {
      const type = name.includes(':') ? (name.split(':').pop() ?? '') : name;
      const providers = catalog().providers(type);
      if (providers.length === 0) return fail(RA_EXIT.noSuchAgent, `no OCF provider has ${type}`);
      io.out(`${providers.join(' ')}\n`);
    });

  ra.command('info')
    .alias('meta')
    .argument('<agent>', 'ocf:PROVIDER:TYPE, lsb:NAME, stonith:fence_NAME, or a bare name')
    .description("show an agent's parameters and default operations")
    .action(async (name: string) => showInfo(catalog(), io, fail, name));

  ra.command('run')
    .argument('<agent>', 'ocf:PROVIDER:TYPE, lsb:NAME, stonith:fence_NAME, or a bare name')
    .argument('<action>', 'start, stop, monitor, validate-all, meta-data, on, off, status, ...')
    .argument('[params...]', 'instance parameters as name=value')
    .option('--timeout <duration>', 'kill the agent after this long (20s, 500ms, 2min, PT1M)', '20s')
    .option('--interval <duration>', 'the interval the agent is told (OCF_RESKEY_CRM_meta_interval); it still runs once', '0')
    .option('--check-level <n>', 'OCF_CHECK_LEVEL for monitor (10, 20)')
    .option('--id <name>', 'the resource instance name (OCF_RESOURCE_INSTANCE); default the agent type')
    .option('--target <node>', 'stonith: the node to act on')
    .option('--trace', 'set OCF_TRACE_RA=1 (ClusterLabs agents trace themselves)')
    .description('run one action through the executor; exits with the OCF rc')
    .action(async (name: string, action: string, params: string[], opts: RunOptions) => runAction(catalog(), io, fail, { name, action, params, opts }));
}

async function showInfo(c: AgentCatalog, io: RaIo, fail: (code: number, message: string) => void, name: string): Promise<void> {
  const resolved = c.resolve(name);
  if (!resolved.ok) return fail(CATALOG_EXIT[resolved.error.code], resolved.error.message);
  const executor = createExecutor({ paths: c.paths });
  try {
    const md = await c.metadata(executor, resolved.agent);
    if (!md.ok) return fail(CATALOG_EXIT[md.error.code], md.error.message);
    io.out(formatInfo(resolved.agent, md.metadata));
  } finally {
    executor.close();
  }
}

interface RunOptions {
  timeout: string;
  interval: string;
  checkLevel?: string;
  id?: string;
  target?: string;
  trace?: boolean;
}

async function runAction(
  c: AgentCatalog,
  io: RaIo,
  fail: (code: number, message: string) => void,
  a: { name: string; action: string; params: string[]; opts: RunOptions },
): Promise<void> {
  const timeoutMs = parseDurationMs(a.opts.timeout);
  const intervalMs = parseDurationMs(a.opts.interval);
  if (timeoutMs === undefined || timeoutMs <= 0) return fail(RA_EXIT.usage, `bad --timeout "${a.opts.timeout}"`);
  if (intervalMs === undefined) return fail(RA_EXIT.usage, `bad --interval "${a.opts.interval}"`);
  const checkLevel = a.opts.checkLevel === undefined ? undefined : Number(a.opts.checkLevel);
  if (checkLevel !== undefined && !Number.isInteger(checkLevel)) return fail(RA_EXIT.usage, `bad --check-level "${a.opts.checkLevel}"`);
  const params: Record<string, string> = {};
  for (const p of a.params) {
    const eq = p.indexOf('=');
    if (eq <= 0) return fail(RA_EXIT.usage, `parameter "${p}" is not name=value`);
    params[p.slice(0, eq)] = p.slice(eq + 1);
  }
  const resolved = c.resolve(a.name);
  if (!resolved.ok) return fail(CATALOG_EXIT[resolved.error.code], resolved.error.message);
  const executor = createExecutor({ paths: c.paths });
  // The agent leads its own process group, so a terminal's Ctrl-C does not reach it: cancel it
  // (TERM, then KILL to its group) and report, rather than leave it running.
  let interrupted = false;
  const onInterrupt = (): void => {
    interrupted = true;
    executor.close();
  };
  process.once('SIGINT', onInterrupt);
  try {
    const r = await executor.run({
      rscId: a.opts.id ?? resolved.agent.type,
      agent: resolved.agent,
      action: a.action,
      timeoutMs,
      intervalMs,
      params,
      ...(checkLevel !== undefined ? { checkLevel } : {}),
      ...(a.opts.target !== undefined ? { target: a.opts.target } : {}),
      ...(a.opts.trace ? { traceRa: true } : {}),
    });
    io.out(formatRun(resolved.agent, r));
    io.setExitCode(interrupted ? RA_EXIT.interrupted : r.rc);
  } catch (err) {
    fail(RA_EXIT.usage, (err as Error).message);
  } finally {
    process.removeListener('SIGINT', onInterrupt);
    executor.close();
  }
}

function ms(n: number): string {
  return n % 60_000 === 0 && n > 0 ? `${n / 60_000}min` : n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

/** The outcome of `ra run`, in the spirit of crm_resource --force-*. */
export function formatRun(agent: AgentRef, r: ActionResult): string {
  const lines = [`${formatAgent(agent)} ${r.action}: rc=${r.rc} (${r.rcName}) status=${r.execStatus} time=${r.execMs.toFixed(0)}ms`];
  if (r.exitCode !== undefined && r.exitCode !== r.rc) lines.push(`exit code: ${r.exitCode}`);
  if (r.signal) lines.push(`signal: ${r.signal}`);
  if (r.exitReason) lines.push(`exit reason: ${r.exitReason}`);
  for (const [label, text] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
    if (text.trim() !== '') lines.push(`${label}:`, ...text.replace(/\n$/, '').split('\n').map((l) => `  ${l}`));
  }
  if (r.outputTruncatedChars > 0) lines.push(`(${r.outputTruncatedChars} characters of output dropped)`);
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, indent: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .split('\n')
    .map((l) => (l === '' ? '' : `${indent}${l}`))
    .join('\n');
}

/** `ra info`: like `crm ra info`. */
export function formatInfo(agent: AgentRef, m: AgentMetadata): string {
  const out: string[] = [`${formatAgent(agent)} - ${m.shortdesc}`, ''];
  if (m.longdesc) out.push(wrap(m.longdesc, ''), '');
  out.push('Parameters (*: required, []: default):', '');
  for (const p of m.parameters) {
    const flags = `${p.required ? '*' : ''}`;
    const def = p.default !== undefined && p.default !== '' ? `, [${p.default}]` : '';
    const extra = [p.unique ? 'unique' : '', p.reloadable ? 'reloadable' : '', p.deprecated ? 'deprecated' : ''].filter((x) => x).join(', ');
    out.push(`${p.name}${flags} (${p.type}${def})${extra ? ` {${extra}}` : ''}: ${p.shortdesc}`);
    if (p.longdesc && p.longdesc !== p.shortdesc) out.push(wrap(p.longdesc, '    '));
    if (p.options) out.push(`    Allowed values: ${p.options.join(', ')}`);
    out.push('');
  }
  out.push("Operations' defaults (advisory minimum):", '');
  for (const a of m.actions) {
    const parts = [
      a.timeoutMs !== undefined ? `timeout=${ms(a.timeoutMs)}` : '',
      a.intervalMs !== undefined ? `interval=${ms(a.intervalMs)}` : '',
      a.depth !== undefined ? `depth=${a.depth}` : '',
      a.role !== undefined ? `role=${a.role}` : '',
      a.startDelayMs !== undefined ? `start-delay=${ms(a.startDelayMs)}` : '',
    ].filter((x) => x);
    out.push(`    ${(a.name + (a.role ? `_${a.role}` : '')).padEnd(16)}${parts.join(' ')}`.trimEnd());
  }
  return `${out.join('\n')}\n`;
}
