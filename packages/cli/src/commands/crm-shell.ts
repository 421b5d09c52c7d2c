/**
 * The interactive crm shell (`paceline` or `paceline configure` with no arguments on a
 * terminal): a readline prompt over `CrmShell`, with levels, `help`, history in
 * $XDG_CONFIG_HOME/paceline/history (default ~/.config/paceline/history), and tab completion of
 * commands, ids, node names, agents, agent parameters and cluster options.
 *
 * The CIB comes from a `CibBackend`: a file offline (CIB_file / --cib-file), or the running
 * cluster (`./crm-live.ts`). Commit writes through it, version-checked. `CrmDriver` runs one input
 * at a time and is the path of the interactive shell, `-f SCRIPT` and one-shot commands alike.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { optionsFor, parseXml } from '@paceline/cib';
import { AgentCatalog, createExecutor, defaultAgentPaths, formatAgent, isAgentClass, type AgentClass } from '@paceline/executor';
import { completeLine, helpText, type CompletionSources } from '../crm/complete.js';
import type { CibBackend, CrmHost } from '../crm/host.js';
import { splitCommands, tokenize } from '../crm/lexer.js';
import { cibToText, crmLevels, CrmShell, NEWEST_SCHEMA, type CrmLevel } from '../crm/script.js';
import { ConfigSession } from '../crm/session.js';
import { renderShow } from '../crm/show.js';
import { toXml } from '../crm/tree.js';
import { catalogAgentSource, cibVersionOfText, fileCibBackend, listShadows, nodeCrmHost, shadowBasePath, shadowPath } from './crm-host.js';
import { checkAllObjects, formatChecks } from '../crm/check.js';
import { shadowDir } from './live.js';
import { verifyText } from './crm-live.js';
import { formatInfo } from './ra.js';

/** Where the history is kept: $XDG_CONFIG_HOME/paceline/history or ~/.config/paceline/history. */
export function historyPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(env.HOME ?? homedir(), '.config');
  return join(base, 'paceline', 'history');
}

/** Agents from the catalog and their parameters from meta-data (fetched once, in the background). */
export function catalogSources(catalog = new AgentCatalog(defaultAgentPaths())): CompletionSources & { load(agent: string): Promise<void> } {
  let agents: string[] | undefined;
  const params = new Map<string, readonly string[]>();
  const pending = new Map<string, Promise<void>>();
  return {
    agents: () => {
      if (!agents) {
        agents = [];
        for (const cls of catalog.classes()) {
          try {
            agents.push(...catalog.agents(cls as AgentClass).map(formatAgent));
          } catch {
            // a class whose directory cannot be read has no agents to offer
          }
        }
      }
      return agents;
    },
    agentParams: (agent) => params.get(agent),
    clusterOptions: () => optionsFor('cluster').map((o) => o.name),
    load: (agent) => {
      if (params.has(agent)) return Promise.resolve();
      let p = pending.get(agent);
      if (!p) {
        p = (async () => {
          const r = catalog.resolve(agent);
          if (!r.ok) return;
          const md = await catalog.metadata(createExecutor({ paths: catalog.paths }), r.agent);
          if (md.ok) params.set(agent, md.metadata.parameters.map((x) => x.name));
        })().catch(() => undefined);
        pending.set(agent, p);
      }
      return p;
    },
  };
}

export interface ShellOptions {
  readonly backend: CibBackend;
  readonly input?: Readable;
  readonly output?: Writable;
  /** Start at this level (`paceline configure` starts in configure). */
  readonly level?: CrmLevel;
  readonly historyFile?: string;
  readonly sources?: CompletionSources & { load?(agent: string): Promise<void> };
  /** Agents for the `ra` level (default: the standard paths). */
  readonly catalog?: AgentCatalog;
  /** Where shadow CIBs live (default: crm_shadow's directory). */
  readonly shadowDir?: string;
}

function prompt(backend: CibBackend, level: CrmLevel): string {
  return `paceline(${backend.name.split('/').pop()})${level === 'top' ? '' : level}# `;
}

/** Levels whose commands act on a running cluster: they go to `CibBackend.runLive` when there is one. */
const liveLevels = new Set(['resource', 'node', 'cib', 'cluster', 'maintenance']);

