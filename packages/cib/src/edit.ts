/**
 * Path-copying edits of the immutable XML tree.
 *
 * A location is the list of child indices from the root (`[]` is the root itself). Each edit
 * copies the elements on the path to the changed node and shares every other subtree, so the
 * tree passed in is never touched and unchanged parts keep their identity (cheap to compare).
 */
import type { XmlElement, XmlNode } from './xml.js';

/** Child indices from the root to a node; `[]` is the root. */
export type NodePath = readonly number[];

/** The node at `path`, or undefined when the path leads nowhere. */
export function nodeAt(root: XmlElement, path: NodePath): XmlNode | undefined {
  let cur: XmlNode = root;
  for (const i of path) {
    if (cur.kind !== 'element') return undefined;
    const next: XmlNode | undefined = cur.children[i];
    if (!next) return undefined;
    cur = next;
  }
  return cur;
}

/** The element at `path`; undefined when absent or not an element. */
export function elementAt(root: XmlElement, path: NodePath): XmlElement | undefined {
  const n = nodeAt(root, path);
  return n?.kind === 'element' ? n : undefined;
}

/**
 * Rebuilds the path from the root to the element at `path`, replacing that element with
 * `update(element)`. Returns `root` itself when `update` returns the same element.
 */
export function updateAt(root: XmlElement, path: NodePath, update: (el: XmlElement) => XmlElement): XmlElement {
  if (path.length === 0) return update(root);
  const [head, ...rest] = path as [number, ...number[]];
  const child = root.children[head];
  if (!child || child.kind !== 'element') throw new Error(`updateAt: no element at child ${head} of <${root.name}>`);
  const next = updateAt(child, rest, update);
  if (next === child) return root;
  const children = root.children.slice();
  children[head] = next;
  return { ...root, children };
}

/** Replaces the children of the element at `path`. */
export function setChildrenAt(root: XmlElement, path: NodePath, children: readonly XmlNode[]): XmlElement {
  return updateAt(root, path, (el) => ({ ...el, children }));
}

/** Removes the node at `path` (not the root). */
export function removeAt(root: XmlElement, path: NodePath): XmlElement {
  if (path.length === 0) throw new Error('removeAt: cannot remove the root');
  const index = path[path.length - 1]!;
  return updateAt(root, path.slice(0, -1), (parent) => ({
    ...parent,
    children: parent.children.filter((_, i) => i !== index),
  }));
}

/** Inserts `node` as child number `index` of the element at `parentPath` (clamped to the end). */
export function insertAt(root: XmlElement, parentPath: NodePath, index: number, node: XmlNode): XmlElement {
  return updateAt(root, parentPath, (parent) => {
    const children = parent.children.slice();
    children.splice(Math.max(0, Math.min(index, children.length)), 0, node);
    return { ...parent, children };
  });
}

/** Appends `node` as the last child of the element at `parentPath`. */
export function appendAt(root: XmlElement, parentPath: NodePath, node: XmlNode): XmlElement {
  return updateAt(root, parentPath, (parent) => ({ ...parent, children: [...parent.children, node] }));
}

/** Replaces the node at `path` (not the root) with `node`. */
export function replaceAt(root: XmlElement, path: NodePath, node: XmlNode): XmlElement {
  if (path.length === 0) {
    if (node.kind !== 'element') throw new Error('replaceAt: the root must stay an element');
    return node;
  }
  const index = path[path.length - 1]!;
  return updateAt(root, path.slice(0, -1), (parent) => {
    const children = parent.children.slice();
    children[index] = node;
    return { ...parent, children };
  });
}

/** Pre-order walk of elements under (and including) `root`, with their paths. Stops when `visit` returns true. */
export function walkElements(
  root: XmlElement,
  visit: (el: XmlElement, path: NodePath) => boolean | void,
  start: NodePath = [],
): boolean {
  if (visit(root, start) === true) return true;
  for (let i = 0; i < root.children.length; i++) {
    const c = root.children[i]!;
    if (c.kind === 'element' && walkElements(c, visit, [...start, i])) return true;
  }
  return false;
}
