/**
 * The lossless XML tree every other part of the CIB package reads and writes.
 *
 * A CIB is kept as this tree, exactly as the user wrote it (element order, attribute order,
 * comments, elements and attributes paceline does not model). Typed views (`model.ts`) are read
 * from the tree; edits (cibadmin operations, patches) produce a new tree by copying the path to
 * the changed node and sharing everything else. Trees are never mutated after construction, so a
 * rejected change leaves the original exactly as it was, by construction.
 *
 * Parsing: a strict single-pass scanner reads well-formed XML straight into the tree (fast enough
 * for an 80 MB CIB with status in under a second); malformed input is reported with line and column
 * (fast-xml-parser's validator words the message where it finds the fault), and the rare constructs
 * the scanner leaves alone (a DOCTYPE) are read by fast-xml-parser. The tree shares no memory with
 * the parsed text (which can be freed), repeated attribute values are one string, and elements
 * without children share one empty array: a large CIB's tree is about half the size it would be
 * otherwise. Writing: two-space indentation, one element per line, attributes in their order, `"`
 * quotes; unchanged parsed elements skip the escaping checks.
 */
import { createRequire } from 'node:module';
import type * as Fxp from 'fast-xml-parser';

export interface XmlElement {
  readonly kind: 'element';
  readonly name: string;
  /** Attributes in document order (object key order is insertion order for string keys). */
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlNode[];
}

export interface XmlComment {
  readonly kind: 'comment';
  readonly text: string;
}

/** Non-whitespace character data. CIBs carry almost none; it is kept so nothing is lost. */
export interface XmlText {
  readonly kind: 'text';
  readonly text: string;
}

export type XmlNode = XmlElement | XmlComment | XmlText;

/** A document: comments before and after the root are kept (cib-examples carry header comments). */
export interface XmlDocument {
  readonly before: readonly XmlComment[];
  readonly root: XmlElement;
  readonly after: readonly XmlComment[];
}

