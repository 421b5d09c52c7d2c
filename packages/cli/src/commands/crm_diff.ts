/**
 * `paceline crm_diff`: compare two CIBs and print the patch between them, or apply a patch, as
 * crm_diff 2.1.5 does: Pacemaker's v2 patchset format (@paceline/cib's diffCib/applyPatch) for
 * documents of feature set 3.0.8 or later, its format 1 (diff-removed/diff-added) for older ones
 * and for XML without a crm_feature_set, as xml_create_patchset chooses.
 *
 *   -o FILE / -O STRING   the original
 *   -n FILE / -N STRING   the new one: print the patch; exit 1 when they differ, 0 when the same
 *   -p FILE               apply the patch (format 1 or 2) to the original and print the result (exit 0)
 *   -s, --stdin           read the XML from stdin (the original, then the new one: as in
 *                         crm_diff, stdin is read to its end for the first, so use it with -N)
 *   -c, --cib             as CIBs: the patch gets the target's digest; applying checks the version
 *   -u, --no-version      leave out the version details (not with -c: exit 64; ignored with -p)
 *
 * Errors: unreadable or unparsable input exits 65 ("Could not parse the first/second XML
 * fragment"), a patch that does not apply prints "Could not apply patch: REASON" and exits with
 * the CIB error's code (103 for an older version, 1 when a change fails).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { applyPatch, diffCib, firstChild, parseXml, patchChanges, selectXPath, writeElement, type XmlComment, type XmlElement, type XmlNode, type XmlText } from '@paceline/cib';
import { CRM_EX } from './live.js';

/** What crm_diff was asked for (one original, and new XML or a patch). */
/** Where one XML comes from: a file, a string, or stdin (its text given, or read). */
export interface XmlSource {
  readonly file?: string;
  readonly text?: string;
  /** Read from stdin (`text`, when given, is what stdin held). */
  readonly stdin?: boolean;
}

/** What crm_diff was asked for (one original, and new XML or a patch). */
export interface CrmDiffRequest {
  readonly original: XmlSource;
  readonly next?: XmlSource;
  /** Apply this patch (instead of comparing with `next`). */
  readonly patch?: XmlSource;
  readonly asCib?: boolean;
  readonly noVersion?: boolean;
}

/** What crm_diff prints and how it ends. */
export interface CrmDiffOutcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function load(src: XmlSource): XmlElement | undefined {
  try {
    const text = src.text ?? readFileSync(src.stdin ? 0 : src.file!, 'utf8');
    return parseXml(text).root;
  } catch {
    return undefined;
  }
}

/** Feature set `a` < `b` (compare_version; a missing one is the lowest). */
function versionBelow(a: string | undefined, b: string): boolean {
  if (a === undefined) return true;
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) < (pb[i] ?? 0);
  }
  return false;
}

/** The patch format crm_diff writes for an original of this feature set (xml_create_patchset). */
export function patchFormatFor(original: XmlElement): 1 | 2 {
  const v = original.attrs['crm_feature_set'];
  return v !== undefined && versionBelow('3.0.8', v) ? 2 : 1;
}

/** The v2 digest (calculate_xml_digest_v2 with filtering): MD5 of the element on one line without the filtered attributes. */
export function digestV2(el: XmlElement): string {
  return createHash('md5').update(pcmkXml(el, false, FILTERED)).digest('hex');
}

/** calculate_xml_versioned_digest: the v1 digest for feature sets before 3.0.5 (or none), else the v2 one. */
function versionedDigest(el: XmlElement, featureSet: string | undefined): string {
  return versionBelow(featureSet, '3.0.5') ? digestV1(el) : digestV2(el);
}

const fail = (exitCode: number, stderr: string): CrmDiffOutcome => ({ exitCode, stdout: '', stderr: `${stderr}\n` });

const VERSION_ATTRS = new Set(['admin_epoch', 'epoch', 'num_updates']);

/** A change without its version-attribute updates of the root (crm_diff --no-version); none left: dropped. */
function withoutVersionChange(change: XmlElement, rootName: string): XmlElement[] {
  if (change.attrs['operation'] !== 'modify' || change.attrs['path'] !== `/${rootName}`) return [change];
  const list = change.children.find((c): c is XmlElement => c.kind === 'element' && c.name === 'change-list');
  if (!list) return [change];
  const kept = list.children.filter((c) => !(c.kind === 'element' && VERSION_ATTRS.has(c.attrs['name'] ?? '')));
  if (!kept.some((c) => c.kind === 'element')) return [];
  return [{ ...change, children: change.children.map((c) => (c === list ? { ...list, children: kept } : c)) }];
}