/** The words of a command at `level` as [level, words], when it belongs to a live level (or is `status`, `history`). */
export function liveCommand(level: CrmLevel, words: readonly string[]): [string, string[]] | undefined {
  if (level === 'top' && words[0] === 'status') return ['top', [...words]];
  if (level === 'top' && words[0] === 'history') return ['history', words.slice(1)];
  if (level === 'top' && liveLevels.has(words[0] ?? '') && words.length > 1) return [words[0]!, words.slice(1)];
  if (liveLevels.has(level) && !['cd', 'up', 'end', 'quit', 'bye', 'exit', 'q', 'help', 'ls'].includes(words[0] ?? '')) return [level, [...words]];
  return undefined;
}

/** The `ra` level offline, from the agent catalog: classes, list CLASS [PROVIDER], providers AGENT, info AGENT. */
export async function raCommand(catalog: AgentCatalog, words: readonly string[]): Promise<{ ok: boolean; text: string }> {
  const [cmd, arg, arg2] = words;
  switch (cmd) {
    case 'classes':
      return { ok: true, text: catalog.classes().join('\n') };
    case 'list': {
      if (!arg || !isAgentClass(arg)) return { ok: false, text: `ERROR: usage: list <class> [<provider>] (classes: ${catalog.classes().join(', ')})` };
      return { ok: true, text: catalog.agents(arg, arg2).map((a) => a.type).join('  ') };
    }
    case 'providers':
      if (!arg) return { ok: false, text: 'ERROR: usage: providers <agent>' };
      return { ok: true, text: catalog.providers(arg).join(' ') };
    case 'info':
    case 'meta': {
      if (!arg) return { ok: false, text: 'ERROR: usage: info <agent>' };
      const r = catalog.resolve(arg);
      if (!r.ok) return { ok: false, text: `ERROR: ${r.error.message}` };
      const md = await catalog.metadata(createExecutor({ paths: catalog.paths }), r.agent);
      if (!md.ok) return { ok: false, text: `ERROR: ${md.error.message}` };
      return { ok: true, text: formatInfo(r.agent, md.metadata).trimEnd() };
    }
    default:
      return { ok: false, text: `ERROR: ra ${cmd ?? ''}: unknown command (classes, list, providers, info)` };
  }
}

/** Under an error that names a column of the line just typed: the line again, with a caret under that column. */
export function withCaret(output: string, line: string): string {
  const m = /^ERROR: line 1, column (\d+):/m.exec(output);
  if (!m) return output;
  return `${output}\n  ${line}\n  ${' '.repeat(Number(m[1]) - 1)}^`;
}

/** What one input of the shell did: its text, success, the exit code it ends a batch with, and quit. */
export interface DriverStep {
  readonly output: string;
  readonly ok: boolean;
  readonly exitCode: number;
  readonly quit: boolean;
}

export interface DriverOptions {
  /** Files, $EDITOR and filter commands. */
  readonly host: CrmHost;
  /** Interactive: a quit with uncommitted changes warns once; `edit` re-opens on errors. */
  readonly interactive: boolean;
  /** Agents for the `ra` level (default: the standard paths). */
  readonly catalog?: AgentCatalog;
  /** Where shadow CIBs live (default: crm_shadow's directory, see `shadowDir`). */
  readonly shadowDir?: string;
}

const navigation = new Set(['cd', 'up', 'end', 'quit', 'bye', 'exit', 'q']);
/** What the top level takes besides the live commands (which `liveCommand` routes). */
const topWords = new Set<string>([...crmLevels, ...navigation, 'options', 'help', 'ls', '?']);

/** The words of one input line, with the shell's quoting rules (plain whitespace split if it does not lex). */
function wordsOf(line: string): string[] {
  const cmd = splitCommands(line)[0];
  const lexed = cmd ? tokenize(cmd) : undefined;
  return lexed?.ok ? lexed.tokens.map((t) => t.text) : line.trim().split(/\s+/);
}