export class XmlSyntaxError extends Error {
  readonly code = 'xml-syntax';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} (line ${line}, column ${column})`);
    this.name = 'XmlSyntaxError';
  }
}

export function element(
  name: string,
  attrs: Readonly<Record<string, string>> = {},
  children: readonly XmlNode[] = [],
): XmlElement {
  return { kind: 'element', name, attrs, children };
}

/** Characters the writer escapes in attribute values. */
const needsAttrEscapeRe = /[&<>"\n\r\t]/;

/**
 * An element read by the fast parser. It is an ordinary XmlElement (same enumerable fields, equal
 * under deep equality), and it remembers whether its attribute values were read verbatim (no
 * reference decoded, nothing the writer escapes), so writing a large unchanged tree skips the
 * escaping checks. It keeps no source text: the tree holds its own strings, so the parsed text can
 * be freed. Copies made by edits (`{ ...el, attrs }`) are plain objects without the mark: they are
 * written with every value checked.
 */
class ParsedElement implements XmlElement {
  readonly kind = 'element' as const;
  readonly #verbatim: boolean;

  constructor(
    readonly name: string,
    readonly attrs: Readonly<Record<string, string>>,
    readonly children: readonly XmlNode[],
    verbatim: boolean,
  ) {
    this.#verbatim = verbatim;
  }

  /** Whether `el` was parsed with attribute values that need no escaping. */
  static isVerbatim(el: XmlElement): boolean {
    return #verbatim in el && el.#verbatim;
  }
}

/** Child elements of `el`, optionally only those named `name`. */
export function childElements(el: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (c.kind === 'element' && (name === undefined || c.name === name)) out.push(c);
  return out;
}

/** The first child element named `name`, or undefined when there is none. */
export function firstChild(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (c.kind === 'element' && c.name === name) return c;
  return undefined;
}

/**
 * fast-xml-parser, loaded when first needed (malformed XML, a DOCTYPE): most processes never need
 * it. Its one-file CommonJS build loads in a few milliseconds, where its ES modules (some forty
 * files) cost about 30 ms of start-up to every process that reads a CIB.
 */
let fxp: FastXmlParser | undefined;

interface FastXmlParser {
  readonly module: typeof Fxp;
  readonly parser: Fxp.XMLParser;
}

function fastXmlParser(): FastXmlParser {
  if (fxp === undefined) {
    const module = createRequire(import.meta.url)('fast-xml-parser') as typeof Fxp;
    fxp = { module, parser: new module.XMLParser(parserOptions) };
  }
  return fxp;
}

const parserOptions: Fxp.X2jOptions = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  // Not true: fast-xml-parser would trim attribute values too (" state " in op-force-restart).
  // Text is trimmed in convert() instead.
  trimValues: false,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
};

type FxpNode = Record<string, unknown>;

function convert(nodes: FxpNode[], out: XmlNode[]): void {
  for (const n of nodes) {
    let name: string | undefined;
    for (const k in n) {
      if (k !== ':@') {
        name = k;
        break;
      }
    }
    if (name === undefined) continue;
    const body = n[name] as FxpNode[] | string;
    if (name === '#text') {
      const text = String(body).trim();
      if (text !== '') out.push({ kind: 'text', text });
    } else if (name === '#comment') {
      const parts = body as FxpNode[];
      const text = parts.map((p) => String(p['#text'] ?? '')).join('');
      out.push({ kind: 'comment', text });
    } else if (name === '#cdata') {
      const parts = body as FxpNode[];
      out.push({ kind: 'text', text: parts.map((p) => String(p['#text'] ?? '')).join('') });
    } else {
      const attrs = (n[':@'] as Record<string, string> | undefined) ?? {};
      const children: XmlNode[] = [];
      convert(body as FxpNode[], children);
      out.push({ kind: 'element', name, attrs, children });
    }
  }
}

/** Builds the document from a parsed top-level node list; rejects a second root or stray text. */
function toDocument(nodes: readonly XmlNode[]): XmlDocument {
  const before: XmlComment[] = [];
  const after: XmlComment[] = [];
  let root: XmlElement | undefined;
  for (const n of nodes) {
    if (n.kind === 'element') {
      if (root) throw new XmlSyntaxError(`a second root element <${n.name}>`, 1, 1);
      root = n;
    } else if (n.kind === 'comment') (root ? after : before).push(n);
    else throw new XmlSyntaxError('text outside the root element', 1, 1);
  }
  if (!root) throw new XmlSyntaxError('no root element', 1, 1);
  return { before, root, after };
}

/**
 * Parses XML text into a document. Malformed input throws XmlSyntaxError with line and column;
 * nothing else is thrown for bad input.
 *
 * Well-formed input takes the fast path (`fastParse`, a strict single-pass scanner: a 30-80 MB CIB
 * with status in well under a second). Anything it does not accept goes to fast-xml-parser: its
 * validator reports the line and column of malformed XML, and its parser reads the rare
 * well-formed constructs the scanner leaves to it (a DOCTYPE).
 */
export function parseXml(text: string): XmlDocument {
  const fast = fastParse(text);
  if (Array.isArray(fast)) return toDocument(fast);
  if (fast.kind === 'unsupported') return parseXmlReference(text);
  // Malformed: prefer fast-xml-parser's message and position; it is more lenient than XML (a bare
  // '&', '<' in an attribute value), so when it finds nothing, report what the scanner found.
  const valid = fastXmlParser().module.XMLValidator.validate(text, { allowBooleanAttributes: false });
  // Except for elements left open at the end: fast-xml-parser names them as a JSON array at line
  // 1, column 1 ("Invalid '[ "cib", "a"]' found."); the scanner names the innermost and where it is.
  if (valid !== true && !/^Invalid '\[/.test(valid.err.msg)) throw new XmlSyntaxError(valid.err.msg, valid.err.line ?? 1, valid.err.col ?? 1);
  const { line, column } = lineColumn(text, fast.offset);
  throw new XmlSyntaxError(fast.message, line, column);
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * fast-xml-parser alone: validation (line and column for malformed XML), then its parser.
 * `parseXml` falls back to it for whatever its fast scanner does not accept; tests compare the two.
 * Unlike the fast path it keeps character references (`&#10;`) undecoded and does not normalize
 * whitespace in attribute values (fast-xml-parser's behaviour with htmlEntities off).
 */
export function parseXmlReference(text: string): XmlDocument {
  const valid = fastXmlParser().module.XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) throw new XmlSyntaxError(valid.err.msg, valid.err.line ?? 1, valid.err.col ?? 1);
  const nodes: XmlNode[] = [];
  convert(fastXmlParser().parser.parse(text) as FxpNode[], nodes);
  return toDocument(nodes);
}

