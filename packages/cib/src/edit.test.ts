import { describe, expect, it } from 'vitest';
import { appendAt, elementAt, insertAt, removeAt, replaceAt, updateAt, walkElements } from './edit.js';
import type { XmlElement } from './xml.js';
import { element, parseXml, writeElement } from './xml.js';

const doc = parseXml('<cib><configuration><resources><primitive id="a"/><primitive id="b"/></resources><constraints/></configuration><status/></cib>').root;
const line = (el: XmlElement): string => writeElement(el, { indentSpaces: 0 });

describe('path-copying edits', () => {
  // Each edit returns the changed tree, copies only the path and shares every other subtree.
  it.each<[string, (root: XmlElement) => XmlElement, string]>([
    ['insert', (r) => insertAt(r, [0, 0], 1, element('primitive', { id: 'x' })), '<resources><primitive id="a"/><primitive id="x"/><primitive id="b"/></resources>'],
    ['append', (r) => appendAt(r, [0, 0], element('group', { id: 'g' })), '<primitive id="b"/><group id="g"/></resources>'],
    ['remove', (r) => removeAt(r, [0, 0, 0]), '<resources><primitive id="b"/></resources>'],
    ['replace', (r) => replaceAt(r, [0, 0, 1], element('clone', { id: 'c' })), '<primitive id="a"/><clone id="c"/>'],
    ['update', (r) => updateAt(r, [0, 0, 0], (el) => ({ ...el, attrs: { ...el.attrs, t: '1' } })), '<primitive id="a" t="1"/>'],
  ])('%s', (_name, edit, expected) => {
    const before = structuredClone(doc);
    const after = edit(doc);
    expect(line(after)).toContain(expected);
    expect(doc).toEqual(before);
    const status = (r: XmlElement) => r.children[1];
    expect(status(after)).toBe(status(doc));
    expect((after.children[0] as XmlElement).children[1]).toBe((doc.children[0] as XmlElement).children[1]);
  });

  // An update that returns the same element must return the same tree, so "no change" stays cheap to see.
  it('returns the same tree when nothing changed', () => {
    expect(updateAt(doc, [0, 0], (el) => el)).toBe(doc);
  });

  // Paths from walkElements lead back to the elements visited, in document order.
  it('walks elements in document order with their paths', () => {
    const seen: string[] = [];
    walkElements(doc, (el, path) => {
      expect(elementAt(doc, path)).toBe(el);
      seen.push(el.attrs['id'] ?? el.name);
    });
    expect(seen).toEqual(['cib', 'configuration', 'resources', 'a', 'b', 'constraints', 'status']);
  });
});