/**
 * One crm shell session on a `CibBackend`, input by input: the same path for the interactive
 * shell, `-f SCRIPT` and one-shot commands. Configure commands run on the session's working CIB
 * and `commit` writes it through the backend (version-checked: a conflict keeps the edits
 * uncommitted); live-level commands go to the backend's `runLive`; the `cib` level manages
 * shadow CIBs (`cib use NAME` makes configure work on one).
 */
export class CrmDriver {
  private warnedDirty = false;
  private backend: CibBackend;

  private constructor(
    readonly shell: CrmShell,
    private readonly base: CibBackend,
    private cibText: string,
    private readonly opts: DriverOptions,
  ) {
    this.backend = base;
  }

  /** Reads the CIB through `backend` and starts a session at the top level. */
  static async open(backend: CibBackend, opts: DriverOptions): Promise<CrmDriver> {
    const text = await backend.read();
    return new CrmDriver(new CrmShell(text, { host: opts.host, interactive: opts.interactive, agents: catalogAgentSource(opts.catalog) }), backend, text, opts);
  }

  /** The backend configure works on now (the cluster, the CIB file, or a shadow in use). */
  get current(): CibBackend {
    return this.backend;
  }

  /** Runs one input line. */
  async input(line: string): Promise<DriverStep> {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return done('', true);
    const words = wordsOf(trimmed);
    const first = words[0] ?? '';
    const level = this.shell.level;
    if (first === 'help' || first === '?' || first === 'ls') return done(helpText(level, first === 'ls' ? undefined : words[1]), true);
    if (['quit', 'bye', 'exit', 'q'].includes(first) && this.shell.dirty && this.opts.interactive && !this.warnedDirty) {
      this.warnedDirty = true;
      return done('There are uncommitted changes: commit them, or quit again to discard them.', true);
    }
    const configureArgs = level === 'configure' ? words : level === 'top' && first === 'configure' ? words.slice(1) : undefined;
    if (configureArgs?.[0] === 'refresh' && configureArgs.length === 1) return this.refresh();
    if (configureArgs?.[0] === 'verify' && configureArgs.length === 1 && this.base.runLive) return this.verify();
    if ((level === 'ra' || (level === 'top' && first === 'ra' && words.length > 1)) && !navigation.has(first)) {
      const r = await raCommand(this.opts.catalog ?? new AgentCatalog(defaultAgentPaths()), level === 'ra' ? words : words.slice(1));
      return done(r.text, r.ok);
    }
    if ((level === 'cib' && !navigation.has(first)) || (level === 'top' && first === 'cib' && words.length > 1)) return this.shadow(level === 'cib' ? words : words.slice(1));
    const live = this.base.runLive ? liveCommand(level, words) : undefined;
    if (live) return this.runLive(live[0], live[1]);
    if (this.base.runLive && level === 'top' && !topWords.has(first)) return done(`ERROR: line 1, column 1: ${first}: unknown command (levels: ${crmLevels.join(', ')}; also status, history)`, false);
    return this.configure(line);
  }

  private async refresh(): Promise<DriverStep> {
    try {
      this.reload(await this.backend.read());
      return done('INFO: changes dropped; CIB re-read', true);
    } catch (e) {
      return done(`ERROR: cannot read the CIB: ${(e as Error).message}`, false);
    }
  }

  private verify(): DriverStep {
    const cib = toXml(this.shell.session.cib);
    const r = verifyText(cibToText(cib));
    const agents = checkAllObjects(cib, { agents: this.shell.agents, mode: this.shell.checkMode });
    const text = [r.text, ...formatChecks(agents)].filter((l) => l !== '').join('\n');
    return done(text, r.ok && !agents.some((m) => m.severity === 'error'));
  }

  private reload(text: string): void {
    this.cibText = text;
    this.shell.reload(text);
  }

  private async runLive(level: string, words: string[]): Promise<DriverStep> {
    try {
      const r = await this.base.runLive!(level, words);
      // The cluster may have changed the CIB; uncommitted configure edits are kept (commit then checks the version).
      if (!this.shell.dirty && this.backend === this.base) this.reload(await this.backend.read());
      return { output: r.output, ok: r.exitCode === 0, exitCode: r.exitCode, quit: false };
    } catch (e) {
      return done(`ERROR: ${(e as Error).message}`, false);
    }
  }