// ---------------------------------------------------------------------------------------------
// The fast path: a strict scanner for the XML that CIBs are made of
// ---------------------------------------------------------------------------------------------

const predefinedEntities: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const entityRe = /&([^;&]*);?/g;

/**
 * Replaces entity and character references; undefined when one is unknown or malformed (the caller
 * then leaves the document to the slow path, which reports or handles it).
 */
function decodeEntities(raw: string): string | undefined {
  let bad = false;
  const out = raw.replace(entityRe, (whole, name: string) => {
    if (!whole.endsWith(';')) {
      bad = true;
      return whole;
    }
    const named = predefinedEntities[name];
    if (named !== undefined) return named;
    let code = Number.NaN;
    if (/^#[0-9]+$/.test(name)) code = Number(name.slice(1));
    else if (/^#x[0-9a-fA-F]+$/.test(name)) code = Number.parseInt(name.slice(2), 16);
    if (!(code >= 1 && code <= 0x10ffff) || (code >= 0xd800 && code <= 0xdfff)) {
      bad = true;
      return whole;
    }
    return String.fromCodePoint(code);
  });
  return bad ? undefined : out;
}

const attrWhitespaceRe = /\r\n|[\t\n\r]/g;
const lineEndRe = /\r\n?/g;

/** An attribute value as XML defines it: literal tabs and line ends become spaces, then references. */
function attrValue(raw: string): string | undefined {
  if (raw.includes('<')) return undefined;
  const normalized = attrWhitespaceRe.test(raw) ? raw.replace(attrWhitespaceRe, ' ') : raw;
  attrWhitespaceRe.lastIndex = 0;
  return normalized.includes('&') ? decodeEntities(normalized) : normalized;
}

/** Character data between tags: trimmed (the tree keeps no layout), line ends normalized. */
function textValue(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (trimmed.includes('>') && trimmed.includes(']]>')) return undefined;
  const normalized = trimmed.includes('\r') ? trimmed.replace(lineEndRe, '\n') : trimmed;
  return normalized.includes('&') ? decodeEntities(normalized) : normalized;
}

function isWhitespace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** Characters that end a name: whitespace, '/', '>', '=', quotes, '<'. */
function endsName(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13 || c === 47 || c === 62 || c === 61 || c === 34 || c === 39 || c === 60;
}

/** XML name start: letter, '_', ':' or any non-ASCII character. */
function startsName(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c > 127;
}

interface OpenElement {
  readonly name: string;
  readonly attrs: Record<string, string>;
  /** Where this element's children start in the scanner's shared child stack. */
  readonly childrenStart: number;
  readonly verbatim: boolean;
}

/** The children of every element without any: one shared frozen array instead of one per element. */
const noChildren: readonly XmlNode[] = Object.freeze([]);

/** Why the scanner stopped: malformed XML (with the offset), or a construct it leaves to fast-xml-parser. */
type ScanFailure = { readonly kind: 'malformed'; readonly message: string; readonly offset: number } | { readonly kind: 'unsupported' };

function malformed(message: string, offset: number): ScanFailure {
  return { kind: 'malformed', message, offset };
}

const unsupported: ScanFailure = { kind: 'unsupported' };

/**
 * The attribute names and values of the last element read with one name, in order. A CIB repeats
 * itself (thousands of `<lrm_rsc_op>` with the same attributes and many equal values): the next
 * element with that name reuses these strings when its source text matches, so the tree holds one
 * copy of "monitor" or "do_update_resource" instead of one per element, and equal names are not
 * sliced and re-interned. A value is kept only when it was read verbatim (nothing decoded).
 */
interface AttrMemo {
  /** The element name, as first read (later elements with this name share the string). */
  readonly name: string;
  readonly names: string[];
  readonly values: (string | undefined)[];
}

/** The text a scanner is reading and its parse's memos (nothing is kept between parses). */
interface Scan {
  readonly text: string;
  /** Element name -> the memo of the last element with that name. */
  readonly memos: Map<string, AttrMemo>;
}

/** One pass over the whole of `text` (see `FastScanner`). Never throws. */
function fastParse(text: string): XmlNode[] | ScanFailure {
  const scanner = new FastScanner();
  return scanner.feed(text, true) ?? scanner.topLevel();
}

/**
 * The fast path as a resumable scan: text arrives in one or more pieces and the tree is built
 * directly, stopping at the first thing the scanner does not accept. Never throws.
 *
 * A construct (tag, comment, text run) is only taken when the text shows its end ('>', '-->', the
 * next '<'), so success never depends on text not yet seen; a construct that does not scan in a
 * piece that is not the last may just be cut off, so it is carried into the next piece and scanned
 * again there. In the last piece a failure is final (malformed, with the offset in that text, or
 * a construct left to fast-xml-parser). Children of open elements are collected on one shared
 * stack and copied out, exactly sized, when their element closes (no per-element growth slack);
 * elements without children share one array.
 */
class FastScanner {
  /** Element name -> the memo of the last element with that name (see AttrMemo). */
  private readonly memos = new Map<string, AttrMemo>();
  private readonly top: XmlNode[] = [];
  private readonly pending: XmlNode[] = [];
  private readonly stack: OpenElement[] = [];
  private rootSeen = false;
  private started = false;
  /** Text from the first construct the last piece did not complete. */
  private carry = '';
  /** The text `feed` is scanning. */
  private scan: Scan = { text: '', memos: this.memos };

  /** Characters carried over from the last piece (an incomplete construct). */
  get carriedChars(): number {
    return this.carry.length;
  }

  /** The top-level nodes; call after a last piece that was accepted. */
  topLevel(): XmlNode[] {
    return this.top;
  }

  /**
   * Scans `piece` after the text carried from the previous one. Returns undefined when everything
   * so far is accepted (or, unless `last`, may still be), else why the scanner stops.
   *
   * Outside the last piece only the text up to the last '>' is scanned and the rest is carried: the
   * scanner then rarely reads past the end of its text (each such read would throw the optimized
   * scanner back to the interpreter: "out of bounds"). The scanned text is one flat string, joined
   * from the carried text and the piece, so the scanner reads no string made of parts.
   */
  feed(piece: string, last: boolean): ScanFailure | undefined {
    const end = last ? piece.length : piece.lastIndexOf('>') + 1;
    if (end === 0) {
      this.carry = [this.carry, piece].join('');
      return undefined;
    }
    const head = end === piece.length ? piece : piece.slice(0, end);
    const rest = end === piece.length ? '' : piece.slice(end);
    const text = this.carry === '' ? head : [this.carry, head].join('');
    this.carry = rest;
    this.scan = { text, memos: this.memos };
    let pos = 0;
    if (!this.started) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) pos = 1;
    }
    while (pos < text.length) {
      const next = this.construct(text, pos, last);
      if (typeof next === 'number') {
        pos = next;
        continue;
      }
      if (last) return next;
      this.carry = text.slice(pos) + rest;
      return undefined;
    }
    if (!last) return undefined;
    const stack = this.stack;
    if (stack.length > 0) return malformed(`<${stack[stack.length - 1]!.name}> is not closed`, text.length);
    if (!this.rootSeen) return malformed('no root element', text.length);
    return undefined;
  }

  /**
   * Takes the text run at `pos` and the construct after it; returns the offset after them, or why
   * not (then nothing of either was taken). Outside the last piece, a text run with no '<' after it
   * is not taken: it may go on in the next piece.
   */
  private construct(text: string, pos: number, last: boolean): number | ScanFailure {
    const lt = text.indexOf('<', pos);
    // Not taken yet (the caller carries it): the run may go on in the next piece.
    if (lt === -1 && !last) return unsupported;
    const textEnd = lt === -1 ? text.length : lt;
    const hasText = textEnd > pos && !isBlank(text, pos, textEnd);
    if (hasText) {
      if (this.stack.length === 0) return malformed('text outside the root element', pos);
      const value = textValue(text.slice(pos, textEnd));
      if (value === undefined) return malformed('bad entity or character reference in text', pos);
      this.pending.push({ kind: 'text', text: detached(value) });
    }
    if (lt === -1) return text.length;
    const taken = this.markup(text, lt);
    // Nothing is taken unless both are: the run goes back with the construct that failed.
    if (typeof taken !== 'number' && hasText) this.pending.pop();
    return taken;
  }

  /** The tag, comment, CDATA section or processing instruction at `lt`. */
  private markup(text: string, lt: number): number | ScanFailure {
    const stack = this.stack;
    const pending = this.pending;
    const c = text.charCodeAt(lt + 1);
    if (c === 47) {
      // </name>
      const gt = text.indexOf('>', lt + 2);
      if (gt === -1) return malformed('unterminated end tag', lt);
      const open = stack[stack.length - 1];
      if (!open || !endTagMatches(text, lt + 2, gt, open.name)) {
        const name = text.slice(lt + 2, gt).trimEnd();
        if (!open) return malformed(`end tag </${name}> without a start tag`, lt);
        return malformed(`end tag </${name}> does not match <${open.name}>`, lt);
      }
      stack.pop();
      const children = pending.length === open.childrenStart ? noChildren : pending.slice(open.childrenStart);
      pending.length = open.childrenStart;
      const el: XmlElement = new ParsedElement(open.name, open.attrs, children, open.verbatim);
      (stack.length > 0 ? pending : this.top).push(el);
      return gt + 1;
    }
    if (c === 33) return scanMarkup(text, lt, stack.length > 0, stack.length > 0 ? pending : this.top);
    if (c === 63) {
      // <?xml ...?> and other processing instructions are not kept.
      const close = text.indexOf('?>', lt + 2);
      if (close === -1) return malformed('unterminated processing instruction', lt);
      return close + 2;
    }
    if (stack.length === 0 && this.rootSeen) return malformed('a second root element', lt);
    const next = scanStartTag(this.scan, lt);
    if ('kind' in next) return next;
    if (stack.length === 0) this.rootSeen = true;
    if (next.selfClosing) {
      (stack.length > 0 ? pending : this.top).push(new ParsedElement(next.name, next.attrs, noChildren, next.verbatim));
    } else {
      stack.push({ name: next.name, attrs: next.attrs, childrenStart: pending.length, verbatim: next.verbatim });
    }
    return next.pos;
  }
}

