/**
 * The lossless XML tree every other part of the CIB package reads and writes.
 *
 * A CIB is kept as this tree, exactly as the user wrote it (element order, attribute order,
 * comments, elements and attributes paceline does not model). Typed views (`model.ts`) are read
 * from the tree; edits (cibadmin operations, patches) produce a new tree by copying the path to
 * the changed node and sharing everything else. Trees are never mutated after construction, so a
 * rejected change leaves the original exactly as it was, by construction.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

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

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  processEntities: true,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

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
      const text = String(body);
      if (text.trim() !== '') out.push({ kind: 'text', text });
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

/**
 * Parses XML text into a document. Malformed input throws XmlSyntaxError with line and column;
 * nothing else is thrown for bad input.
 */
export function parseXml(text: string): XmlDocument {
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) throw new XmlSyntaxError(valid.err.msg, valid.err.line, valid.err.col);
  const nodes: XmlNode[] = [];
  convert(parser.parse(text) as FxpNode[], nodes);
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
  return escapeAttrRe.test(value) ? value.replace(escapeAttrRe, (c) => attrEscapes[c]!) : value;
}

function escapeText(value: string): string {
  return value.replace(escapeTextRe, (c) => attrEscapes[c]!);
}

export interface WriteOptions {
  /** Indent nested elements by this many spaces; 0 writes one line per document. Default 2. */
  readonly indentSpaces?: number;
}

function writeNode(node: XmlNode, depth: number, indent: string, parts: string[]): void {
  const pad = indent === '' ? '' : indent.repeat(depth);
  const nl = indent === '' ? '' : '\n';
  if (node.kind === 'comment') {
    parts.push(`${pad}<!--${node.text}-->${nl}`);
    return;
  }
  if (node.kind === 'text') {
    parts.push(`${pad}${escapeText(node.text)}${nl}`);
    return;
  }
  let open = `${pad}<${node.name}`;
  for (const k in node.attrs) open += ` ${k}="${escapeAttr(node.attrs[k]!)}"`;
  if (node.children.length === 0) {
    parts.push(`${open}/>${nl}`);
    return;
  }
  parts.push(`${open}>${nl}`);
  for (const c of node.children) writeNode(c, depth + 1, indent, parts);
  parts.push(`${pad}</${node.name}>${nl}`);
}

/** Writes an element (and its subtree) as XML text. */
export function writeElement(el: XmlElement, options: WriteOptions = {}): string {
  const indent = ' '.repeat(options.indentSpaces ?? 2);
  const parts: string[] = [];
  writeNode(el, 0, indent, parts);
  return parts.join('');
}

/** Writes a whole document, with its comments around the root. */
export function writeXml(doc: XmlDocument, options: WriteOptions = {}): string {
  const indent = ' '.repeat(options.indentSpaces ?? 2);
  const parts: string[] = [];
  for (const c of doc.before) writeNode(c, 0, indent, parts);
  writeNode(doc.root, 0, indent, parts);
  for (const c of doc.after) writeNode(c, 0, indent, parts);
  return parts.join('');
}
