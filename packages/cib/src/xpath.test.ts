import { describe, expect, it } from 'vitest';
import { selectXPath } from './xpath.js';
import { parseXml } from './xml.js';

const doc = parseXml(`<cib epoch="1">
  <configuration>
    <resources>
      <primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="ip-ia"><nvpair id="ip-ia-ip" name="ip" value="10.0.0.1"/></instance_attributes>
        <operations><op id="ip-mon" name="monitor" interval="10s"/></operations>
      </primitive>
      <group id="g">
        <primitive id="fs" class="ocf" provider="heartbeat" type="Filesystem"/>
        <primitive id="web" class="ocf" provider="paceline" type="httpd"/>
      </group>
      <clone id="c"><primitive id="ping" class="ocf" provider="pacemaker" type="ping"/></clone>
    </resources>
    <constraints>
      <rsc_location id="l1" rsc="ip" node="n1" score="100"/>
      <rsc_location id="l2" rsc="g" node="n2" score="-INFINITY"/>
    </constraints>
  </configuration>
  <status/>
</cib>`).root;

function ids(expr: string): string[] {
  const r = selectXPath(doc, expr);
  if (!r.ok) throw new Error(r.error.message);
  return r.matches.map((m) => m.element.attrs['id'] ?? m.element.name);
}

describe('selectXPath', () => {
  // The expressions cibadmin users write, with the elements each must select, in document order.
  it.each([
    ['/cib/configuration/resources/primitive', ['ip']],
    ['//primitive', ['ip', 'fs', 'web', 'ping']],
    ["//primitive[@id='web']", ['web']],
    ['//primitive[@id="web"]', ['web']],
    ["//primitive[@provider='heartbeat' and @type='Filesystem']", ['fs']],
    ["//primitive[@id='ip' or @id='ping']", ['ip', 'ping']],
    ["//primitive[(@id='ip' or @id='fs') and @class='ocf']", ['ip', 'fs']],
    ['//rsc_location[@score]', ['l1', 'l2']],
    ['//op[@interval]', ['ip-mon']],
    ['/cib/configuration/resources/*', ['ip', 'g', 'c']],
    ['//group/primitive[1]', ['fs']],
    ['//group/primitive[2]', ['web']],
    ['//group/primitive[last()]', ['web']],
    ['//primitive[1]', ['ip', 'fs', 'ping']],
    ["//nvpair[@name='ip']/../..", ['ip']],
    ["//primitive[instance_attributes/nvpair[@name='ip']]", ['ip']],
    ["//primitive[not(@provider='heartbeat')]", ['web', 'ping']],
    ["//primitive[@id!='ip']", ['fs', 'web', 'ping']],
    ["//rsc_location[@score>=0]", ['l1']],
    ["//primitive[starts-with(@type, 'IP')]", ['ip']],
    ["//primitive[contains(@type, 'system')]", ['fs']],
    ['//group | //clone', ['g', 'c']],
    ['/cib', ['cib']],
    ['cib/status', ['status']],
    ['//*[@id="l2"]', ['l2']],
    ['//primitive[@id="nope"]', []],
    ['/configuration', []],
  ])('%s', (expr, expected) => {
    expect(ids(expr)).toEqual(expected);
  });

  // The path of a match is what edits use to rebuild the tree; it must lead back to the match.
  it('returns paths that lead to the matched element', () => {
    const r = selectXPath(doc, "//primitive[@id='web']");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const [m] = r.matches;
    let cur = doc;
    for (const i of m!.path) cur = cur.children[i] as typeof doc;
    expect(cur).toBe(m!.element);
  });

  // Bad expressions are errors with a reason and an offset, never an empty match that hides a typo.
  it.each([
    ['', 'xpath-syntax'],
    ["//primitive[@id='x'", 'xpath-syntax'],
    ["//primitive[@id='x]", 'xpath-syntax'],
    ['//primitive[', 'xpath-syntax'],
    ['///primitive', 'xpath-syntax'],
    ['//primitive[@]', 'xpath-syntax'],
    ['//primitive/text()', 'xpath-unsupported'],
    ['//primitive[count(op) > 1]', 'xpath-unsupported'],
    ['//primitive]', 'xpath-syntax'],
    ['//primitive[@id=$x]', 'xpath-syntax'],
  ])('rejects %j', (expr, code) => {
    const r = selectXPath(doc, expr);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.message.length).toBeGreaterThan(0);
    }
  });
});