/**
 * Longest construct (a tag, comment or text run, with what was carried before it) that
 * `parseXmlPieces` carries from one piece into the next; a longer one (or malformed XML, which
 * would be carried to the end) ends streaming and the document is parsed whole.
 */
const carriedCharsMax = 1 << 20;

/**
 * `parseXml` over text delivered in pieces (a file read in chunks), so the whole text is never
 * held at once: a large CIB costs its tree, not its tree and its text (80 MB for 32 nodes x 4000
 * resources with status). Same result and same errors as `parseXml` on the joined pieces.
 *
 * `pieces` is called once for the streamed pass, and once more only when that pass does not accept
 * the document (malformed XML, a DOCTYPE, a construct over a megabyte): the pieces are then joined
 * and given to `parseXml`. Pieces may split the text anywhere.
 */
export function parseXmlPieces(pieces: () => Iterable<string>): XmlDocument {
  const scanner = new FastScanner();
  let previous: string | undefined;
  let accepted = true;
  for (const piece of pieces()) {
    if (previous !== undefined && (scanner.feed(previous, false) !== undefined || scanner.carriedChars > carriedCharsMax)) {
      accepted = false;
      break;
    }
    previous = piece;
  }
  if (accepted && scanner.feed(previous ?? '', true) === undefined) return toDocument(scanner.topLevel());
  return parseXml([...pieces()].join(''));
}