  private async configure(line: string): Promise<DriverStep> {
    const step = this.shell.execute(line);
    const out = [step.output];
    let ok = step.ok;
    if (step.commit) {
      const res = await this.backend.replace(cibToText(step.commit), cibVersionOfText(this.cibText));
      if (res.ok) this.reload(res.cibText);
      else {
        this.shell.commitFailed();
        out.push(`ERROR: commit: ${res.message}`);
        if (res.conflict) out.push('INFO: your changes are kept, uncommitted: `save FILE` them, `refresh`, then `load update FILE` and commit');
        ok = false;
      }
    }
    return { output: out.filter((x) => x !== '').join('\n'), ok, exitCode: ok ? 0 : 1, quit: step.quit };
  }

  /** The `cib` level: shadow CIBs as crm_shadow keeps them (shadow.NAME files in the shadow directory). */
  private async shadow(words: readonly string[]): Promise<DriverStep> {
    const dir = this.opts.shadowDir ?? shadowDir();
    const [cmd, ...args] = words;
    const name = args.find((a) => !['force', 'empty', 'withstatus'].includes(a));
    const check = (n: string | undefined): string | undefined => (n === undefined ? 'a shadow name is required' : /^[A-Za-z0-9_.+-]+$/.test(n) && n !== '.' && n !== '..' ? undefined : `${n}: not a valid shadow name`);
    try {
      switch (cmd) {
        case 'list': {
          const names = listShadows(dir);
          return done(names.length ? names.join('\n') : `INFO: no shadow CIBs in ${dir}`, true);
        }
        case 'new':
        case 'reset': {
          const bad = check(name);
          if (bad) return done(`ERROR: ${bad}`, false);
          if (this.shell.dirty && cmd === 'new') return done('ERROR: there are uncommitted changes: commit or refresh them first', false);
          const path = shadowPath(dir, name!);
          if (cmd === 'new' && existsSync(path) && !args.includes('force')) return done(`ERROR: shadow ${name} exists (${path}): use force to overwrite it`, false);
          if (cmd === 'reset' && !existsSync(path)) return done(`ERROR: shadow ${name} does not exist`, false);
          const text = await this.base.read();
          mkdirSync(dir, { recursive: true });
          writeFileSync(path, args.includes('empty') ? emptyCib(text) : text);
          // As crm_shadow: the version copied from, so a commit does not overwrite a newer configuration.
          if (args.includes('empty')) rmSync(shadowBasePath(dir, name!), { force: true });
          else writeFileSync(shadowBasePath(dir, name!), `${fmtVersion(cibVersionOfText(text))}\n`);
          if (cmd === 'reset') return done(`INFO: shadow ${name} is a copy of ${this.base.name} again`, true);
          return this.useShadow(name!, path, `INFO: ${cmd === 'new' ? 'created' : 'reset'} shadow ${name} (${path}); configure now works on it (cib use to go back)`);
        }
        case 'use': {
          if (this.shell.dirty) return done('ERROR: there are uncommitted changes: commit or refresh them first', false);
          if (name === undefined || name === 'live') {
            this.backend = this.base;
            this.reload(await this.base.read());
            return done(`INFO: configure works on ${this.base.name} again`, true);
          }
          const bad = check(name);
          if (bad) return done(`ERROR: ${bad}`, false);
          const path = shadowPath(dir, name);
          if (!existsSync(path)) return done(`ERROR: shadow ${name} does not exist (${path})`, false);
          return this.useShadow(name, path, `INFO: configure now works on shadow ${name}`);
        }
        case 'delete': {
          const bad = check(name);
          if (bad) return done(`ERROR: ${bad}`, false);
          const path = shadowPath(dir, name!);
          if (this.backend.name === path) return done(`ERROR: shadow ${name} is in use: cib use live first`, false);
          if (!existsSync(path)) return done(`ERROR: shadow ${name} does not exist`, false);
          rmSync(path);
          rmSync(shadowBasePath(dir, name!), { force: true });
          return done('', true);
        }
        case 'diff':
        case 'commit': {
          const shadowName = name ?? (this.backend !== this.base ? this.backend.name.replace(/^.*\/shadow\./, '') : undefined);
          const bad = check(shadowName);
          if (bad) return done(`ERROR: ${bad}`, false);
          const path = shadowPath(dir, shadowName!);
          if (!existsSync(path)) return done(`ERROR: shadow ${shadowName} does not exist`, false);
          const shadowText = readFileSync(path, 'utf8');
          const liveText = await this.base.read();
          if (cmd === 'diff') return done(configDiff(liveText, shadowText, this.base.name, `shadow.${shadowName}`), true);
          if (this.shell.dirty && this.backend.name === path) return done('ERROR: there are uncommitted changes to the shadow: commit them to it first', false);
          const liveVersion = cibVersionOfText(liveText);
          const basePath = shadowBasePath(dir, shadowName!);
          const base = existsSync(basePath) ? readFileSync(basePath, 'utf8').trim() : undefined;
          const [ba, be] = (base ?? '').split('.').map(Number);
          if (base !== undefined && (ba !== liveVersion.adminEpoch || be !== liveVersion.epoch)) {
            return done(`ERROR: cib commit ${shadowName}: the configuration of ${this.base.name} changed since the shadow was copied (now ${fmtVersion(liveVersion)}, copied ${base}): nothing written; cib reset ${shadowName} and redo the changes`, false);
          }
          const res = await this.base.replace(shadowText, liveVersion);
          if (!res.ok) return done(`ERROR: cib commit ${shadowName}: ${res.message}`, false);
          if (this.backend === this.base) this.reload(res.cibText);
          return done(`INFO: shadow ${shadowName} committed to ${this.base.name}`, true);
        }
        default:
          return done(`ERROR: cib ${cmd ?? ''}: unknown command (new, use, diff, commit, reset, delete, list)`, false);
      }
    } catch (e) {
      return done(`ERROR: cib ${cmd}: ${(e as Error).message}`, false);
    }
  }

