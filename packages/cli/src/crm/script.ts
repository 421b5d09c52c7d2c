/**
 * Running crm shell input offline against a CIB held in memory: the `configure` level with
 * its object commands, `commit`, `show`, `delete`, `erase`, `verify`, levels (`configure`,
 * `up`, `end`, `cd ..`, `quit`). Pure: the caller reads and writes the CIB file.
 *
 * Semantics: every object command is parsed and applied to the session's working copy; each
 * `commit` records the configuration at that point; the batch's result is the last committed
 * state, applied to the CIB that was read as one change (epoch bumped once). Any error fails the
 * batch and nothing is committed, unlike crmsh, which commits whatever parsed.
 */
import { parseXml, writeXml, type XmlElement, readVersion } from '@paceline/cib';
import { splitCommands, tokenize, type Token } from './lexer.js';
import { configureObjectCommands, parseCommand } from './parser.js';
import { ConfigSession } from './session.js';
import { renderShow, renderShowXml } from './show.js';
import { cloneNode, type CNode } from './tree.js';

export interface CrmRunResult {
  /** 0 success, 1 an error in the batch (nothing committed). */
  readonly exitCode: number;
  /** What the shell printed (show output, messages), lines joined with newlines. */
  readonly output: string;
  /** The CIB after the batch; the input CIB when nothing was committed. */
  readonly cib: XmlElement;
  /** True when a commit changed the configuration. */
  readonly changed: boolean;
}

interface RunState {
  level: 'top' | 'configure' | 'options';
  /** crmsh option sort_elements: show sorts objects by id within each kind. */
  sortElements: boolean;
  session: ConfigSession;
  committed: CNode | undefined;
  out: string[];
  errors: number;
  quit: boolean;
  options: CrmRunOptions;
}

const objectCommands = new Set<string>(configureObjectCommands);
const ignoredConfigureCommands = new Set(['_regtest', '_test', '_objects', 'refresh', 'ptest', 'simulate', 'cib', 'schema', 'upgrade']);
const quitWords = new Set(['quit', 'bye', 'exit', 'q']);

export interface CrmRunOptions {
  /** Called with each `show` command's words (after `show`) and what it printed. */
  readonly onShow?: (args: readonly string[], text: string) => void;
}

/** Runs a crm shell script on the CIB `cib` (its text). */
export function runCrmOnCib(script: string, cibText: string, options: CrmRunOptions = {}): CrmRunResult {
  const doc = parseXml(cibText);
  const state: RunState = { level: 'top', session: new ConfigSession(doc.root), committed: undefined, out: [], errors: 0, quit: false, options, sortElements: true };
  for (const cmd of splitCommands(script)) {
    if (state.quit) break;
    const trimmed = cmd.text.trim();
    if (trimmed.startsWith('#')) continue;
    const lexed = tokenize(cmd);
    if (!lexed.ok) {
      fail(state, `line ${lexed.line}, column ${lexed.column}: ${lexed.message}`);
      continue;
    }
    runTokens(state, lexed.tokens);
  }
  if (state.errors > 0 || !state.committed) return { exitCode: state.errors > 0 ? 1 : 0, output: state.out.join('\n'), cib: doc.root, changed: false };
  const final = new ConfigSession(doc.root);
  const conf = final.configuration();
  const idx = final.cib.children.indexOf(conf);
  final.cib.children[idx] = state.committed;
  const cib = final.result();
  const changed = readVersion(cib).epoch !== readVersion(doc.root).epoch;
  return { exitCode: 0, output: state.out.join('\n'), cib, changed };
}

function fail(state: RunState, message: string): void {
  state.errors++;
  state.out.push(`ERROR: ${message}`);
}

function runTokens(state: RunState, tokens: Token[]): void {
  const words = tokens.map((t) => t.text);
  const first = words[0]?.toLowerCase() ?? '';
  if (quitWords.has(first)) {
    state.quit = true;
    return;
  }
  if (first === 'up' || first === 'end' || (first === 'cd' && (words[1] === '..' || words.length === 1))) {
    state.level = 'top';
    return;
  }
  if (state.level === 'options') {
    if (first === 'sort_elements' || first === 'sort-elements') state.sortElements = !['false', 'no', 'off', '0'].includes((words[1] ?? '').toLowerCase());
    return;
  }
  if (state.level === 'top') {
    if (first === 'options') {
      if (words.length === 1) state.level = 'options';
      else if (words[1] === 'sort_elements' || words[1] === 'sort-elements') state.sortElements = !['false', 'no', 'off', '0'].includes((words[2] ?? '').toLowerCase());
      return;
    }
    if (first === 'configure') {
      if (words.length === 1) state.level = 'configure';
      else runConfigure(state, tokens.slice(1), true);
      return;
    }
    if (first === 'cd' && words[1] === 'configure') {
      state.level = 'configure';
      return;
    }
    if (first === 'resource' && (words[1] === 'start' || words[1] === 'stop') && words.length === 3) {
      // crmsh runs crm_resource, which writes the CIB at once: the change is committed.
      const err = state.session.setMeta(words[2]!, 'target-role', words[1] === 'start' ? 'Started' : 'Stopped');
      if (err) fail(state, `line ${tokens[0]!.line}: ${err.message}`);
      else state.committed = cloneNode(state.session.configuration());
      return;
    }
    fail(state, `line ${tokens[0]!.line}, column ${tokens[0]!.column}: ${first}: not available offline (only the configure level is implemented)`);
    return;
  }
  runConfigure(state, tokens, false);
}

