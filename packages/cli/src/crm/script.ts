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
import { configureObjectCommands, parseCommand, schemaAtLeast, schemaIsOcf11 } from './parser.js';

export { schemaAtLeast, schemaIsOcf11 };
import { applyText, applyXml, type ApplyError, type ApplyOptions } from './apply.js';
import type { CrmHost } from './host.js';
import { ConfigSession } from './session.js';
import { renderObjects, renderShow, renderShowXml, selectObjects, showObjects } from './show.js';
import { cloneNode, toXml, type CNode } from './tree.js';
import { checkObjects, formatChecks, newCibProblems, verifyAll, type AgentSource } from './check.js';
import { element, writeElement } from '@paceline/cib';

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

/** The shell's levels (crmsh's sublevels); only `configure` and `options` work offline in full. */
export const crmLevels = ['configure', 'resource', 'node', 'cib', 'ra', 'options', 'cluster', 'maintenance'] as const;
export type CrmLevel = 'top' | (typeof crmLevels)[number];

interface RunState {
  level: CrmLevel;
  /** crmsh option sort_elements: show sorts objects by id within each kind. */
  sortElements: boolean;
  /** crmsh option check-mode: agent problems found at commit are errors (strict) or warnings (relaxed). */
  checkMode: 'strict' | 'relaxed';
  /** crmsh option check-frequency: semantic checks at each command in the interactive shell (always), at commit and verify only (on-verify), or never. */
  checkFrequency: 'always' | 'on-verify' | 'never';
  session: ConfigSession;
  committed: CNode | undefined;
  out: string[];
  errors: number;
  quit: boolean;
  options: CrmRunOptions;
  /** Configurations before each uncommitted change, newest last (`undo`). */
  undo: CNode[];
  /** The configuration as last committed or read (`show changed`, `refresh`). */
  baseline: CNode;
  /** Set by `commit` (and one-shot commands); the interactive driver takes it. */
  commitRequested: boolean;
  /** What `baseline` and `undo` were before the last commit, should its write fail. */
  beforeCommit?: { baseline: CNode; undo: CNode[] };
}

const objectCommands = new Set<string>(configureObjectCommands);
const ignoredConfigureCommands = new Set(['_regtest', '_test', '_objects', 'ptest', 'simulate', 'cib', 'schema']);
/** Configure commands that change the working configuration (each can be undone). */
const mutating = new Set(['delete', 'rm', 'erase', 'set', 'rename', 'edit', 'filter', 'modgroup', 'load', 'upgrade']);
const quitWords = new Set(['quit', 'bye', 'exit', 'q']);

export interface CrmRunOptions {
  /** Called with each `show` command's words (after `show`) and what it printed. */
  readonly onShow?: (args: readonly string[], text: string) => void;
  /** Files, $EDITOR and filter commands (edit, filter, load, save); without it those commands fail. */
  readonly host?: CrmHost;
  /** Interactive: `edit` re-opens the editor on a syntax error. */
  readonly interactive?: boolean;
  /** Installed agents and their meta-data, for the checks at commit (without it, agents are not checked). */
  readonly agents?: AgentSource;
}

/** Runs a crm shell script on the CIB `cib` (its text). */
export function runCrmOnCib(script: string, cibText: string, options: CrmRunOptions = {}): CrmRunResult {
  const doc = parseXml(cibText);
  const state = newState(doc.root, options);
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
  const vw = state.session.cib.attrs.get('validate-with');
  if (vw !== undefined) final.cib.attrs.set('validate-with', vw);
  const cib = upgradedVersion(doc.root, final.result());
  const changed = readVersion(cib).epoch !== readVersion(doc.root).epoch;
  return { exitCode: 0, output: state.out.join('\n'), cib, changed };
}

function newState(root: XmlElement, options: CrmRunOptions): RunState {
  const session = new ConfigSession(root);
  return { level: 'top', session, committed: undefined, out: [], errors: 0, quit: false, options, sortElements: true, checkMode: 'strict', checkFrequency: 'always', undo: [], baseline: session.snapshot(), commitRequested: false };
}

