/**
 * The crm shell's working tree: a small mutable element tree used while one command is turned
 * into XML (crmsh builds lxml elements the same way), converted from and to the immutable
 * `@paceline/cib` XmlElement at the edges. Attribute order is insertion order, and setting an
 * existing attribute keeps its place, as lxml does, so generated XML reads like crmsh's.
 */
import { element, type XmlElement, type XmlNode } from '@paceline/cib';

export interface CNode {
  tag: string;
  attrs: Map<string, string>;
  children: CNode[];
  /** Set on comment nodes (tag '#comment'). */
  text?: string;
}

export function cnode(tag: string, attrs: Record<string, string> = {}, children: CNode[] = []): CNode {
  return { tag, attrs: new Map(Object.entries(attrs)), children };
}

export function isComment(n: CNode): boolean {
  return n.tag === '#comment';
}

export function elementsOf(n: CNode, tag?: string): CNode[] {
  return n.children.filter((c) => !isComment(c) && (tag === undefined || c.tag === tag));
}

export function firstOf(n: CNode, tag: string): CNode | undefined {
  return n.children.find((c) => c.tag === tag);
}

/** Adds a child element and returns it. */
export function addChild(parent: CNode, tag: string, attrs: Record<string, string> = {}): CNode {
  const c = cnode(tag, attrs);
  parent.children.push(c);
  return c;
}

export function fromXml(el: XmlElement): CNode {
  const children: CNode[] = [];
  for (const c of el.children) {
    if (c.kind === 'element') children.push(fromXml(c));
    else if (c.kind === 'comment') children.push({ tag: '#comment', attrs: new Map(), children: [], text: c.text });
  }
  return { tag: el.name, attrs: new Map(Object.entries(el.attrs)), children };
}

export function toXml(n: CNode): XmlElement {
  const children: XmlNode[] = n.children.map((c) =>
    isComment(c) ? { kind: 'comment' as const, text: c.text ?? '' } : toXml(c),
  );
  return element(n.tag, Object.fromEntries(n.attrs), children);
}

export function cloneNode(n: CNode): CNode {
  return { tag: n.tag, attrs: new Map(n.attrs), children: n.children.map(cloneNode), ...(n.text !== undefined ? { text: n.text } : {}) };
}

/** Depth-first walk over elements (comments skipped), parents before children. */
export function* walk(n: CNode): Generator<CNode> {
  if (isComment(n)) return;
  yield n;
  for (const c of n.children) yield* walk(c);
}

/** The parent of `target` inside `root`, or undefined. */
export function parentOf(root: CNode, target: CNode): CNode | undefined {
  for (const n of walk(root)) if (n.children.includes(target)) return n;
  return undefined;
}
