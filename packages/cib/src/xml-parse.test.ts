import { describe, expect, it } from 'vitest';
import { element, parseXml, parseXmlPieces, parseXmlReference, writeElement, writeXml, XmlSyntaxError } from './xml.js';
import { synthCib } from './synth.js';
import type { XmlElement } from './xml.js';

function syntaxError(text: string): XmlSyntaxError {
  try {
    parseXml(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) return e;
    throw e;
  }
  throw new Error(`parsed without error: ${text}`);
}

describe('parseXml fast path', () => {
  // Values Pacemaker (libxml2) writes with references must read back as the characters they stand for.
  it('decodes predefined entities and character references in attributes and text', () => {
    const doc = parseXml('<a x="&lt;&gt;&amp;&quot;&apos;" y="1&#10;2&#x9;3&#233;" z="&amp;lt;">t&#65;&amp;&lt;u</a>');
    expect(doc.root.attrs).toEqual({ x: `<>&"'`, y: '1\n2\t3é', z: '&lt;' });
    expect(doc.root.children).toEqual([{ kind: 'text', text: 'tA&<u' }]);
  });

  // XML attribute-value normalization: literal tabs and line ends are spaces; whitespace at the ends stays.
  it('normalizes literal whitespace in attribute values and keeps leading/trailing spaces', () => {
    const doc = parseXml('<a x="a\nb\tc\r\nd" y=" state "/>');
    expect(doc.root.attrs).toEqual({ x: 'a b c d', y: ' state ' });
  });

  // Comments, CDATA, declarations and single-quoted attributes are all part of real CIB files.
  it('reads comments, CDATA, declarations and single quotes', () => {
    const doc = parseXml("<?xml version='1.0'?>\n<!-- head -->\n<a q='say \"hi\"'><!--in--><![CDATA[<raw> & ]]></a>\n<!-- tail -->\n");
    expect(doc.before).toEqual([{ kind: 'comment', text: ' head ' }]);
    expect(doc.after).toEqual([{ kind: 'comment', text: ' tail ' }]);
    expect(doc.root.attrs['q']).toBe('say "hi"');
    expect(doc.root.children).toEqual([
      { kind: 'comment', text: 'in' },
      { kind: 'text', text: '<raw> & ' },
    ]);
  });

  // A document type declaration is left to fast-xml-parser rather than misread.
  it('falls back to fast-xml-parser for a DOCTYPE', () => {
    const doc = parseXml('<!DOCTYPE cib><cib a="1"><x/></cib>');
    expect(doc.root.name).toBe('cib');
    expect(doc.root.children.length).toBe(1);
  });

  // Elements with the same name reuse the previous one's attribute names and verbatim values when
  // the text matches: changed order, added or missing attributes, quotes and references must still
  // read exactly as fast-xml-parser reads them.
  it('reads repeated elements with changing attributes like fast-xml-parser', () => {
    const text =
      '<a><o x="1" y="monitor"/><o x="1" y="monitor"/><o y="monitor" x="1"/><o x="1"/><o x="1" y="monitor" z="3"/>' +
      '<o x="a&amp;b" y=\'say "hi"\'/><o x="a&amp;b" y=\'say "hi"\'/><o x="a&amp;bc" y="say"/><o x="1" yy="monitor"/><o x="12" y="monito"/></a>';
    expect(parseXml(text)).toEqual(parseXmlReference(text));
  });

  // A value read with a reference is not reused for text that spells the decoded value literally:
  // "a&b" after "a&amp;b" is still malformed.
  it('rejects a bare ampersand after the same value written with a reference', () => {
    expect(() => parseXml('<a><o x="a&amp;b"/><o x="a&b"/></a>')).toThrow(XmlSyntaxError);
  });

  // A value that needs escaping is escaped in every element that has it, also when the same text
  // was read before (the reuse must not mark an element as needing no escaping).
  it('escapes repeated values that need it when writing', () => {
    const doc = parseXml('<a><o x=\'q"\'/><o x=\'q"\'/><o x="q"/></a>');
    expect(writeXml(doc, { indentSpaces: 0 })).toBe('<a><o x="q&quot;"/><o x="q&quot;"/><o x="q"/></a>');
  });

  // Long values, names, text and comments (V8 shares substrings of 13+ characters with their
  // source) read and write back exactly.
  it('keeps long values, names, text and comments exact', () => {
    const text = '<long_element_name some_long_attribute="0123456789abcdef:ghij"><!-- a comment of some length -->text of some length</long_element_name>\n';
    const doc = parseXml(text);
    expect(doc.root.name).toBe('long_element_name');
    expect(doc.root.attrs).toEqual({ some_long_attribute: '0123456789abcdef:ghij' });
    expect(doc.root.children).toEqual([
      { kind: 'comment', text: ' a comment of some length ' },
      { kind: 'text', text: 'text of some length' },
    ]);
    expect(writeXml(doc, { indentSpaces: 0 })).toBe(text.trimEnd());
  });

  // On ordinary CIB text both parsers build the same tree (the corpus test checks all 799 files).
  it('builds the same tree as fast-xml-parser', () => {
    const text = '<cib epoch="1"><configuration><nodes><node id="1" uname="n1"/></nodes><!--c--></configuration><status/></cib>';
    expect(parseXml(text)).toEqual(parseXmlReference(text));
  });
});