/** The working CIB, or the configuration `conf` in it, as an XmlElement `<cib>`. */
function cibOf(state: RunState, conf?: CNode): XmlElement {
  const cib = state.session.cib;
  return toXml({ tag: 'cib', attrs: new Map(cib.attrs), children: [conf ?? state.session.configuration()] });
}

/**
 * `commit [force]` (and a one-shot command's implicit commit): the checks of check.ts first; an
 * error refuses the commit unless forced (crmsh: "Do you still want to commit?", answered no
 * outside a terminal), warnings are printed.
 */
function commitChecked(state: RunState, at: string, force: boolean): void {
  if (state.checkFrequency !== 'never') {
    const after = cibOf(state);
    const found = [...newCibProblems(cibOf(state, state.baseline), after), ...checkObjects(after, changedIds(state), { agents: state.options.agents, mode: state.checkMode })];
    const errors = found.filter((m) => m.severity === 'error').length;
    state.out.push(...formatChecks(found));
    if (errors > 0 && !force) {
      fail(state, `${at}: commit refused: ${errors} error${errors === 1 ? '' : 's'} above (nothing was committed; \`commit force\` commits all the same)`);
      return;
    }
    if (errors > 0) state.out.push('INFO: commit forced');
  }
  commitNow(state);
}

function commitNow(state: RunState): void {
  state.beforeCommit = { baseline: state.baseline, undo: state.undo };
  state.committed = cloneNode(state.session.configuration());
  state.session.reread();
  state.baseline = state.session.snapshot();
  state.undo = [];
  state.commitRequested = true;
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
  if (first === 'cd' && words.length === 2) {
    const lvl = words[1]!.replace(/^\.\.\//, '').replace(/^\//, '');
    if ((crmLevels as readonly string[]).includes(lvl)) state.level = lvl as CrmLevel;
    else fail(state, `line ${tokens[1]!.line}, column ${tokens[1]!.column}: ${words[1]}: no such level (levels: ${crmLevels.join(', ')})`);
    return;
  }
  if (state.level === 'options') {
    setOption(state, tokens);
    return;
  }
  if (state.level === 'top') {
    if (first === 'options') {
      if (words.length === 1) state.level = 'options';
      else setOption(state, tokens.slice(1));
      return;
    }
    if (first === 'configure') {
      if (words.length === 1) state.level = 'configure';
      else runConfigure(state, tokens.slice(1), true);
      return;
    }
    if ((crmLevels as readonly string[]).includes(first) && words.length === 1) {
      state.level = first as CrmLevel;
      return;
    }
    if (first === 'resource' && (words[1] === 'start' || words[1] === 'stop') && words.length === 3) {
      resourceStartStop(state, tokens.slice(1));
      return;
    }
    fail(state, `line ${tokens[0]!.line}, column ${tokens[0]!.column}: ${first}: not available offline (only the configure level is implemented)`);
    return;
  }
  if (state.level === 'configure') {
    runConfigure(state, tokens, false);
    return;
  }
  if (state.level === 'resource' && (first === 'start' || first === 'stop') && words.length === 2) {
    resourceStartStop(state, tokens);
    return;
  }
  fail(state, `line ${tokens[0]!.line}, column ${tokens[0]!.column}: ${state.level} ${first}: needs a live cluster (not available offline)`);
}

/**
 * The `options` level offline: sort-elements, check-mode, check-frequency (crmsh's spelling
 * with `_` too). Other crmsh options (colours, pager, editor, skill level) change nothing here
 * and are accepted silently, as before.
 */
function setOption(state: RunState, tokens: Token[]): void {
  const name = (tokens[0]?.text ?? '').replace(/_/g, '-');
  const value = tokens[1]?.text;
  const at = `line ${tokens[0]?.line ?? 0}, column ${tokens[0]?.column ?? 0}`;
  const choose = <T extends string>(allowed: readonly T[]): T | undefined => {
    if (value !== undefined && (allowed as readonly string[]).includes(value)) return value as T;
    fail(state, `${at}: usage: ${name} ${allowed.join('|')}${value === undefined ? '' : ` (found '${value}')`}`);
    return undefined;
  };
  if (name === 'sort-elements') state.sortElements = !['false', 'no', 'off', '0'].includes((value ?? '').toLowerCase());
  else if (name === 'check-mode') state.checkMode = choose(['strict', 'relaxed'] as const) ?? state.checkMode;
  else if (name === 'check-frequency') state.checkFrequency = choose(['always', 'on-verify', 'never'] as const) ?? state.checkFrequency;
}

/** `resource start|stop RSC`: crmsh runs crm_resource, which writes the CIB at once: the change is committed. */
function resourceStartStop(state: RunState, tokens: Token[]): void {
  const err = state.session.setMeta(tokens[1]!.text, 'target-role', tokens[0]!.text === 'start' ? 'Started' : 'Stopped');
  if (err) fail(state, `line ${tokens[0]!.line}: ${err.message}`);
  else commitNow(state);
}

function runConfigure(state: RunState, tokens: Token[], oneShot: boolean): void {
  const s = state.session;
  const words = tokens.map((t) => t.text);
  const first = words[0]!.toLowerCase();
  const at = `line ${tokens[0]!.line}, column ${tokens[0]!.column}`;
  const before = s.snapshot();
  const errorsBefore = state.errors;
  runConfigureCommand(state, tokens, at);
  if (state.errors > errorsBefore) {
    // A command that failed half way leaves the working configuration as it was.
    if (mutating.has(first) || objectCommands.has(first)) s.restore(before);
    return;
  }
  if (mutating.has(first) || objectCommands.has(first)) {
    state.undo.push(before);
    if (oneShot) commitChecked(state, at, false);
    else if (objectCommands.has(first) && state.options.interactive && state.checkFrequency === 'always') checkAtInput(state, at, before);
  }
}

/**
 * The interactive shell checks an object as it is typed (crmsh with check-frequency always): the
 * agent and its parameters of the objects the command changed. In strict mode an error takes
 * the command back.
 */
function checkAtInput(state: RunState, at: string, before: CNode): void {
  const found = checkObjects(cibOf(state), changedSince(state, before), { agents: state.options.agents, mode: state.checkMode });
  state.out.push(...formatChecks(found));
  if (found.some((m) => m.severity === 'error')) {
    state.session.restore(state.undo.pop()!);
    fail(state, `${at}: not added (check-mode strict; \`options check-mode relaxed\` takes such objects with a warning)`);
  }
}

function runConfigureCommand(state: RunState, tokens: Token[], at: string): void {
  const s = state.session;
  const words = tokens.map((t) => t.text);
  const first = words[0]!.toLowerCase();
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
    return;
  }
  const args = words.slice(1);
  switch (first) {
    case 'commit':
      if (args.some((a) => a !== 'force' && a !== 'replace')) return fail(state, `${at}: usage: commit [force] [replace]`);
      commitChecked(state, at, args.includes('force'));
      return;
    case 'show':
      return show(state, args);
    case 'delete':
    case 'rm': {
      const err = s.deleteMany(args);
      if (err) fail(state, `${at}: ${err.message}`);
      return;
    }
    case 'erase':
      if (args.length > 1 || (args.length === 1 && args[0] !== 'nodes')) return fail(state, `${at}: usage: erase [nodes] (found '${args.join(' ')}')`);
      s.erase(args[0] === 'nodes');
      return;
    case 'set': {
      if (args.length !== 2) return fail(state, `${at}: usage: set <path> <value>`);
      const err = s.setParam(args[0]!, args[1]!);
      if (err) fail(state, `${at}: ${err.message}`);
      return;
    }
    case 'rename': {
      if (args.length !== 2) return fail(state, `${at}: usage: rename <old_id> <new_id>`);
      const err = s.rename(args[0]!, args[1]!);
      if (err) fail(state, `${at}: ${err.message}`);
      return;
    }
    case 'modgroup':
      return modgroup(state, tokens, at);
    case 'edit':
      return edit(state, args, at);
    case 'filter':
      return filter(state, args, at);
    case 'load':
      return load(state, args, at);
    case 'save':
      return save(state, args, at);
    case 'upgrade':
      return upgrade(state, args, at);
    case 'undo':
      if (args.length > 0) return fail(state, `${at}: usage: undo`);
      if (state.undo.length === 0) return fail(state, `${at}: nothing to undo (no uncommitted changes)`);
      s.restore(state.undo.pop()!);
      return;
    case 'refresh':
      // Offline the CIB cannot have changed under us: drop the uncommitted changes.
      s.restore(state.baseline);
      state.undo = [];
      return;
    case 'verify': {
      if (args.length > 0) return fail(state, `${at}: usage: verify`);
      const found = verifyAll(cibOf(state), { agents: state.options.agents, mode: state.checkMode });
      state.out.push(...formatChecks(found));
      const errors = found.filter((m) => m.severity === 'error').length;
      if (errors > 0) fail(state, `${at}: verify: ${errors} error${errors === 1 ? '' : 's'}`);
      return;
    }
    default:
      if (ignoredConfigureCommands.has(first)) return;
      fail(state, `${at}: configure ${first}: unknown or not available offline`);
  }
}