/**
 * Shortest substring V8 shares with its source (a "sliced string" holding a pointer to the whole
 * source); shorter ones are copied.
 */
const sharedSubstringMinChars = 13;

/**
 * `s` as a string of its own. A long substring of the parsed text would keep the whole text (80 MB
 * for a large CIB with status) alive as long as the tree; a concatenation, once a character is read
 * from it, is flattened into one new string. Measured on 32 x 4000: the tree then no longer holds
 * the source, for about 0.1 µs per long value.
 */
function detached(s: string): string {
  if (s.length < sharedSubstringMinChars) return s;
  const joined = s[0]! + s.slice(1);
  // Reading a character flattens `joined`; the comparison is never true (a code unit is not NaN)
  // and keeps the read.
  return Number.isNaN(joined.charCodeAt(0)) ? s : joined;
}

/** Whether text[start, end) is only XML white space (what indentation between tags is). */
function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (!isWhitespace(text.charCodeAt(i))) return text.slice(start, end).trim() === '';
  return true;
}

/**
 * Whether the end tag whose name starts at `start` and whose '>' is at `gt` closes `name` (the name,
 * then white space as `trimEnd` removes it), without slicing the name in the usual case.
 */
function endTagMatches(text: string, start: number, gt: number, name: string): boolean {
  if (text.startsWith(name, start)) {
    let i = start + name.length;
    while (i < gt && isWhitespace(text.charCodeAt(i))) i++;
    if (i === gt) return true;
  }
  return text.slice(start, gt).trimEnd() === name;
}

