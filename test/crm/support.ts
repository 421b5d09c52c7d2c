/**
 * Helpers for the crm shell suites: the configure lines of the crmsh corpus, configuration
 * normalisation for comparing CIBs, and pinned lists (a passing case can only be added).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childElements, element, firstChild, parseXml, writeElement, type XmlElement } from '@paceline/cib';
import { splitCommands, tokenize, type Token } from '../../packages/cli/src/crm/lexer.js';
import { configureObjectCommands } from '../../packages/cli/src/crm/parser.js';

export interface CorpusLine {
  /** testcases/NAME or cibtests/NNN.input, and the line number. */
  readonly where: string;
  readonly text: string;
  readonly tokens: Token[];
}

const objectCommands = new Set<string>(configureObjectCommands);

/** The configure object commands of one crm shell input (levels followed as the shell does). */
export function configureLines(where: string, script: string, harness = false): CorpusLine[] {
  const out: CorpusLine[] = [];
  let level = 'top';
  for (const cmd of splitCommands(script)) {
    const lexed = tokenize(cmd);
    if (!lexed.ok) continue;
    let toks = lexed.tokens;
    if (toks[0]?.text === '-F' || toks[0]?.text === '-f') toks = toks.slice(1);
    const first = toks[0]?.text.toLowerCase() ?? '';
    // The testcases harness: `show TITLE` opens a configure session, `session TITLE` a top-level one, `.` ends it.
    if (harness && (first === 'show' || first === 'session') && toks.length > 1) {
      level = first === 'show' ? 'configure' : 'top';
      continue;
    }
    if (harness && first === '.') {
      level = 'top';
      continue;
    }
    if (first === 'configure' && toks.length === 1) {
      level = 'configure';
      continue;
    }
    if (['up', 'end', 'quit', 'bye', 'exit', 'cd'].includes(first) || (level === 'top' && toks.length === 1 && !objectCommands.has(first))) {
      if (first !== 'cd' || toks[1]?.text !== 'configure') level = 'top';
      else level = 'configure';
      continue;
    }
    if (level === 'top' && first === 'configure') toks = toks.slice(1);
    else if (level !== 'configure') continue;
    const kw = toks[0]?.text.toLowerCase() ?? '';
    if (objectCommands.has(kw)) out.push({ where: `${where}:${cmd.line}`, text: cmd.text, tokens: toks });
  }
  return out;
}

/** Every configure line of the corpus testcases and cibtests inputs. */
export function corpusConfigureLines(crmshDir: string): CorpusLine[] {
  const out: CorpusLine[] = [];
  const tc = join(crmshDir, 'testcases');
  for (const f of readdirSync(tc).sort()) {
    if (f.includes('.')) continue;
    if (f === 'basicset') continue;
    out.push(...configureLines(`testcases/${f}`, readFileSync(join(tc, f), 'utf8'), true));
  }
  const ct = join(crmshDir, 'cibtests');
  for (const f of readdirSync(ct).sort()) if (f.endsWith('.input')) out.push(...configureLines(`cibtests/${f}`, readFileSync(join(ct, f), 'utf8')));
  return out;
}

/**
 * A configuration for comparison: whitespace-free, attributes sorted, empty sections dropped,
 * sections sorted by name (the schema interleaves them: their order carries no meaning, and
 * crmsh's commit through a patch does not keep the order it created them in).
 */
export function normaliseConfiguration(cibText: string, sortObjects = false, unordered = false): string {
  const root = parseXml(cibText).root;
  const conf = root.name === 'configuration' ? root : firstChild(root, 'configuration');
  if (!conf) return '(no configuration)';
  const sections = childElements(conf)
    .filter((s) => s.children.length > 0 || Object.keys(s.attrs).length > 0)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (!sortObjects) return sections.map((s) => canonical(s, 0)).join('');
  // Objects within a section in a fixed order (show prints them sorted, not in creation order).
  return sections
    .map((s) => {
      const objs = childElements(s).map((o) => canonical(o, 1, unordered)).sort();
      return `<${s.name}>\n${objs.join('')}</${s.name}>\n`;
    })
    .join('');
}