/** `show [xml] [filters...]`: ids (wildcards), type:, tag:, related:, changed, joined by and/or. */
function show(state: RunState, args: string[]): void {
  const s = state.session;
  const xml = args[0] === 'xml';
  // crmsh `show obscure:PATTERN ...`; without one its obscure_pattern, `passw*`.
  const obscure = args.filter((a) => a.startsWith('obscure:')).map((a) => a.slice(8));
  const filters = (xml ? args.slice(1) : args).filter((a) => !a.startsWith('obscure:'));
  const sel = selectObjects(s, filters, filters.includes('changed') ? changedIds(state) : []);
  let text = '';
  // Reported, but a read-only command does not fail the batch (the edits around it still commit).
  if (!sel.ok) state.out.push(`ERROR: object ${sel.missing} does not exist`);
  else if (xml) text = filters.length === 0 ? renderShowXml(s) : sel.objs.length === 0 ? '' : renderShowXml(s, sel.objs.map((o) => o.id));
  else text = renderObjects(sel.objs, state.sortElements, s, obscure.length > 0 ? obscure : ['passw*']);
  state.out.push(text);
  state.options.onShow?.(args, text);
}

/** Ids of objects created or modified since the last commit (crmsh's `updated` objects). */
function changedIds(state: RunState): string[] {
  return changedSince(state, state.baseline);
}