/** `b` with `a`'s version attributes (crm_diff -u makes them identical before comparing). */
function withVersionOf(a: XmlElement, b: XmlElement): XmlElement {
  const attrs: Record<string, string> = { ...b.attrs };
  for (const f of VFIELDS) if (a.attrs[f] !== undefined) attrs[f] = a.attrs[f]!;
  return { ...b, attrs };
}

/**
 * The patch without attribute changes that only moved an attribute (same value, another
 * position): crm_diff --cib compares "significant" changes only (the lazy tracking of
 * xml_calculate_significant_changes); a modify left with no change is dropped.
 */
function withoutAttrMoves(patch: XmlElement, a: XmlElement): XmlElement {
  const children = patch.children.flatMap((c): XmlNode[] => {
    if (c.kind !== 'element' || c.name !== 'change' || c.attrs['operation'] !== 'modify') return [c];
    const found = selectXPath(a, c.attrs['path'] ?? '');
    const old = found.ok ? found.matches[0]?.element : undefined;
    const list = firstChild(c, 'change-list');
    if (!old || !list) return [c];
    const kept = list.children.filter((x) => !(x.kind === 'element' && x.attrs['operation'] === 'set' && old.attrs[x.attrs['name'] ?? ''] === x.attrs['value']));
    if (kept.length === list.children.length) return [c];
    if (!kept.some((x) => x.kind === 'element')) return [];
    return [{ ...c, children: c.children.map((x) => (x === list ? { ...list, children: kept } : x)) }];
  });
  return { ...patch, children };
}

/**
 * The patch `a` → `b` as crm_diff prints it (undefined when there is no change): format 2 when
 * `a`'s feature set is above 3.0.8 (`format` forces one), else format 1.
 */
export function crmDiffPatch(a: XmlElement, b: XmlElement, opts: { asCib?: boolean; noVersion?: boolean; format?: 1 | 2 } = {}): XmlElement | undefined {
  if ((opts.format ?? patchFormatFor(a)) === 1) {
    const target = opts.noVersion ? withVersionOf(a, b) : b;
    const patch = diffV1(a, target);
    if (!patch) return undefined;
    const digested: XmlElement = { ...patch, attrs: { ...patch.attrs, digest: versionedDigest(target, a.attrs['crm_feature_set']) } };
    return opts.noVersion && !opts.asCib ? stripV1Versions(digested) : digested;
  }
  let patch = diffCib(a, b);
  if (opts.noVersion) {
    patch = { ...patch, children: patch.children.filter((c) => !(c.kind === 'element' && c.name === 'version')).flatMap((c): XmlNode[] => (c.kind === 'element' ? withoutVersionChange(c, a.name) : [c])) };
  } else if (opts.asCib) {
    patch = withoutAttrMoves(patch, a);
    patch = { ...patch, attrs: { ...Object.fromEntries(Object.entries(patch.attrs).filter(([k]) => k !== 'digest')), digest: digestV2(b) } };
  }
  if (patchChanges(patch).length === 0) return undefined;
  return patch;
}

/** The version fields of a format 1 patch's side (xml_patch_versions: the side, then its cib child). */
function v1Versions(patch: XmlElement, side: string): Record<string, string> {
  const out: Record<string, string> = {};
  const s = firstChild(patch, side);
  const c = s ? firstChild(s, 'cib') : undefined;
  for (const f of VFIELDS) {
    const v = c?.attrs[f] ?? s?.attrs[f];
    if (v !== undefined) out[f] = v;
  }
  return out;
}