describe('parseXml errors', () => {
  // Malformed input is rejected with a position, whatever the kind of mistake.
  it.each([
    ['mismatched end tag', '<cib>\n  <configuration>\n</cib>'],
    ['unclosed document', '<cib><configuration>'],
    ['unterminated attribute', '<cib a="1><x/></cib>'],
    ['duplicate attribute', '<cib a="1" a="2"/>'],
    ['"<" in an attribute value', '<cib a="<"/>'],
    ['attribute without value', '<cib a/>'],
    ['two root elements', '<a/><b/>'],
    ['text outside the root', 'hello <a/>'],
    ['empty document', ''],
    ['stray end tag', '</a>'],
    ['unknown entity', '<a x="&bogus;"/>'],
    ['bare ampersand', '<a x="a & b"/>'],
  ])('%s', (_what, text) => {
    const err = syntaxError(text);
    expect(err.code).toBe('xml-syntax');
    expect(err.line).toBeGreaterThanOrEqual(1);
    expect(err.column).toBeGreaterThanOrEqual(1);
  });

  // The line and column point at the problem, so users can find it in a large file.
  it('points at the mismatched tag', () => {
    const err = syntaxError('<cib>\n  <configuration>\n  </cib>');
    expect(err.line).toBe(3);
  });

  // Elements left open at the end: named, not listed as fast-xml-parser's JSON array at 1:1.
  it('names an element left open, or a start tag cut short, where it is', () => {
    const open = syntaxError('<cib>\n  <configuration><nodes></nodes>');
    expect(open.message).toMatch(/^<configuration> is not closed/);
    expect(open.line).toBe(2);
    const cut = syntaxError('<cib>\n  <configuration');
    expect(cut.message).toMatch(/^unterminated start tag <configuration>/);
    expect([cut.line, cut.column]).toEqual([2, 3]);
  });
});

describe('writeXml', () => {
  // Special characters survive write + parse, including newlines in attribute values.
  it('escapes what needs escaping and reads it back unchanged', () => {
    const el = element('a', { x: 'a<b>&"c\'\n\t\rd', y: 'plain' }, [{ kind: 'text', text: 'x < y & z' }]);
    const text = writeElement(el);
    expect(text).toContain('x="a&lt;b&gt;&amp;&quot;c\'&#10;&#9;&#13;d"');
    expect(parseXml(text).root).toEqual(el);
  });

  // Unchanged parsed elements are written without escaping checks; changed copies are checked.
  it('writes an edited copy from its attributes, with escaping', () => {
    const doc = parseXml('<cib a="1"><x b="2"/></cib>');
    const x = doc.root.children[0] as XmlElement;
    const edited: XmlElement = { ...doc.root, attrs: { ...doc.root.attrs, a: '9' }, children: [{ ...x, attrs: { b: '3', c: '<4>' } }] };
    expect(writeXml({ ...doc, root: edited })).toBe('<cib a="9">\n  <x b="3" c="&lt;4&gt;"/>\n</cib>\n');
    expect(writeXml(doc)).toBe('<cib a="1">\n  <x b="2"/>\n</cib>\n');
  });

  // Source text in a non-canonical layout is re-written in the writer's layout.
  it('normalizes layout: quotes, spacing and empty elements', () => {
    const doc = parseXml("<cib   a = '1'  b=\"x&amp;y\" ><x></x><y  /></cib>");
    expect(writeXml(doc)).toBe('<cib a="1" b="x&amp;y">\n  <x/>\n  <y/>\n</cib>\n');
    expect(writeXml(doc, { indentSpaces: 0 })).toBe('<cib a="1" b="x&amp;y"><x/><y/></cib>');
  });
});