/** Ids of the objects that differ from the configuration `conf`. */
function changedSince(state: RunState, conf: CNode): string[] {
  const base = new ConfigSession(toXml(cloneNode({ tag: 'cib', attrs: new Map(), children: [conf] })));
  const was = new Map(showObjects(base).map((o) => [`${o.kind}:${o.id}`, writeElement(toXml(o.node))]));
  const changed = showObjects(state.session).filter((o) => was.get(`${o.kind}:${o.id}`) !== writeElement(toXml(o.node)));
  return changed.map((o) => o.id);
}

function needHost(state: RunState, at: string, what: string): CrmHost | undefined {
  const h = state.options.host;
  if (!h) fail(state, `${at}: ${what} needs files or an editor, which this runner has not been given`);
  return h;
}

function ocf11(state: RunState): boolean {
  return schemaIsOcf11(state.session.cib.attrs.get('validate-with'));
}

function applyError(e: ApplyError): string {
  return e.line !== undefined ? `line ${e.line}, column ${e.column}: ${e.message}` : e.message;
}

/** `modgroup GRP add ID [after|before REF]` / `modgroup GRP remove ID`. */
function modgroup(state: RunState, tokens: Token[], at: string): void {
  const w = tokens.map((t) => t.text);
  if (w.length < 4 || (w[2] !== 'add' && w[2] !== 'remove')) return fail(state, `${at}: usage: modgroup <group> add <id> [after <id>|before <id>] | modgroup <group> remove <id>`);
  let where: { pos: 'after' | 'before'; ref: string } | undefined;
  if (w.length > 4) {
    const t = tokens[4]!;
    if (w[2] !== 'add') return fail(state, `line ${t.line}, column ${t.column}: expected end of command after 'remove ${w[3]}' (found ${w[4]})`);
    if (w[4] !== 'after' && w[4] !== 'before') return fail(state, `line ${t.line}, column ${t.column}: expected after|before (found ${w[4]})`);
    if (w.length !== 6) return fail(state, `line ${t.line}, column ${t.column}: expected 'after|before <id>' (${w.length - 4} arguments given)`);
    where = { pos: w[4], ref: w[5]! };
  }
  const err = state.session.modgroup(w[1]!, w[2], w[3]!, where);
  if (err) fail(state, `${at}: ${err.message}`);
}