/** `<!-- -->` and `<![CDATA[ ]]>` at `lt`: appends to `children`, returns the next offset. */
function scanMarkup(text: string, lt: number, inRoot: boolean, children: XmlNode[]): number | ScanFailure {
  if (text.startsWith('<!--', lt)) {
    const close = text.indexOf('-->', lt + 4);
    if (close === -1) return malformed('unterminated comment', lt);
    const body = text.slice(lt + 4, close);
    if (body.includes('--')) return unsupported;
    children.push({ kind: 'comment', text: detached(body.includes('\r') ? body.replace(lineEndRe, '\n') : body) });
    return close + 3;
  }
  if (text.startsWith('<![CDATA[', lt)) {
    if (!inRoot) return malformed('CDATA outside the root element', lt);
    const close = text.indexOf(']]>', lt + 9);
    if (close === -1) return malformed('unterminated CDATA section', lt);
    const body = text.slice(lt + 9, close);
    children.push({ kind: 'text', text: detached(body.includes('\r') ? body.replace(lineEndRe, '\n') : body) });
    return close + 3;
  }
  return unsupported;
}

interface StartTag {
  readonly name: string;
  readonly attrs: Record<string, string>;
  readonly selfClosing: boolean;
  readonly pos: number;
  readonly verbatim: boolean;
}