/** `text` cut into pieces of `size` characters. */
function cut(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The error `parse` throws, or a failure naming the input when it throws none. */
function thrown(parse: () => unknown): unknown {
  try {
    parse();
  } catch (e) {
    return e;
  }
  throw new Error('parsed without error');
}

describe('parseXmlPieces', () => {
  const sample =
    '\ufeff<?xml version="1.0"?>\n<!-- head -->\n<cib a="1" b=\'x&amp;y\'>\n  <x c="a\tb" long="0123456789abcdefghij"/>\n' +
    '  <y>text &lt;here&gt;<![CDATA[<raw> & ]]><!-- in --></y>\n  <x c="a\tb" long="0123456789abcdefghij"/>\n</cib>\n<!-- tail -->\n';

  // A file read in chunks may be cut anywhere: inside names, values, references, comments, CDATA.
  it('builds the same document as parseXml wherever the text is cut', () => {
    const whole = parseXml(sample);
    let calls = 0;
    const streamed = (pieces: string[]): unknown =>
      parseXmlPieces(() => {
        calls++;
        return pieces;
      });
    for (let at = 0; at <= sample.length; at++) expect(streamed([sample.slice(0, at), sample.slice(at)])).toEqual(whole);
    expect(streamed(cut(sample, 1))).toEqual(whole);
    expect(streamed(cut(sample, 7))).toEqual(whole);
    // Each parse read its pieces once: none fell back to parsing the joined text.
    expect(calls).toBe(sample.length + 3);
  });

  // The streamed pass is what large CIBs take: it must accept them without reading them twice.
  it('reads a CIB with status in one pass', () => {
    const text = writeXml(synthCib({ nodes: 4, resources: 40, seed: 1, withStatus: true, node1Lost: true }));
    let calls = 0;
    const doc = parseXmlPieces(() => {
      calls++;
      return cut(text, 4096);
    });
    expect(calls).toBe(1);
    expect(doc).toEqual(parseXml(text));
    expect(writeXml(doc)).toBe(text);
  });

  // A construct longer than what streaming carries (a megabyte) is parsed from the joined text.
  it('parses a document with a very long comment from the joined pieces', () => {
    const text = `<cib><!--${'x'.repeat(1_500_000)}--><a b="1"/></cib>`;
    let calls = 0;
    const doc = parseXmlPieces(() => {
      calls++;
      return cut(text, 65_536);
    });
    expect(calls).toBe(2);
    expect(doc).toEqual(parseXml(text));
  });

  // What the scanner leaves to fast-xml-parser, and malformed input, end as parseXml ends.
  it('falls back to parseXml on the joined pieces for a DOCTYPE and for malformed XML', () => {
    const doctype = '<!DOCTYPE cib><cib a="1"><x/></cib>';
    let calls = 0;
    const doc = parseXmlPieces(() => {
      calls++;
      return cut(doctype, 5);
    });
    expect(calls).toBe(2);
    expect(doc).toEqual(parseXml(doctype));
    for (const bad of ['<cib><x></cib>', '<cib a="1" a="2"/>', '<cib>', '', '<cib/><x/>', '<cib>&bogus;</cib>']) {
      const expected = thrown(() => parseXml(bad));
      expect(expected).toBeInstanceOf(XmlSyntaxError);
      expect(thrown(() => parseXmlPieces(() => cut(bad, 3)))).toEqual(expected);
    }
  });
});