/** Applies a patch of either format, as crm_diff -p (xml_apply_patchset, with the version check for -c). */
function applyAnyPatch(doc: XmlElement, patch: XmlElement, checkVersion: boolean): { ok: true; value: XmlElement } | { ok: false; message: string; exitCode: number } {
  const format = patch.attrs['format'] ?? '1';
  const digest = patch.attrs['digest'];
  const digestMatches = (result: XmlElement): boolean => digest === undefined || versionedDigest(result, result.attrs['crm_feature_set']) === digest.toLowerCase();
  const failed = { ok: false as const, message: 'Application of update diff failed', exitCode: CRM_EX.error };
  if (format === '2') {
    // The digest is checked here, with Pacemaker's escaping of the values.
    const attrs = Object.fromEntries(Object.entries(patch.attrs).filter(([k]) => k !== 'digest'));
    const r = applyPatch(doc, { ...patch, attrs }, { checkVersion });
    if (!r.ok) return { ok: false, message: r.error.message, exitCode: r.error.exitCode };
    return digestMatches(r.value) ? r : failed;
  }
  if (format !== '1') return { ok: false, message: 'Invalid argument', exitCode: CRM_EX.error };
  if (checkVersion) {
    // The same check as format 2, on the versions the two sides carry.
    const version: XmlElement = { kind: 'element', name: 'version', attrs: {}, children: [{ kind: 'element', name: 'source', attrs: v1Versions(patch, 'diff-removed'), children: [] }, { kind: 'element', name: 'target', attrs: v1Versions(patch, 'diff-added'), children: [] }] };
    const r = applyPatch(doc, { kind: 'element', name: 'diff', attrs: { format: '2' }, children: [version] }, { checkVersion: true });
    if (!r.ok) return { ok: false, message: r.error.message, exitCode: r.error.exitCode };
  }
  const r = applyV1(doc, patch);
  return !r.ok || digestMatches(r.value) ? r : failed;
}

/** Runs one crm_diff request (reads the files it names; writes nothing). */
export function runCrmDiff(req: CrmDiffRequest): CrmDiffOutcome {
  if (req.asCib && req.noVersion && req.patch === undefined) return fail(CRM_EX.usage, 'error: -u/--no-version incompatible with -c/--cib');
  const warning = req.patch !== undefined && req.noVersion ? 'warning: -u/--no-version ignored with -p/--patch\n' : '';
  const prompt = (req.original.stdin ? 'Input first XML fragment:' : '') + ((req.next ?? req.patch)?.stdin ? 'Input second XML fragment:' : '');
  const a = load(req.original);
  if (!a) return fail(CRM_EX.dataErr, `${warning}${prompt}Could not parse the first XML fragment`);
  if (req.patch !== undefined) {
    const patch = load(req.patch);
    if (!patch) return fail(CRM_EX.dataErr, `${warning}${prompt}Could not parse the second XML fragment`);
    const r = applyAnyPatch(a, patch, req.asCib === true);
    if (!r.ok) return fail(r.exitCode, `${warning}${prompt}Could not apply patch: ${r.message}`);
    return { exitCode: CRM_EX.ok, stdout: pcmkXml(r.value), stderr: `${warning}${prompt}` };
  }
  const b = req.next ? load(req.next) : undefined;
  if (!b) return fail(CRM_EX.dataErr, `${prompt}Could not parse the second XML fragment`);
  if (a.name !== b.name) {
    // Pacemaker's change tracking asserts here, logs it and reports no difference.
    return { exitCode: CRM_EX.ok, stdout: '', stderr: `${prompt}(log_assertion_as) \terror: xml_calculate_changes: Triggered fatal assertion at xml.c:2514 : pcmk__str_eq(crm_element_name(old_xml), crm_element_name(new_xml), pcmk__str_casei)\n` };
  }
  const patch = crmDiffPatch(a, b, req);
  if (!patch) return { exitCode: CRM_EX.ok, stdout: '', stderr: prompt };
  return { exitCode: CRM_EX.error, stdout: pcmkXml(patch), stderr: prompt };
}

// ---------------------------------------------------------------------------------------------
// Format 1 (Pacemaker's xml_create_patchset_v1 / xml_apply_patchset_v1)

/** An element under construction: attributes keep the position of their first setting, as xmlSetProp. */
interface Draft {
  name: string;
  attrs: Record<string, string>;
  children: (Draft | XmlNode)[];
}

const DIFF_MARKER = '__crm_diff_marker__';
/** Attributes Pacemaker leaves out of a format 1 comparison (pcmk__xa_filterable). */
const FILTERED = new Set(['crm-debug-origin', 'cib-last-written', 'update-origin', 'update-client', 'update-user']);
/** The version attributes, in Pacemaker's order. */
const VFIELDS = ['admin_epoch', 'epoch', 'num_updates'] as const;
/** The feature set crm_diff 2.1.5 writes on a format 1 patch (CRM_FEATURE_SET of the build). */
const CRM_FEATURE_SET = '3.16.1';

const isDraft = (n: Draft | XmlNode): n is Draft => !('kind' in n);
const draft = (name: string): Draft => ({ name, attrs: {}, children: [] });
const freeze = (d: Draft): XmlElement => ({ kind: 'element', name: d.name, attrs: d.attrs, children: d.children.map((c) => (isDraft(c) ? freeze(c) : c)) });

