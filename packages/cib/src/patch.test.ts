import { describe, expect, it } from 'vitest';
import { applyPatch, cibDigest, createDiffCache, diffCib, patchChanges, withPatchDigest } from './patch.js';
import type { XmlElement } from './xml.js';
import { parseXml, writeElement } from './xml.js';

const base = parseXml(`<cib admin_epoch="0" epoch="5" num_updates="3" crm_feature_set="3.16.1">
  <configuration>
    <crm_config><cluster_property_set id="opts"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="1" uname="n1"/><node id="2" uname="n2"/></nodes>
    <resources>
      <primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>
      <primitive id="b" class="ocf" provider="heartbeat" type="Dummy"><operations><op id="b-mon" name="monitor" interval="10s"/></operations></primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>`).root;

function edit(xml: string): XmlElement {
  return parseXml(xml).root;
}

/** `base` as text with replacements, so each case states only its edit. */
function variant(...pairs: [string, string][]): XmlElement {
  let text = writeElement(base, { indentSpaces: 0 });
  for (const [from, to] of pairs) {
    if (!text.includes(from)) throw new Error(`fixture lacks ${from}`);
    text = text.replace(from, to);
  }
  return edit(text);
}

const bumped: [string, string] = ['epoch="5" num_updates="3"', 'epoch="6" num_updates="0"'];

function ops(patch: XmlElement): string[] {
  return patchChanges(patch).map((c) => `${c.attrs['operation']} ${c.attrs['path']}${c.attrs['position'] ? ` @${c.attrs['position']}` : ''}`);
}