function runConfigure(state: RunState, tokens: Token[], oneShot: boolean): void {
  const s = state.session;
  const words = tokens.map((t) => t.text);
  const first = words[0]!.toLowerCase();
  const at = `line ${tokens[0]!.line}, column ${tokens[0]!.column}`;
  if (objectCommands.has(first)) {
    const since = schemaSince[first];
    if (since && !schemaAtLeast(s.cib.attrs.get('validate-with'), since)) {
      fail(state, `${at}: ${first} not supported by the RNG schema (${s.cib.attrs.get('validate-with')}; needs pacemaker-${since[0]}.${since[1]})`);
      return;
    }
    const parsed = parseCommand(tokens, {
      ocf11: schemaIsOcf11(s.cib.attrs.get('validate-with')),
      resolveIdRef: (t, id) => s.resolveIdRef(t, id),
      nodeNames: () => s.nodeNames(),
    });
    if (!parsed.ok) {
      fail(state, `line ${parsed.line}, column ${parsed.column}: syntax in ${first}: ${parsed.message}`);
      return;
    }
    for (const w of parsed.warnings) state.out.push(`WARNING: ${tokens[0]!.line}: ${w}`);
    const err = s.add(parsed.node);
    if (err) fail(state, `${at}: ${err.message}`);
    else if (oneShot) state.committed = cloneNode(s.configuration());
    return;
  }
  switch (first) {
    case 'commit':
      state.committed = cloneNode(s.configuration());
      return;
    case 'show': {
      const args = words.slice(1);
      const text = args[0] === 'xml' ? renderShowXml(s, args.slice(1)) : renderShow(s, args, state.sortElements);
      state.out.push(text);
      state.options.onShow?.(args, text);
      return;
    }
    case 'delete':
    case 'rm':
      {
        const err = s.deleteMany(words.slice(1));
        if (err) fail(state, `${at}: ${err.message}`);
      }
      if (oneShot) state.committed = cloneNode(s.configuration());
      return;
    case 'erase':
      s.erase(words[1] === 'nodes');
      if (oneShot) state.committed = cloneNode(s.configuration());
      return;
    case 'set': {
      if (words.length !== 3) return fail(state, `${at}: usage: set <path> <value>`);
      const err = s.setParam(words[1]!, words[2]!);
      if (err) fail(state, `${at}: ${err.message}`);
      if (oneShot) state.committed = cloneNode(s.configuration());
      return;
    }
    case 'rename': {
      if (words.length !== 3) return fail(state, `${at}: usage: rename <old_id> <new_id>`);
      const err = s.rename(words[1]!, words[2]!);
      if (err) fail(state, `${at}: ${err.message}`);
      if (oneShot) state.committed = cloneNode(s.configuration());
      return;
    }
    case 'verify':
      return;
    default:
      if (ignoredConfigureCommands.has(first)) return;
      fail(state, `${at}: configure ${first}: unknown or not available offline`);
  }
}

/** The first Pacemaker schema that knows each kind of object (crmsh refuses it before). */
const schemaSince: Record<string, readonly [number, number]> = { alert: [2, 5], bundle: [2, 8], tag: [1, 3] };

/** True when `validate-with` is the schema pacemaker-MAJOR.MINOR or later (unknown names count as new). */
export function schemaAtLeast(validateWith: string | undefined, [major, minor]: readonly [number, number]): boolean {
  const m = /^pacemaker-(\d+)\.(\d+)$/.exec(validateWith ?? '');
  if (!m) return validateWith === undefined || !/^pacemaker-\d/.test(validateWith);
  const ma = Number(m[1]);
  return ma > major || (ma === major && Number(m[2]) >= minor);
}

/** OCF 1.1 role names (Promoted/Unpromoted) are native from schema pacemaker-3.7 on. */
export function schemaIsOcf11(validateWith: string | undefined): boolean {
  if (validateWith === 'pacemaker-next') return true;
  return /^pacemaker-\d+\.\d+$/.test(validateWith ?? '') && schemaAtLeast(validateWith, [3, 7]);
}

/** A one-line command (`configure primitive ...`, or a configure-level command). */
export function runCrmLine(line: string, cibText: string): CrmRunResult {
  const first = line.trim().split(/\s+/)[0]?.toLowerCase();
  const text = first === 'configure' ? line : `configure ${line}`;
  return runCrmOnCib(text, cibText);
}

/** Writes a CIB the way the CIB file is kept: pretty XML with a trailing newline. */
export function cibToText(cib: XmlElement): string {
  return writeXml({ before: [], root: cib, after: [] }).trimEnd() + '\n';
}