/** The first child of `parent` named like `needle` with its id (pcmk__xml_match); comments by their text. */
function matchChild(parent: XmlElement, needle: XmlNode): XmlNode | undefined {
  if (needle.kind === 'comment') return parent.children.find((c) => c.kind === 'comment' && c.text === needle.text);
  if (needle.kind !== 'element') return undefined;
  const id = needle.attrs['id'];
  return parent.children.find((c) => c.kind === 'element' && c.name === needle.name && (id === undefined || c.attrs['id'] === id));
}

/**
 * subtract_xml_object: what `left` has that `right` has not, appended to `parent` (undefined:
 * nothing). `full` (the added side) copies every attribute of a changed element.
 */
function subtract(parent: Draft, left: XmlNode, right: XmlNode | undefined, full: boolean, marker: string): boolean {
  if (left.kind === 'text') return false;
  if (left.kind === 'comment') {
    if (right !== undefined && right.kind === 'comment' && right.text === left.text) return false;
    parent.children.push(left);
    return true;
  }
  if (right === undefined || right.kind !== 'element') {
    parent.children.push({ ...left, attrs: { ...left.attrs, [DIFF_MARKER]: marker } });
    return true;
  }
  if (right.name !== left.name) return false;
  if (right.attrs[DIFF_MARKER] === 'removed:top') return true;
  const diff = draft(left.name);
  let changed = false;
  for (const child of left.children) if (subtract(diff, child, matchChild(right, child), full, marker)) changed = true;
  const copyAll = (): void => void Object.assign(diff.attrs, left.attrs);
  if (changed && full) copyAll();
  else {
    for (const [name, value] of Object.entries(left.attrs)) {
      if (name === 'id') {
        diff.attrs['id'] = value;
        continue;
      }
      if (FILTERED.has(name)) continue;
      const other = right.attrs[name];
      if (other === value) continue;
      changed = true;
      if (full) {
        copyAll();
        break;
      }
      diff.attrs[name] = value;
    }
    if (!changed) return false;
  }
  parent.children.push(diff);
  return true;
}

/** Whether the configuration sections differ (is_config_change: the patch then carries every version field). */
function configChanged(a: XmlElement, b: XmlElement): boolean {
  const ca = firstChild(a, 'configuration');
  const cb = firstChild(b, 'configuration');
  if (!ca || !cb) return ca !== cb;
  return writeElement(ca, { indentSpaces: 0 }) !== writeElement(cb, { indentSpaces: 0 });
}

/**
 * An attribute value as Pacemaker 2.1.5 writes it (crm_xml_escape): the five XML entities, a tab
 * as four spaces, a newline or return as `\n`/`\r`, other control characters and every byte of a
 * non-ASCII character in octal (`\NNN`, a byte above 127 as its sign-extended value).
 */