  private async useShadow(name: string, path: string, message: string): Promise<DriverStep> {
    const backend = fileCibBackend(path);
    const text = await backend.read();
    this.backend = backend;
    this.reload(text);
    return done(`${message}`, true);
  }
}

const fmtVersion = (v: { adminEpoch: number; epoch: number; numUpdates: number }): string => `${v.adminEpoch}.${v.epoch}.${v.numUpdates}`;

function done(output: string, ok: boolean): DriverStep {
  return { output, ok, exitCode: ok ? 0 : 1, quit: false };
}

/** `cib new NAME empty`: the CIB's root and empty sections (its schema kept). */
function emptyCib(from: string): string {
  const vw = /validate-with="([^"]*)"/.exec(from)?.[1] ?? NEWEST_SCHEMA;
  return `<cib admin_epoch="0" epoch="0" num_updates="0" validate-with="${vw}">\n  <configuration>\n    <crm_config/>\n    <nodes/>\n    <resources/>\n    <constraints/>\n  </configuration>\n  <status/>\n</cib>\n`;
}

/** The configurations of two CIBs in crm syntax, as a unified line diff (empty when equal). */
export function configDiff(aText: string, bText: string, aName: string, bName: string): string {
  const show = (t: string): string[] => renderShow(new ConfigSession(parseXml(t).root), [], true).split('\n').filter((l) => l !== '');
  const a = show(aText);
  const b = show(bText);
  const m = a.length;
  const n = b.length;
  const lcs: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(0));
  for (let i = m - 1; i >= 0; i--) for (let j = n - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < m || j < n) {
    if (i < m && j < n && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < n && (i >= m || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) out.push(`+${b[j++]}`);
    else out.push(`-${a[i++]}`);
  }
  return out.length === 0 ? '' : [`--- ${aName}`, `+++ ${bName}`, ...out].join('\n');
}