/**
 * `edit [ids...]`: the objects in crm syntax go through $EDITOR and are read back: changed ones
 * are updated, new ones created, removed ones deleted. A syntax error changes nothing; in the
 * interactive shell the editor opens again with the error on top (left unchanged: abandoned).
 */
function edit(state: RunState, ids: string[], at: string): void {
  const host = needHost(state, at, 'edit');
  if (!host) return;
  if (ids[0] === 'xml') return fail(state, `${at}: edit xml is not supported; edit in crm syntax`);
  for (const id of ids) if (!state.session.findObject(id)) return fail(state, `${at}: object ${id} does not exist`);
  const scope = ids.length > 0 ? ids : undefined;
  let text = `${renderShow(state.session, ids, state.sortElements)}\n`;
  for (;;) {
    const edited = host.editText(text, 'crm');
    if (edited === undefined) return fail(state, `${at}: edit: the editor failed; nothing changed`);
    const body = edited.split('\n').filter((l) => !l.startsWith('# paceline: ')).join('\n');
    if (body.trim() === text.split('\n').filter((l) => !l.startsWith('# paceline: ')).join('\n').trim()) {
      if (text.startsWith('# paceline: ')) state.out.push('INFO: edit abandoned; nothing changed');
      return;
    }
    const before = state.session.snapshot();
    const err = applyText(state.session, edited, editOpts(state, scope));
    if (!err) return;
    state.session.restore(before);
    const msg = applyError(err);
    if (!state.options.interactive) return fail(state, `${at}: edit: ${msg}; nothing changed`);
    state.out.push(`ERROR: edit: ${msg}`);
    text = `# paceline: ERROR: ${msg}\n# paceline: fix it and save, or save unchanged to abandon the edit (lines starting '# paceline: ' are ignored)\n${body.replace(/^\n+/, '')}`;
  }
}

function editOpts(state: RunState, scope: readonly string[] | undefined): ApplyOptions {
  return { remove: true, method: 'replace', ocf11: ocf11(state), ...(scope ? { scope } : {}) };
}

/** `filter "CMD" [ids...]`: the objects in crm syntax are piped through a shell command and read back. */
function filter(state: RunState, args: string[], at: string): void {
  if (args.length === 0) return fail(state, `${at}: usage: filter <prog> [<id>...]`);
  const host = needHost(state, at, 'filter');
  if (!host) return;
  const [prog, ...ids] = args as [string, ...string[]];
  if (ids[0] === 'xml') return fail(state, `${at}: filter xml is not supported; filter in crm syntax`);
  for (const id of ids) if (!state.session.findObject(id)) return fail(state, `${at}: object ${id} does not exist`);
  let out: string;
  try {
    out = host.filterText(prog, `${renderShow(state.session, ids, state.sortElements)}\n`);
  } catch (e) {
    return fail(state, `${at}: filter ${prog}: ${(e as Error).message}`);
  }
  const err = applyText(state.session, out, editOpts(state, ids.length > 0 ? ids : undefined));
  if (err) fail(state, `${at}: filter output: ${applyError(err)}`);
}