function pcmkEscape(v: string): string {
  if (!/[^ -~]|[<>"'&]/.test(v)) return v;
  let out = '';
  for (const byte of Buffer.from(v, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '<') out += '&lt;';
    else if (ch === '>') out += '&gt;';
    else if (ch === '"') out += '&quot;';
    else if (ch === "'") out += '&apos;';
    else if (ch === '&') out += '&amp;';
    else if (ch === '\t') out += '    ';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (byte === 0) continue;
    else if (byte < 0x20) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else if (byte > 0x7e) out += `\\${(byte > 0x7f ? (byte | 0xffffff00) >>> 0 : byte).toString(8)}`;
    else out += ch;
  }
  return out;
}

/**
 * An element as Pacemaker 2.1.5 writes it (pcmk__xml2text): `pretty` with two-space indents and
 * one node a line (dump_xml_formatted), else on one line (the digests). Text is written as it is.
 */
export function pcmkXml(el: XmlElement, pretty = true, skipAttr?: ReadonlySet<string>): string {
  const out: string[] = [];
  const nl = pretty ? '\n' : '';
  const walk = (n: XmlNode, depth: number): void => {
    const pad = pretty ? '  '.repeat(depth) : '';
    if (n.kind === 'comment') return void out.push(`${pad}<!--${n.text}-->${nl}`);
    if (n.kind === 'text') return void out.push(`${pad}${n.text}${nl}`);
    let open = `${pad}<${n.name}`;
    for (const [k, v] of Object.entries(n.attrs)) if (!skipAttr?.has(k)) open += ` ${k}="${pcmkEscape(v)}"`;
    if (n.children.length === 0) return void out.push(`${open}/>${nl}`);
    out.push(`${open}>${nl}`);
    for (const c of n.children) walk(c, depth + 1);
    out.push(`${pad}</${n.name}>${nl}`);
  };
  walk(el, 0);
  return out.join('');
}

/** The format 1 digest (calculate_xml_digest_v1): MD5 of " " + the element on one line + "\n", nothing filtered. */
export function digestV1(el: XmlElement): string {
  return createHash('md5').update(` ${pcmkXml(el, false)}\n`).digest('hex');
}

/** The format 1 patch `a` → `b` as crm_diff 2.1.5 writes it for documents older than feature set 3.0.8 (undefined: no change). */
export function diffV1(a: XmlElement, b: XmlElement): XmlElement | undefined {
  const removed = draft('diff-removed');
  const added = draft('diff-added');
  subtract(removed, a, b, false, 'removed:top');
  subtract(added, b, a, true, 'added:top');
  if (removed.children.length === 0 && added.children.length === 0) return undefined;
  // xml_repair_v1_diff: the version fields on both sides, and the target's root attributes.
  const config = configChanged(a, b);
  const cibOf = (side: Draft): Draft => {
    let c = side.children.find((x): x is Draft => isDraft(x) && x.name === 'cib');
    if (!c) side.children.push((c = draft('cib')));
    return c;
  };
  const rc = cibOf(removed);
  VFIELDS.forEach((f, i) => {
    const v = a.attrs[f];
    if (v === undefined) return;
    removed.attrs[f] = v;
    if (config || i === 2) rc.attrs[f] = v;
  });
  const ac = cibOf(added);
  for (const f of VFIELDS) if (b.attrs[f] !== undefined) added.attrs[f] = b.attrs[f]!;
  Object.assign(ac.attrs, b.attrs);
  const diff: Draft = { name: 'diff', attrs: { crm_feature_set: CRM_FEATURE_SET, format: '1' }, children: [removed, added] };
  return freeze(diff);
}

/** crm_diff -u on a format 1 patch (strip_patch_cib_version): no version fields on either side. */
function stripV1Versions(patch: XmlElement): XmlElement {
  const strip = (el: XmlElement): XmlElement => ({ ...el, attrs: Object.fromEntries(Object.entries(el.attrs).filter(([k]) => !(VFIELDS as readonly string[]).includes(k))) });
  return {
    ...patch,
    children: patch.children.map((side) => {
      if (side.kind !== 'element' || (side.name !== 'diff-removed' && side.name !== 'diff-added')) return side;
      const s = strip(side);
      const cibIdx = s.children.findIndex((c) => c.kind === 'element' && c.name === 'cib');
      return cibIdx < 0 ? s : { ...s, children: s.children.map((c, i) => (i === cibIdx ? strip(c as XmlElement) : c)) };
    }),
  };
}

/** A mutable copy of an element for applying a format 1 patch. */
interface MutEl {
  name: string;
  attrs: Record<string, string>;
  children: (MutEl | XmlComment | XmlText)[];
}
const thaw = (el: XmlElement): MutEl => ({ name: el.name, attrs: { ...el.attrs }, children: el.children.map((c) => (c.kind === 'element' ? thaw(c) : c)) });
const isMut = (n: MutEl | XmlComment | XmlText): n is MutEl => !('kind' in n);
function settle(el: MutEl): XmlElement {
  const attrs = { ...el.attrs };
  delete attrs[DIFF_MARKER];
  return { kind: 'element', name: el.name, attrs, children: el.children.map((c) => (isMut(c) ? settle(c) : c)) };
}
function matchMut(parent: MutEl | XmlElement, name: string, id: string | undefined): number {
  return parent.children.findIndex((c) => (c as { kind?: string }).kind !== 'comment' && (c as { kind?: string }).kind !== 'text' && (c as MutEl | XmlElement).name === name && (id === undefined || (c as MutEl | XmlElement).attrs['id'] === id));
}

/** __subtract_xml_object: drops what the removed side names (whole elements marked removed:top, else attributes). */
function subtractApply(parent: MutEl | undefined, target: MutEl, patch: XmlElement): void {
  if (target.name !== patch.name || target.attrs['id'] !== patch.attrs['id']) return;
  if (patch.attrs[DIFF_MARKER] === 'removed:top') {
    if (parent) parent.children.splice(parent.children.indexOf(target), 1);
    return;
  }
  for (const name of Object.keys(patch.attrs)) if (name !== 'id') delete target.attrs[name];
  for (const child of [...target.children]) {
    if (!isMut(child)) continue;
    const i = matchMut(patch, child.name, child.attrs['id']);
    if (i >= 0) subtractApply(target, child, patch.children[i] as XmlElement);
  }
}

/** __add_xml_object: adds what the added side has (whole elements marked added:top, else attributes, moved to the end). */
function addApply(parent: MutEl | undefined, target: MutEl | undefined, patch: XmlElement): void {
  if (target === undefined) {
    // Pacemaker only logs an element it cannot locate ("Could not locate: ...") and goes on.
    if (parent && patch.attrs[DIFF_MARKER] === 'added:top') parent.children.push(thaw(patch));
    return;
  }
  if (target.name !== patch.name || target.attrs['id'] !== patch.attrs['id']) return;
  for (const [name, value] of Object.entries(patch.attrs)) {
    delete target.attrs[name];
    target.attrs[name] = value;
  }
  for (const child of patch.children) {
    if (child.kind !== 'element') continue;
    const i = matchMut(target, child.name, child.attrs['id']);
    addApply(target, i >= 0 ? (target.children[i] as MutEl) : undefined, child);
  }
}

/** Applies a format 1 patch (xml_apply_patchset_v1); the version check is done by the caller. */
function applyV1(doc: XmlElement, patch: XmlElement): { ok: true; value: XmlElement } | { ok: false; message: string; exitCode: number } {
  const root = thaw(doc);
  const side = (name: string): XmlElement[] => {
    const s = patch.children.find((c): c is XmlElement => c.kind === 'element' && c.name === name);
    return s ? s.children.filter((c): c is XmlElement => c.kind === 'element') : [];
  };
  const removed = side('diff-removed');
  const added = side('diff-added');
  if (removed.length > 1 || added.length > 1) return { ok: false, message: 'Name not unique on network', exitCode: CRM_EX.error };
  if (removed[0]) subtractApply(undefined, root, removed[0]);
  if (added[0]) addApply(undefined, root, added[0]);
  return { ok: true, value: settle(root) };
}

interface DiffFlags {
  original?: string;
  originalString?: string;
  new?: string;
  newString?: string;
  patch?: string;
  stdin?: boolean;
  cib?: boolean;
  version?: boolean;
}

/**
 * The request of parsed flags, as crm_diff 2.1.5 reads them: the first XML from -O, else stdin
 * (-s), else -o; the second from -N, else stdin, else -p/-n (-p applies). A missing one is
 * reported as unparsable (exit 65), as crm_diff does.
 */
export function crmDiffRequest(f: DiffFlags): CrmDiffRequest {
  const original: XmlSource = f.originalString !== undefined ? { text: f.originalString } : f.stdin ? { stdin: true } : f.original !== undefined ? { file: f.original } : { text: '' };
  let second: XmlSource;
  if (f.newString !== undefined) second = { text: f.newString };
  // stdin was read to its end for the first XML: the second then gets nothing from it.
  else if (f.stdin) second = original.stdin ? { stdin: true, text: '' } : { stdin: true };
  else second = { file: f.patch ?? f.new ?? '' };
  return { original, ...(f.patch !== undefined ? { patch: second } : { next: second }), asCib: f.cib === true, noVersion: f.version === false };
}

export function registerCrmDiff(program: Command): void {
  program
    .command('crm_diff')
    .description('compare two CIBs (the patch between them) or apply a patch, as crm_diff does')
    .exitOverride()
    .option('-o, --original <FILE>', 'the original XML, from FILE')
    .option('-O, --original-string <STRING>', 'the original XML, given as a string')
    .option('-n, --new <FILE>', 'compare the original with the XML in FILE')
    .option('-N, --new-string <STRING>', 'compare the original with the XML given as a string')
    .option('-p, --patch <FILE>', 'apply the patch in FILE to the original')
    .option('-s, --stdin', 'read the XML from stdin')
    .option('-c, --cib', 'compare/patch the inputs as a CIB (digest, version check)')
    .option('-u, --no-version', 'leave the version details out of the patch')
    .option('-V, --verbose', 'more debug output (accepted; crm_diff logs it)', (_v: string, prev: number) => prev + 1, 0)
    .action((f: DiffFlags) => {
      const out = runCrmDiff(crmDiffRequest(f));
      process.stdout.write(out.stdout);
      process.stderr.write(out.stderr);
      process.exitCode = out.exitCode;
    });
}