/** Runs the shell until quit or end of input; resolves to the exit code (0, or 1 after errors at the last input). */
export async function runCrmShell(opts: ShellOptions): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const say = (text: string): void => {
    if (text !== '') output.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  let rl: Interface | undefined;
  const host = nodeCrmHost({
    release: () => {
      rl?.pause();
      if ('setRawMode' in input && typeof (input as NodeJS.ReadStream).setRawMode === 'function') (input as NodeJS.ReadStream).setRawMode(false);
    },
    reclaim: () => {
      if ('setRawMode' in input && typeof (input as NodeJS.ReadStream).setRawMode === 'function') (input as NodeJS.ReadStream).setRawMode(true);
      rl?.resume();
    },
  });
  let driver: CrmDriver;
  try {
    driver = await CrmDriver.open(opts.backend, { host, interactive: true, ...(opts.catalog ? { catalog: opts.catalog } : {}), ...(opts.shadowDir ? { shadowDir: opts.shadowDir } : {}) });
  } catch (e) {
    say(`ERROR: cannot read the CIB from ${opts.backend.name}: ${(e as Error).message}`);
    return 66;
  }
  const shell = driver.shell;
  if (opts.level && opts.level !== 'top') shell.execute(opts.level);
  const sources = opts.sources ?? catalogSources();
  const histFile = opts.historyFile ?? historyPath();
  let history: string[] = [];
  try {
    history = readFileSync(histFile, 'utf8').split('\n').filter((l) => l.trim() !== '').reverse().slice(0, 1000);
  } catch {
    // no history yet
  }
  rl = createInterface({
    input,
    output,
    terminal: Boolean((input as NodeJS.ReadStream).isTTY),
    history,
    historySize: 1000,
    removeHistoryDuplicates: true,
    prompt: prompt(driver.current, shell.level),
    completer: (line: string, cb: (err: Error | null, result: [string[], string]) => void) => {
      const words = line.trim().split(/\s+/);
      const agent = shell.level === 'configure' && words[0] === 'primitive' ? words[2] : shell.level === 'top' && words[0] === 'configure' && words[1] === 'primitive' ? words[3] : undefined;
      const finish = (): void => {
        const lvl: CrmLevel = shell.level;
        const { candidates, partial } = completeLine(line, lvl, shell.session, sources);
        cb(null, [candidates, partial]);
      };
      if (agent && /\sparams\s/.test(` ${line}`) && sources.load) void sources.load(agent).then(finish);
      else finish();
    },
  });
  let lastOk = true;
  rl.prompt();
  for await (const line of rl) {
    if (line.trim() !== '') {
      try {
        mkdirSync(dirname(histFile), { recursive: true });
        appendFileSync(histFile, `${line}\n`);
      } catch {
        // history is a convenience: an unwritable file does not stop the shell
      }
    }
    const step = await driver.input(line);
    say(withCaret(step.output, line));
    if (line.trim() !== '') lastOk = step.ok;
    if (step.quit) break;
    rl.setPrompt(prompt(driver.current, shell.level));
    rl.prompt();
  }
  rl.close();
  return lastOk ? 0 : 1;
}

/**
 * A crm script (or one command) through the same driver as the interactive shell, on `backend`:
 * the commands run in order, each `commit` is written through the backend at once, and the
 * first failing command stops the script (its exit code is the script's). Uncommitted configure
 * changes at the end are dropped with a warning, as the offline batch drops them.
 */
export async function runCrmBatch(script: string, backend: CibBackend, opts: { host: CrmHost; shadowDir?: string }): Promise<{ exitCode: number; output: string }> {
  let driver: CrmDriver;
  try {
    driver = await CrmDriver.open(backend, { host: opts.host, interactive: false, ...(opts.shadowDir ? { shadowDir: opts.shadowDir } : {}) });
  } catch (e) {
    return { exitCode: 66, output: `ERROR: cannot read the CIB from ${backend.name}: ${(e as Error).message}` };
  }
  const out: string[] = [];
  let exitCode = 0;
  for (const cmd of splitCommands(script)) {
    const step = await driver.input(cmd.text);
    if (step.output !== '') out.push(step.output.replace(/\bline 1, column (\d+)/g, (_m, c: string) => `line ${cmd.line}, column ${c}`).replace(/^ERROR: line 1: /gm, `ERROR: line ${cmd.line}: `));
    if (!step.ok) {
      exitCode = step.exitCode === 0 ? 1 : step.exitCode;
      break;
    }
    if (step.quit) break;
  }
  if (exitCode === 0 && driver.shell.dirty) out.push('WARNING: uncommitted configure changes at the end of the script were dropped (end it with commit)');
  return { exitCode, output: out.join('\n') };
}