/** Scans `<name attr="v" ...>` or `.../>` at `lt`. */
function scanStartTag(scan: Scan, lt: number): StartTag | ScanFailure {
  const text = scan.text;
  if (!startsName(text.charCodeAt(lt + 1))) return malformed('invalid element name', lt + 1);
  let p = lt + 2;
  while (p < text.length && !endsName(text.charCodeAt(p))) p++;
  let name = text.slice(lt + 1, p);
  let memo = scan.memos.get(name);
  if (memo === undefined) {
    name = detached(name);
    memo = { name, names: [], values: [] };
    scan.memos.set(name, memo);
  } else {
    // The key the memo was stored under: one string per element name in the tree.
    name = memo.name;
  }
  const attrs: Record<string, string> = {};
  // Whether every value so far was read verbatim and needs no escaping.
  let verbatim = true;
  for (let index = 0; ; index++) {
    const before = p;
    while (p < text.length && isWhitespace(text.charCodeAt(p))) p++;
    const c = text.charCodeAt(p);
    if (c === 62 || c === 47) {
      if (c === 62) return { name, attrs, selfClosing: false, pos: p + 1, verbatim };
      if (text.charCodeAt(p + 1) !== 62) return malformed(`expected '>' after '/' in <${name}>`, p);
      return { name, attrs, selfClosing: true, pos: p + 2, verbatim };
    }
    if (p >= text.length) return malformed(`unterminated start tag <${name}>`, lt);
    if (p === before || !startsName(c)) return malformed(`invalid attribute in <${name}>`, p);
    const nameStart = p;
    const attrName = attrNameAt(text, nameStart, memo, index);
    p = nameStart + attrName.length;
    while (isWhitespace(text.charCodeAt(p))) p++;
    if (text.charCodeAt(p) !== 61) return malformed(`attribute ${attrName} of <${name}> has no value`, nameStart);
    p++;
    while (isWhitespace(text.charCodeAt(p))) p++;
    const quote = text.charCodeAt(p);
    if (quote !== 34 && quote !== 39) return malformed(`value of attribute ${attrName} is not quoted`, p);
    const close = text.indexOf(quote === 34 ? '"' : "'", p + 1);
    if (close === -1) return malformed(`unterminated value of attribute ${attrName}`, p);
    const remembered = memo.values[index];
    let value: string | undefined;
    if (remembered !== undefined && remembered.length === close - p - 1 && text.startsWith(remembered, p + 1)) {
      // Same text as a verbatim value: nothing to decode, nothing to escape.
      value = remembered;
    } else {
      const raw = text.slice(p + 1, close);
      // Most values need nothing: one test instead of four scans.
      if (needsAttrEscapeRe.test(raw)) {
        verbatim = false;
        const decoded = attrValue(raw);
        value = decoded === undefined ? undefined : detached(decoded);
        memo.values[index] = undefined;
      } else {
        value = detached(raw);
        memo.values[index] = value;
      }
      if (value === undefined) return malformed(`'<' or a bad reference in the value of attribute ${attrName}`, p + 1);
    }
    if (attrName === '__proto__') return unsupported;
    if (Object.prototype.hasOwnProperty.call(attrs, attrName)) return malformed(`duplicate attribute ${attrName} in <${name}>`, nameStart);
    attrs[attrName] = value;
    p = close + 1;
  }
}

/**
 * The attribute name starting at `start`: the memo's name at `index` when the text has it (no new
 * string), else the name read from the text, which then replaces the memo's (and its value).
 */
function attrNameAt(text: string, start: number, memo: AttrMemo, index: number): string {
  const known = memo.names[index];
  if (known !== undefined && text.startsWith(known, start) && endsName(text.charCodeAt(start + known.length))) return known;
  let p = start;
  while (p < text.length && !endsName(text.charCodeAt(p))) p++;
  const attrName = text.slice(start, p);
  memo.names[index] = attrName;
  memo.values[index] = undefined;
  return attrName;
}

const escapeAttrRe = /[&<>"\n\r\t]/g;
const escapeTextRe = /[&<>]/g;
const attrEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\n': '&#10;',
  '\r': '&#13;',
  '\t': '&#9;',
};

export function escapeAttr(value: string): string {
  return needsAttrEscapeRe.test(value) ? value.replace(escapeAttrRe, (c) => attrEscapes[c]!) : value;
}

function escapeText(value: string): string {
  return value.replace(escapeTextRe, (c) => attrEscapes[c]!);
}

export interface WriteOptions {
  /** Indent nested elements by this many spaces; 0 writes one line per document. Default 2. */
  readonly indentSpaces?: number;
}

