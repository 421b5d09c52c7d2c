import { describe, expect, it } from 'vitest';
import { parseXml, writeXml, XmlSyntaxError } from './xml.js';

describe('xml tree', () => {
  // The tree is the lossless base of the CIB: what goes in must come out.
  it('keeps attribute order, comments and unknown elements through a round trip', () => {
    const src = '<!-- head -->\n<cib b="2" a="1"><x-unknown foo="&quot;q&amp;"/><!--c--><configuration/></cib>';
    const doc = parseXml(src);
    expect(Object.keys(doc.root.attrs)).toEqual(['b', 'a']);
    const again = parseXml(writeXml(doc));
    expect(again).toEqual(doc);
    expect(doc.before[0]?.text).toBe(' head ');
  });

  it('reports malformed XML with line and column', () => {
    let err: unknown;
    try {
      parseXml('<cib>\n  <configuration>\n</cib>');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XmlSyntaxError);
    expect((err as XmlSyntaxError).line).toBeGreaterThan(1);
  });
});