/**
 * `load [xml] replace|update|push FILE` (crmsh semantics): replace erases the configuration and
 * loads the file; update creates and updates objects (property sets merged); push is update and
 * also deletes objects the file does not have. A file starting with `<` is read as CIB XML.
 */
function load(state: RunState, args: string[], at: string): void {
  const xmlWord = args[0] === 'xml';
  const rest = xmlWord ? args.slice(1) : args;
  if (rest.length !== 2) return fail(state, `${at}: usage: load [xml] {replace|update|push} <file>`);
  const [method, file] = rest as [string, string];
  if (method !== 'replace' && method !== 'update' && method !== 'push') return fail(state, `${at}: unknown method ${method} (replace, update or push)`);
  const host = needHost(state, at, 'load');
  if (!host) return;
  let text: string;
  try {
    text = host.readFile(file);
  } catch (e) {
    return fail(state, `${at}: load: cannot read ${file}: ${(e as Error).message}`);
  }
  if (method === 'replace') state.session.erase(false);
  const opts: ApplyOptions = { remove: method === 'push', method: method === 'replace' ? 'replace' : 'update', ocf11: ocf11(state) };
  const isXml = xmlWord || /^\s*</.test(text);
  const err = isXml ? applyXml(state.session, text, opts) : applyText(state.session, text, opts);
  if (err) fail(state, `${at}: load ${file}: ${applyError(err)}`);
}

/** `save [xml] [ids...] FILE`: the configuration (or the objects named) in crm syntax or XML. */
function save(state: RunState, args: string[], at: string): void {
  if (args.length === 0) return fail(state, `${at}: usage: save [xml] [<id>...] <file>`);
  const host = needHost(state, at, 'save');
  if (!host) return;
  const file = args[args.length - 1]!;
  const sel = args.slice(0, -1);
  const xml = sel[0] === 'xml';
  const ids = xml ? sel.slice(1) : sel;
  for (const id of ids) if (!state.session.findObject(id)) return fail(state, `${at}: object ${id} does not exist`);
  const text = xml ? renderShowXml(state.session, ids) : renderShow(state.session, ids, state.sortElements);
  try {
    host.writeFile(file, `${text}\n`);
  } catch (e) {
    fail(state, `${at}: save: cannot write ${file}: ${(e as Error).message}`);
  }
}

/**
 * A schema upgrade moves the version as Pacemaker's does (cibadmin --upgrade on a CIB file):
 * admin_epoch up by one, epoch 1, num_updates 0.
 */
function upgradedVersion(before: XmlElement, after: XmlElement): XmlElement {
  if (before.attrs['validate-with'] === after.attrs['validate-with']) return after;
  const admin = Number(before.attrs['admin_epoch'] ?? '0') + 1;
  return element(after.name, { ...after.attrs, admin_epoch: String(admin), epoch: '1', num_updates: '0' }, after.children);
}

/** The newest schema Pacemaker 2.1.5 ships, what `cibadmin --upgrade` moves a CIB to. */
export const NEWEST_SCHEMA = 'pacemaker-3.9';

/**
 * `upgrade [force]`: as crmsh, the CIB is upgraded (validate-with raised to the newest schema)
 * only when it has none or a 0.6 schema, or with `force`. Only the schema name changes: content
 * of the 1.x schemas that Pacemaker's XSLT would rewrite is refused.
 */
function upgrade(state: RunState, args: string[], at: string): void {
  if (args.length > 1 || (args.length === 1 && args[0] !== 'force')) return fail(state, `${at}: expected 'force' or no argument`);
  const cib = state.session.cib;
  const vw = cib.attrs.get('validate-with');
  if (!(args[0] === 'force' || !vw || /^0[.]6/.test(vw))) return;
  if (vw && !schemaAtLeast(vw, [2, 0])) return fail(state, `${at}: upgrade from ${vw} needs Pacemaker's schema transforms (cibadmin --upgrade on a live cluster); not done offline`);
  if (vw === NEWEST_SCHEMA || vw === 'pacemaker-next') return;
  cib.attrs.set('validate-with', NEWEST_SCHEMA);
}