function canonical(el: XmlElement, depth: number, unordered = false): string {
  const attrs = Object.keys(el.attrs)
    .sort()
    .map((k) => ` ${k}="${el.attrs[k]}"`)
    .join('');
  const kids = childElements(el);
  const pad = '  '.repeat(depth);
  if (kids.length === 0) return `${pad}<${el.name}${attrs}/>\n`;
  let inner = kids.map((k) => canonical(k, depth + 1, unordered));
  // crmsh's xml_equals_unordered: children in any order, but resource sets' and resources' (group members) as written.
  if (unordered && el.name !== 'resource_set') {
    const keyed = kids.map((k, i) => ({ key: ['primitive', 'group'].includes(k.name) ? '' : inner[i]!, text: inner[i]! }));
    inner = keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((k) => k.text);
  }
  return `${pad}<${el.name}${attrs}>\n${inner.join('')}${pad}</${el.name}>\n`;
}

const objectTags = new Set(['node', 'primitive', 'template', 'group', 'clone', 'master', 'bundle', 'tag', 'rsc_location', 'rsc_colocation', 'rsc_order', 'rsc_ticket', 'acl_role', 'acl_target', 'acl_group', 'acl_user', 'alert']);
const referenceTags = new Set(['resource_ref', 'obj_ref', 'role', 'crmsh-ref']);

/** Attributes at their defaults: crmsh drops them when it reads a CIB (xmlutil.sanitize_cib). */
const attrDefaults: Record<string, Record<string, string>> = {
  node: { type: 'normal' }, resource_set: { sequential: 'true', 'require-all': 'true' }, rule: { 'boolean-op': 'and' }, expression: { type: 'string' },
};

/**
 * A CIB text without the ids `configure show` leaves out (crmsh prints no nvpair, op, expression,
 * attribute set or unreferenced rule ids): kept are object ids, references, and ids some `id-ref`
 * names (`keepIds`: all ids stay). Attributes at their defaults go too.
 */
export function stripIds(cibText: string, keepIds = false): string {
  const root = parseXml(cibText).root;
  const named = new Set<string>();
  const collect = (el: XmlElement): void => {
    if (el.attrs['id-ref'] !== undefined) named.add(el.attrs['id-ref']);
    childElements(el).forEach(collect);
  };
  collect(root);
  const strip = (el: XmlElement, parent: string): XmlElement => {
    const attrs = { ...el.attrs };
    const keep = objectTags.has(el.name) || referenceTags.has(el.name) || (attrs.id !== undefined && named.has(attrs.id)) || ['crm_config', 'rsc_defaults', 'op_defaults'].includes(parent);
    if (!keep && !keepIds) delete attrs.id;
    for (const [k, v] of Object.entries(attrDefaults[el.name] ?? {})) if (attrs[k] === v) delete attrs[k];
    return element(el.name, attrs, childElements(el).map((c) => strip(c, el.name)));
  };
  return writeElement(strip(root, ''));
}

/** Names in a pinned list: one a line; lines starting with `#` are comments. */
export function readPinned(path: string): Set<string> {
  if (!existsSync(path)) return new Set();
  return new Set(
    readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#')),
  );
}

export function writePinned(path: string, heading: string, names: Iterable<string>, testFile: string): void {
  const body = [...new Set(names)].sort().map((n) => `${n}\n`).join('');
  writeFileSync(path, `# ${heading}\n# One name a line; PACELINE_BLESS=1 npx vitest run ${testFile} adds what passes.\n${body}`);
}

/** Pins what passes (PACELINE_BLESS=1 adds, =replace rewrites); returns pinned names now failing. */
export function gate(path: string, heading: string, testFile: string, passing: readonly string[], all: readonly string[]): { regressions: string[]; newlyPassing: string[] } {
  const pinned = readPinned(path);
  const pass = new Set(passing);
  const bless = process.env.PACELINE_BLESS;
  if (bless === '1' || bless === 'replace') writePinned(path, heading, bless === 'replace' ? pass : new Set([...pinned, ...pass]), testFile);
  const known = new Set(all);
  return {
    regressions: [...pinned].filter((n) => known.has(n) && !pass.has(n)),
    newlyPassing: [...pass].filter((n) => !pinned.has(n)),
  };
}

