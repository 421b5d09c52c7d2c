/**
 * Seeded synthetic edits of a CIB tree, for the diff/patch suites: each edit is one kind of
 * change the patch format must carry (attribute set/unset/reorder, element insert with and
 * without id, delete, sibling reorder, comment insert/delete).
 */
import type { NodePath, XmlElement, XmlNode } from '@paceline/cib';
import { element, insertAt, removeAt, updateAt, walkElements } from '@paceline/cib';

/** A small deterministic PRNG (mulberry32): the same seed gives the same edits. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(rand() * items.length)];
}

function allElements(cib: XmlElement): { el: XmlElement; path: NodePath }[] {
  const out: { el: XmlElement; path: NodePath }[] = [];
  walkElements(cib, (el, path) => {
    out.push({ el, path });
  });
  return out;
}

export interface Edit {
  readonly cib: XmlElement;
  readonly what: string;
}

const kinds = [
  'set-attr',
  'change-attr',
  'unset-attr',
  'reorder-attrs',
  'insert-with-id',
  'insert-without-id',
  'delete',
  'swap-siblings',
  'insert-comment',
  'delete-comment',
] as const;

/** One random edit of `cib` (never of the root element itself, never removing the root). */
export function syntheticEdit(cib: XmlElement, rand: () => number): Edit {
  const els = allElements(cib).filter((e) => e.path.length > 0);
  const target = pick(rand, els);
  if (!target) return { cib: { ...cib, children: [...cib.children, element('configuration')] }, what: 'insert configuration into an empty cib' };
  const kind = pick(rand, kinds)!;
  const where = `${kind} ${target.el.name}${target.el.attrs['id'] ? `#${target.el.attrs['id']}` : ''}`;
  const attrNames = Object.keys(target.el.attrs).filter((n) => n !== 'id');
  switch (kind) {
    case 'set-attr':
      return { cib: updateAt(cib, target.path, (el) => ({ ...el, attrs: { ...el.attrs, 'x-added': 'v1' } })), what: where };
    case 'change-attr': {
      const name = pick(rand, attrNames);
      if (!name) break;
      return { cib: updateAt(cib, target.path, (el) => ({ ...el, attrs: { ...el.attrs, [name]: `${el.attrs[name]}-x` } })), what: where };
    }
    case 'unset-attr': {
      const name = pick(rand, attrNames);
      if (!name) break;
      return {
        cib: updateAt(cib, target.path, (el) => {
          const attrs = { ...el.attrs };
          delete attrs[name];
          return { ...el, attrs };
        }),
        what: where,
      };
    }
    case 'reorder-attrs': {
      const entries = Object.entries(target.el.attrs).reverse();
      return { cib: updateAt(cib, target.path, (el) => ({ ...el, attrs: Object.fromEntries(entries) })), what: where };
    }
    case 'insert-with-id':
    case 'insert-without-id': {
      const attrs: Record<string, string> = kind === 'insert-with-id' ? { id: `synthetic-${Math.floor(rand() * 1e6)}` } : {};
      const node: XmlNode = element('x-synthetic', { ...attrs, n: '1' }, [element('x-leaf', { a: 'b' })]);
      const at = Math.floor(rand() * (target.el.children.length + 1));
      return { cib: insertAt(cib, target.path, at, node), what: `${where} at ${at}` };
    }
    case 'delete':
      return { cib: removeAt(cib, target.path), what: where };
    case 'swap-siblings': {
      const n = target.el.children.length;
      if (n < 2) break;
      const i = Math.floor(rand() * (n - 1));
      return {
        cib: updateAt(cib, target.path, (el) => {
          const children = el.children.slice();
          [children[i], children[i + 1]] = [children[i + 1]!, children[i]!];
          return { ...el, children };
        }),
        what: `${where} ${i}<->${i + 1}`,
      };
    }
    case 'insert-comment': {
      const at = Math.floor(rand() * (target.el.children.length + 1));
      return { cib: insertAt(cib, target.path, at, { kind: 'comment', text: ' synthetic note ' }), what: `${where} at ${at}` };
    }
    case 'delete-comment': {
      const holder = pick(rand, allElements(cib).filter((e) => e.el.children.some((c) => c.kind === 'comment')));
      if (!holder) break;
      const i = holder.el.children.findIndex((c) => c.kind === 'comment');
      return { cib: removeAt(cib, [...holder.path, i]), what: `delete-comment in ${holder.el.name}` };
    }
  }
  return { cib: updateAt(cib, target.path, (el) => ({ ...el, attrs: { ...el.attrs, 'x-fallback': '1' } })), what: `set-attr ${where}` };
}