describe('diffCib and applyPatch', () => {
  // Each kind of edit must travel through a patch and land exactly on the target.
  it.each<[string, XmlElement, string[]]>([
    ['attribute set', variant(bumped, ['value="false"', 'value="true"']), [
      'modify /cib',
      "modify /cib/configuration/crm_config/cluster_property_set[@id='opts']/nvpair[@id='o1']",
    ]],
    ['attribute unset', variant(bumped, [' provider="heartbeat" type="Dummy"/>', ' type="Dummy"/>']), ['modify /cib', "modify /cib/configuration/resources/primitive[@id='a']"]],
    ['delete', variant(bumped, ['<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"/>', '']), [
      "delete /cib/configuration/resources/primitive[@id='a']",
      'modify /cib',
    ]],
    ['create with id', variant(bumped, ['<constraints/>', '<constraints><rsc_location id="l" rsc="a" node="n1" score="5"/></constraints>']), [
      'modify /cib',
      'create /cib/configuration/constraints @0',
    ]],
    ['move (reorder)', variant(bumped, ['<node id="1" uname="n1"/><node id="2" uname="n2"/>', '<node id="2" uname="n2"/><node id="1" uname="n1"/>']), [
      'modify /cib',
      "move /cib/configuration/nodes/node[@id='2'] @0",
      "move /cib/configuration/nodes/node[@id='1'] @1",
    ]],
    ['id-less element', variant(bumped, ['<constraints/>', '<constraints/><rsc_defaults><meta_attributes id="rd"/></rsc_defaults>']), [
      'modify /cib',
      'create /cib/configuration @4',
    ]],
    ['comment', variant(bumped, ['<constraints/>', '<!-- keep --><constraints/>']), ['modify /cib', 'create /cib/configuration @3']],
    ['status only', variant(['num_updates="3"', 'num_updates="4"'], ['<status/>', '<status><node_state id="1" uname="n1"/></status>']), [
      'modify /cib',
      'create /cib/status @0',
    ]],
  ])('%s', (_name, target, expected) => {
    const patch = diffCib(base, target);
    expect(ops(patch)).toEqual(expected);
    const applied = applyPatch(base, patch);
    expect(applied.ok).toBe(true);
    if (applied.ok) expect(writeElement(applied.value)).toBe(writeElement(target));
  });

  // The patch records both versions; applying it checks the source against the document.
  it('writes the version block, with 1 for a missing counter as Pacemaker does', () => {
    const patch = diffCib(edit('<cib epoch="2" crm_feature_set="3.16.1"/>'), edit('<cib epoch="3" crm_feature_set="3.16.1"/>'));
    const version = patch.children[0] as XmlElement;
    expect(writeElement(version, { indentSpaces: 0 })).toBe(
      '<version><source admin_epoch="1" epoch="2" num_updates="1"/><target admin_epoch="1" epoch="3" num_updates="1"/></version>',
    );
  });

  // Identical documents need no changes (crm_diff prints nothing then).
  it('makes an empty patch for identical documents', () => {
    expect(patchChanges(diffCib(base, edit(writeElement(base))))).toEqual([]);
  });

  // Untouched subtrees are shared, not copied: cheap for big status sections, and cheap to compare.
  it('shares untouched subtrees with the original', () => {
    const target = variant(bumped, ['value="false"', 'value="true"']);
    const applied = applyPatch(base, diffCib(base, target));
    expect(applied.ok).toBe(true);
    if (!applied.ok) return;
    const status = (root: XmlElement) => root.children.find((c) => c.kind === 'element' && c.name === 'status');
    expect(status(applied.value)).toBe(status(base));
  });

  const good = diffCib(base, variant(bumped, ['value="false"', 'value="true"']));
  const goodText = writeElement(good);

  // Every bad patch is refused with a code naming the problem, and the document stays as it was.
  it.each<[string, XmlElement, string]>([
    ['not a diff', edit('<patch format="2"/>'), 'invalid-argument'],
    ['format 1', edit(goodText.replace('format="2"', 'format="1"')), 'invalid-argument'],
    ['missing format', edit(goodText.replace(' format="2"', '')), 'invalid-argument'],
    ['base version too low', edit(goodText.replace('<source admin_epoch="0" epoch="5"', '<source admin_epoch="0" epoch="9"')), 'diff-resync'],
    ['base version too high', edit(goodText.replace('<source admin_epoch="0" epoch="5"', '<source admin_epoch="0" epoch="4"')), 'old-data'],
    ['no version change', edit(goodText.replace('<target admin_epoch="0" epoch="6" num_updates="0"', '<target admin_epoch="0" epoch="5" num_updates="3"')), 'old-data'],
    ['modify of a missing element', edit(goodText.replace("nvpair[@id='o1']", "nvpair[@id='zz']")), 'diff-failed'],
    ['modify without result', edit(goodText.replace(/<change-result>[\s\S]*?<\/change-result>/g, '')), 'no-message'],
    ['unknown operation', edit(goodText.replace('operation="modify"', 'operation="frobnicate"')), 'diff-failed'],
    ['relative path', edit(goodText.replace('path="/cib"', 'path="cib"')), 'diff-failed'],
    ['empty path step', edit(goodText.replace('path="/cib"', 'path="/cib//configuration"')), 'diff-failed'],
    [
      'create under a missing parent',
      edit(goodText.replace('</diff>', '<change operation="create" path="/cib/nowhere" position="0"><x/></change></diff>')),
      'diff-failed',
    ],
    ['create with nothing', edit(goodText.replace('</diff>', '<change operation="create" path="/cib" position="0"/></diff>')), 'diff-failed'],
    ['move of a missing element', edit(goodText.replace('</diff>', `<change operation="move" path="/cib/configuration/nodes/node[@id='9']" position="0"/></diff>`)), 'diff-failed'],
    ['delete of the root', edit(goodText.replace('</diff>', '<change operation="delete" path="/cib"/></diff>')), 'diff-failed'],
  ])('rejects a patch: %s', (_name, patch, code) => {
    const snapshot = structuredClone(base);
    const before = base;
    const r = applyPatch(base, patch);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe(code);
      expect(r.error.detail.length).toBeGreaterThan(0);
    }
    expect(base).toBe(before);
    expect(base).toEqual(snapshot);
  });

  // Pacemaker skips a delete whose target is already gone: replaying a delete is harmless.
  it('accepts a delete of something already deleted', () => {
    const patch = edit(goodText.replace('</diff>', `<change operation="delete" path="/cib/configuration/resources/primitive[@id='gone']"/></diff>`));
    expect(applyPatch(base, patch).ok).toBe(true);
  });

  // crm_diff without --cib does not check versions; callers can ask for the same.
  it('can skip the version check', () => {
    const patch = edit(goodText.replace('<source admin_epoch="0" epoch="5"', '<source admin_epoch="0" epoch="9"'));
    expect(applyPatch(base, patch, { checkVersion: false }).ok).toBe(true);
  });

  // Comments are addressed by position: deleting one must remove that one, not the first.
  it('deletes the right comment among several', () => {
    const a = edit('<cib admin_epoch="0" epoch="1" num_updates="0" crm_feature_set="3.16.1"><!--one--><configuration/><!--two--><status/></cib>');
    const b = edit('<cib admin_epoch="0" epoch="2" num_updates="0" crm_feature_set="3.16.1"><!--one--><configuration/><status/></cib>');
    const patch = diffCib(a, b);
    expect(ops(patch)).toContain('delete /cib/comment @2');
    const r = applyPatch(a, patch);
    expect(r.ok && writeElement(r.value)).toBe(writeElement(b));
  });

  // Id-less siblings with one tag cannot be told apart by a path; Pacemaker's matching then
  // reports a move even between identical documents. crm_diff 2.1.5 prints exactly this patch.
  it('reports the move crm_diff reports for duplicate id-less siblings', () => {
    const a = edit('<cib crm_feature_set="3.16.1" epoch="1"><x><z a="1"/><z a="2"/></x></cib>');
    const b = edit('<cib crm_feature_set="3.16.1" epoch="1"><x><z a="1"/><z a="2"/></x></cib>');
    expect(ops(diffCib(a, b))).toEqual(['move /cib/x/z @1']);
    // Sharing must not change the answer: the same object on both sides gives the same patch.
    expect(ops(diffCib(a, a))).toEqual(['move /cib/x/z @1']);
  });

  // A cache kept across diffs of one document lineage gives the same patches as none.
  it('gives the same patch with a reused cache', () => {
    const cache = createDiffCache();
    const t1 = variant(bumped, ['value="false"', 'value="true"']);
    const t2 = variant(bumped, ['<constraints/>', '<constraints><rsc_location id="l" rsc="a" node="n1" score="5"/></constraints>']);
    for (const t of [t1, t2, t1]) expect(writeElement(diffCib(base, t, cache))).toBe(writeElement(diffCib(base, t)));
    expect(patchChanges(diffCib(base, base, cache))).toEqual([]);
  });

  // Patches made with a digest (crm_diff --cib) are checked after application, as Pacemaker does.
  it('checks the digest of the result when the patch carries one', () => {
    const target = variant(bumped, ['value="false"', 'value="true"']);
    const patch = withPatchDigest(diffCib(base, target), target);
    expect(patch.attrs['digest']).toBe(cibDigest(target));
    expect(applyPatch(base, patch).ok).toBe(true);
    const wrong = { ...patch, attrs: { ...patch.attrs, digest: '0'.repeat(32) } };
    const r = applyPatch(base, wrong);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('diff-failed');
  });

  // The digest leaves out who wrote the CIB and when, so stamping those does not change it.
  it('leaves the write stamps out of the digest', () => {
    const stamped = variant(['crm_feature_set="3.16.1"', 'crm_feature_set="3.16.1" cib-last-written="now" update-origin="n1"']);
    expect(cibDigest(stamped)).toBe(cibDigest(base));
    expect(cibDigest(variant(['value="false"', 'value="true"']))).not.toBe(cibDigest(base));
  });
});