/** Scripts for the oracle and round-trip suites: test/crm/scripts, the cibtests inputs, the testcases' show blocks. */
export function oracleCases(crmshDir: string): Array<{ name: string; script: string }> {
  const scriptsDir = join(import.meta.dirname, 'scripts');
  const own = readdirSync(scriptsDir).filter((f) => f.endsWith('.crm')).sort().map((f) => ({ name: `scripts/${f}`, script: readFileSync(join(scriptsDir, f), 'utf8') }));
  const ct = join(crmshDir, 'cibtests');
  // Only the configure parts of the cibtests: `resource` commands need a live cluster in crmsh.
  const corpus = readdirSync(ct).filter((f) => f.endsWith('.input')).sort().map((f) => ({ name: `cibtests/${f}`, script: readFileSync(join(ct, f), 'utf8').split('\nup\n')[0]! + '\n' }));
  return [...own, ...corpus, ...testcaseBlocks(crmshDir)];
}

/**
 * The testcases' `show TITLE` blocks as scripts: the harness runs them in configure after
 * `erase` and `erase nodes`; here they end with a commit so the CIBs can be compared.
 */
function testcaseBlocks(crmshDir: string): Array<{ name: string; script: string }> {
  const dir = join(crmshDir, 'testcases');
  const out: Array<{ name: string; script: string }> = [];
  for (const f of readdirSync(dir).filter((x) => !x.includes('.') && x !== 'basicset').sort()) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n');
    let block: string[] | undefined;
    let start = 0;
    lines.forEach((line, i) => {
      if (/^show\s/.test(line) && block === undefined) {
        block = [];
        start = i + 1;
      } else if (/^session\s/.test(line) && block === undefined) {
        block = undefined;
      } else if (line.trim() === '.' && block !== undefined) {
        out.push({ name: `testcases/${f}:${start}`, script: `configure\nerase\nerase nodes\n${block.join('\n')}\ncommit\n` });
        block = undefined;
      } else if (block !== undefined) block.push(line);
    });
  }
  return out;
}


/**
 * paceline's one deliberate difference from crmsh's `configure show` (packages/cli/src/crm/README.md,
 * "Defaults sets crm syntax cannot hold"): such a set is printed inside its section,
 * `xml <rsc_defaults> \ <meta_attributes ...> ... </rsc_defaults>`, where crmsh prints the bare
 * `xml <meta_attributes ...>` it cannot read back. Turns paceline's form into crmsh's (wrapper
 * lines dropped, the set's lines indented two spaces less), so the rest compares exactly.
 */
export function unwrapDefaultsXml(shown: string): string {
  const lines = shown.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^xml <(rsc_defaults|op_defaults)> \\$/.exec(lines[i]!);
    const end = m ? lines.findIndex((l, j) => j > i && l.trimEnd() === `</${m[1]}>`) : -1;
    if (!m || end < 0) {
      out.push(lines[i]!);
      continue;
    }
    const inner = lines.slice(i + 1, end).map((l) => l.replace(/^ {2}/, ''));
    if (inner.length === 0) {
      out.push(lines[i]!);
      continue;
    }
    inner[0] = `xml ${inner[0]}`;
    inner[inner.length - 1] = inner[inner.length - 1]!.replace(/ \\$/, '');
    out.push(...inner);
    i = end;
  }
  return out.join('\n');
}

/**
 * A CIB with defaults sets crm syntax cannot hold (a set id with a dot, an op_expression rule) and
 * one it can; its nvpair ids are those the parser generates, so a read back gives the same XML.
 */
export const defaultsCib =
  '<cib epoch="1" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.7"><configuration><crm_config/><nodes/><resources/><constraints/>' +
  '<rsc_defaults><meta_attributes id="rsc.defaults"><nvpair id="rsc.defaults.mt" name="migration-threshold" value="1"/></meta_attributes></rsc_defaults>' +
  '<op_defaults><meta_attributes id="op-monitor"><rule id="op-monitor-rule" score="INFINITY"><op_expression id="op-monitor-expr" name="monitor" interval="10s"/></rule><nvpair id="op-monitor-timeout" name="timeout" value="8s"/></meta_attributes>' +
  '<meta_attributes id="op-plain"><nvpair id="op-plain-timeout" name="timeout" value="20s"/></meta_attributes></op_defaults>' +
  '</configuration><status/></cib>';