/** The first Pacemaker schema that knows each kind of object (crmsh refuses it before). */
const schemaSince: Record<string, readonly [number, number]> = { alert: [2, 5], bundle: [2, 8], tag: [1, 3] };

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

/** What one interactive input did. */
export interface CrmShellStep {
  /** What to print: messages start with ERROR:/WARNING:/INFO:. */
  readonly output: string;
  readonly ok: boolean;
  /** Set when the input committed: the new CIB to store (the caller writes it through its backend). */
  readonly commit?: XmlElement;
  /** `quit`, `bye`, `exit`. */
  readonly quit: boolean;
}

/**
 * The shell kept between inputs (interactive mode): level, working configuration, undo list.
 * Each input runs at once; a `commit` hands back the new CIB, and `reload` takes the CIB as
 * stored after the caller wrote it. Uncommitted changes survive failed inputs.
 */
export class CrmShell {
  private state: RunState;
  private root: XmlElement;

  constructor(cibText: string, options: CrmRunOptions = {}) {
    this.root = parseXml(cibText).root;
    this.state = newState(this.root, { ...options, interactive: options.interactive ?? true });
  }

  /** The installed agents the checks use (undefined: agents are not checked). */
  get agents(): AgentSource | undefined {
    return this.state.options.agents;
  }

  /** The crmsh option check-mode in force. */
  get checkMode(): 'strict' | 'relaxed' {
    return this.state.checkMode;
  }

  /** The current level (`top`, `configure`, ...). */
  get level(): CrmLevel {
    return this.state.level;
  }

  /** The working configuration (uncommitted edits included), for completion and prompts. */
  get session(): ConfigSession {
    return this.state.session;
  }

  /** True when there are uncommitted edits. */
  get dirty(): boolean {
    return this.state.undo.length > 0;
  }

  /** Runs one input (a line, or several with continuations). */
  execute(text: string): CrmShellStep {
    const st = this.state;
    st.out = [];
    st.errors = 0;
    st.commitRequested = false;
    for (const cmd of splitCommands(text)) {
      if (st.quit || cmd.text.trim().startsWith('#')) continue;
      const lexed = tokenize(cmd);
      if (!lexed.ok) fail(st, `line ${lexed.line}, column ${lexed.column}: ${lexed.message}`);
      else runTokens(st, lexed.tokens);
    }
    let commit: XmlElement | undefined;
    if (st.commitRequested && st.committed) {
      const fresh = new ConfigSession(this.root);
      const idx = fresh.cib.children.indexOf(fresh.configuration());
      fresh.cib.children[idx] = cloneNode(st.committed);
      for (const [k, v] of st.session.cib.attrs) if (k === 'validate-with') fresh.cib.attrs.set(k, v);
      commit = upgradedVersion(this.root, fresh.result());
    }
    return { output: st.out.join('\n'), ok: st.errors === 0, quit: st.quit, ...(commit ? { commit } : {}) };
  }

  /**
   * The last commit could not be written (a conflict): its changes count as uncommitted again,
   * still in the working configuration, so `show changed`, `undo` and `save` see them.
   */
  commitFailed(): void {
    const b = this.state.beforeCommit;
    if (!b) return;
    this.state.baseline = b.baseline;
    this.state.undo = b.undo.length > 0 ? b.undo : [b.baseline];
    this.state.committed = undefined;
  }

  /** Takes the CIB as now stored (after a commit or a refresh); uncommitted edits are dropped. */
  reload(cibText: string): void {
    const level = this.state.level;
    const { sortElements, checkMode, checkFrequency } = this.state;
    this.root = parseXml(cibText).root;
    this.state = newState(this.root, this.state.options);
    this.state.level = level;
    Object.assign(this.state, { sortElements, checkMode, checkFrequency });
  }
}