/** Characters collected before they are encoded into the byte buffer (one encode call per batch). */
const pendingCharsMax = 16_384;
/** First buffer chunk; later chunks double, up to `chunkBytesMax`. Small documents stay cheap. */
const chunkBytesMin = 16_384;
const chunkBytesMax = 4 << 20;

/**
 * Writes small strings into a short-lived batch that is encoded into byte chunks, and decodes once
 * at the end: for large CIBs this avoids millions of long-lived string pieces (and the garbage
 * collection they cost) as well as re-copying a growing buffer. `pads[d]` caches the indentation
 * for depth d.
 */
class Writer {
  private readonly chunks: Buffer[] = [];
  private chunk = Buffer.allocUnsafe(chunkBytesMin);
  private used = 0;
  private pending = '';
  private readonly pads: string[] = [];
  /** ` name="` for each attribute name written so far (a CIB has a few dozen names). */
  private readonly attrOpeners = new Map<string, string>();
  private readonly nl: string;

  constructor(private readonly indent: string) {
    this.nl = indent === '' ? '' : '\n';
  }

  private put(s: string): void {
    this.pending += s;
    if (this.pending.length >= pendingCharsMax) this.flush();
  }

  private flush(): void {
    const s = this.pending;
    if (s === '') return;
    this.pending = '';
    const maxBytes = s.length * 3;
    if (this.used + maxBytes > this.chunk.length) {
      if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
      this.chunk = Buffer.allocUnsafe(Math.max(maxBytes, Math.min(this.chunk.length * 2, chunkBytesMax)));
      this.used = 0;
    }
    this.used += this.chunk.write(s, this.used);
  }

  text(): string {
    if (this.chunks.length === 0 && this.used === 0) return this.pending;
    this.flush();
    this.chunks.push(this.chunk.subarray(0, this.used));
    return Buffer.concat(this.chunks).toString('utf8');
  }

  private pad(depth: number): string {
    let p = this.pads[depth];
    if (p === undefined) {
      p = this.indent.repeat(depth);
      this.pads[depth] = p;
    }
    return p;
  }

  private attrOpener(name: string): string {
    let opener = this.attrOpeners.get(name);
    if (opener === undefined) {
      opener = ` ${name}="`;
      this.attrOpeners.set(name, opener);
    }
    return opener;
  }

  node(node: XmlNode, depth: number): void {
    const pad = this.pad(depth);
    if (node.kind === 'comment') {
      this.put(`${pad}<!--${node.text}-->${this.nl}`);
      return;
    }
    if (node.kind === 'text') {
      this.put(`${pad}${escapeText(node.text)}${this.nl}`);
      return;
    }
    let open = `<${node.name}`;
    const attrs = node.attrs;
    if (ParsedElement.isVerbatim(node)) {
      for (const k in attrs) open += `${this.attrOpener(k)}${attrs[k]!}"`;
    } else {
      for (const k in attrs) {
        const v = attrs[k]!;
        open += needsAttrEscapeRe.test(v) ? ` ${k}="${escapeAttr(v)}"` : ` ${k}="${v}"`;
      }
    }
    const children = node.children;
    if (children.length === 0) {
      this.put(`${pad}${open}/>${this.nl}`);
      return;
    }
    this.put(`${pad}${open}>${this.nl}`);
    for (let i = 0; i < children.length; i++) this.node(children[i]!, depth + 1);
    this.put(`${pad}</${node.name}>${this.nl}`);
  }
}

/** Writes an element (and its subtree) as XML text. */
export function writeElement(el: XmlElement, options: WriteOptions = {}): string {
  const w = new Writer(' '.repeat(options.indentSpaces ?? 2));
  w.node(el, 0);
  return w.text();
}

/** Writes a whole document, with its comments around the root. */
export function writeXml(doc: XmlDocument, options: WriteOptions = {}): string {
  const w = new Writer(' '.repeat(options.indentSpaces ?? 2));
  for (const c of doc.before) w.node(c, 0);
  w.node(doc.root, 0);
  for (const c of doc.after) w.node(c, 0);
  return w.text();
}
