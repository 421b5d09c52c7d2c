/**
 * The interactive crm shell (`paceline` or `paceline configure` with no arguments on a
 * terminal): a readline prompt over `CrmShell`, with levels, `help`, history in
 * $XDG_CONFIG_HOME/paceline/history (default ~/.config/paceline/history), and tab completion of
 * commands, ids, node names, agents, agent parameters and cluster options.
 *
 * The CIB comes from a `CibBackend`: a file offline (CIB_file / --cib-file); a live cluster's API
 * client plugs in through the same interface. Commit writes through it, version-checked.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { optionsFor } from '@paceline/cib';
import { AgentCatalog, createExecutor, defaultAgentPaths, formatAgent, isAgentClass, type AgentClass } from '@paceline/executor';
import { completeLine, helpText, type CompletionSources } from '../crm/complete.js';
import type { CibBackend } from '../crm/host.js';
import { cibToText, CrmShell, type CrmLevel } from '../crm/script.js';
import { cibVersionOfText, nodeCrmHost } from './crm-host.js';
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
}

function prompt(backend: CibBackend, level: CrmLevel): string {
  return `paceline(${backend.name.split('/').pop()})${level === 'top' ? '' : level}# `;
}

/** Levels whose commands act on a running cluster: they go to `CibBackend.runLive` when there is one. */
const liveLevels = new Set(['resource', 'node', 'cib', 'cluster', 'maintenance']);

/** The words of a command at `level` as [level, words], when it belongs to a live level (or is `status`). */
export function liveCommand(level: CrmLevel, words: readonly string[]): [string, string[]] | undefined {
  if (level === 'top' && words[0] === 'status') return ['top', [...words]];
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

/** Runs the shell until quit or end of input; resolves to the exit code (0, or 1 after errors at the last input). */
export async function runCrmShell(opts: ShellOptions): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const say = (text: string): void => {
    if (text !== '') output.write(text.endsWith('\n') ? text : `${text}\n`);
  };
  let cibText: string;
  try {
    cibText = await opts.backend.read();
  } catch (e) {
    say(`ERROR: cannot read the CIB from ${opts.backend.name}: ${(e as Error).message}`);
    return 66;
  }
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
  const shell = new CrmShell(cibText, { host, interactive: true });
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
    prompt: prompt(opts.backend, shell.level),
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
  let warnedDirty = false;
  rl.prompt();
  for await (const line of rl) {
    const trimmed = line.trim();
    if (trimmed !== '') {
      try {
        mkdirSync(dirname(histFile), { recursive: true });
        appendFileSync(histFile, `${line}\n`);
      } catch {
        // history is a convenience: an unwritable file does not stop the shell
      }
    }
    const words = trimmed.split(/\s+/);
    if (words[0] === 'help' || words[0] === '?' || words[0] === 'ls') {
      say(helpText(shell.level, words[0] === 'ls' ? undefined : words[1]));
    } else if (['quit', 'bye', 'exit', 'q'].includes(words[0] ?? '') && shell.dirty && !warnedDirty) {
      say('There are uncommitted changes: commit them, or quit again to discard them.');
      warnedDirty = true;
    } else if (shell.level === 'configure' && words[0] === 'refresh' && words.length === 1) {
      try {
        shell.reload(await opts.backend.read());
        say('INFO: changes dropped; CIB re-read');
      } catch (e) {
        say(`ERROR: cannot read the CIB: ${(e as Error).message}`);
      }
    } else if (trimmed !== '' && (shell.level === 'ra' || (shell.level === 'top' && words[0] === 'ra' && words.length > 1)) && !['cd', 'up', 'end', 'quit', 'bye', 'exit', 'q'].includes(words[0]!)) {
      const r = await raCommand(opts.catalog ?? new AgentCatalog(defaultAgentPaths()), shell.level === 'ra' ? words : words.slice(1));
      say(r.text);
      lastOk = r.ok;
    } else if (trimmed !== '' && opts.backend.runLive && liveCommand(shell.level, words)) {
      const [lvl, w] = liveCommand(shell.level, words)!;
      try {
        const r = await opts.backend.runLive(lvl, w);
        say(r.output);
        lastOk = r.exitCode === 0;
        // The cluster may have changed the CIB; uncommitted configure edits are kept (commit then checks the version).
        if (!shell.dirty) {
          cibText = await opts.backend.read();
          shell.reload(cibText);
        }
      } catch (e) {
        say(`ERROR: ${(e as Error).message}`);
        lastOk = false;
      }
    } else if (trimmed !== '') {
      const step = shell.execute(line);
      say(withCaret(step.output, line));
      lastOk = step.ok;
      if (step.commit) {
        const text = cibToText(step.commit);
        const res = await opts.backend.replace(text, cibVersionOfText(cibText));
        if (res.ok) {
          cibText = res.cibText;
          shell.reload(cibText);
        } else {
          shell.commitFailed();
          say(`ERROR: commit: ${res.message}`);
          if (res.conflict) say('INFO: your changes are kept, uncommitted: `save FILE` them, `refresh`, then `load update FILE` and commit');
          lastOk = false;
        }
      }
      if (step.quit) break;
    }
    rl.setPrompt(prompt(opts.backend, shell.level));
    rl.prompt();
  }
  rl.close();
  return lastOk ? 0 : 1;
}
