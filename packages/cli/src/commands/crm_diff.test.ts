// crm_diff without the real tool: outputs pinned from Pacemaker 2.1.5's crm_diff on the same
// inputs (test/cli/pacemaker-oracle.it.test.ts compares against the real tool itself).
import { rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseXml } from '@paceline/cib';
import { crmDiffRequest, digestV1, patchFormatFor, pcmkXml, runCrmDiff } from './crm_diff.js';

const A = '<cib epoch="1" num_updates="2" admin_epoch="0"><configuration><crm_config/><nodes/><resources><primitive id="r1" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration><status/></cib>';
const B = '<cib epoch="2" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources><primitive id="r2" class="ocf" provider="heartbeat" type="Dummy" description="it&apos;s"/></resources><constraints/></configuration><status/></cib>';
const PATCH_V1 = `<diff crm_feature_set="3.16.1" format="1" digest="0c9fcdd8efb25028c872cf7720bd609d">
  <diff-removed admin_epoch="0" epoch="1" num_updates="2">
    <cib epoch="1" num_updates="2" admin_epoch="0">
      <configuration>
        <resources>
          <primitive id="r1" class="ocf" provider="heartbeat" type="Dummy" __crm_diff_marker__="removed:top"/>
        </resources>
      </configuration>
    </cib>
  </diff-removed>
  <diff-added admin_epoch="0" epoch="2" num_updates="0">
    <cib epoch="2" num_updates="0" admin_epoch="0">
      <configuration>
        <resources>
          <primitive id="r2" class="ocf" provider="heartbeat" type="Dummy" description="it&apos;s" __crm_diff_marker__="added:top"/>
        </resources>
      </configuration>
    </cib>
  </diff-added>
</diff>
`;

describe('crm_diff format 1 (documents older than feature set 3.0.8, or without one)', () => {
  it('the format follows the original\'s crm_feature_set', () => {
    expect(patchFormatFor(parseXml(A).root)).toBe(1);
    expect(patchFormatFor(parseXml('<cib crm_feature_set="3.0.8"/>').root)).toBe(1);
    expect(patchFormatFor(parseXml('<cib crm_feature_set="3.0.9"/>').root)).toBe(2);
    expect(patchFormatFor(parseXml('<cib crm_feature_set="3.16.2"/>').root)).toBe(2);
  });

  it('a removed and an added resource: diff-removed/diff-added with their markers, the v1 digest, exit 1', () => {
    expect(runCrmDiff({ original: { text: A }, next: { text: B } })).toEqual({ exitCode: 1, stdout: PATCH_V1, stderr: '' });
  });

  it('-u: no version fields on either side (the digest of the target with the original\'s versions)', () => {
    const out = runCrmDiff({ original: { text: A }, next: { text: B }, noVersion: true });
    expect(out.stdout.split('\n').slice(0, 3)).toEqual(['<diff crm_feature_set="3.16.1" format="1" digest="d59244f445a0468cd7628b7057bb681e">', '  <diff-removed>', '    <cib>']);
    expect(out.stdout).toContain('  <diff-added>\n    <cib>\n');
  });

  it('changed attributes: the old values on the removed side, every attribute on the added side; comments are compared', () => {
    const out = runCrmDiff({ original: { text: '<a x="1"><!-- hi --><b/></a>' }, next: { text: '<a x="1"><!-- ho --><b id="q"/></a>' } });
    expect(out.stdout).toBe(`<diff crm_feature_set="3.16.1" format="1" digest="561f58821138aa632174c20bf41b90b2">
  <diff-removed>
    <a>
      <!-- hi -->
    </a>
    <cib/>
  </diff-removed>
  <diff-added>
    <a x="1">
      <!-- ho -->
      <b id="q" __crm_diff_marker__="added:top"/>
    </a>
    <cib x="1"/>
  </diff-added>
</diff>
`);
    // Feature set 3.0.5 to 3.0.8: format 1 with the v2 digest.
    const mid = runCrmDiff({ original: { text: '<cib crm_feature_set="3.0.6" epoch="1"/>' }, next: { text: '<cib crm_feature_set="3.0.6" epoch="2"/>' } });
    expect(mid.stdout).toBe('<diff crm_feature_set="3.16.1" format="1" digest="f719352a38ec443a8ab66823a8f15e18">\n  <diff-removed epoch="1">\n    <cib epoch="1"/>\n  </diff-removed>\n  <diff-added epoch="2">\n    <cib crm_feature_set="3.0.6" epoch="2"/>\n  </diff-added>\n</diff>\n');
  });

  it('applies a format 1 patch (digest checked), and -c refuses one for an older version (103)', () => {
    const f = `/tmp/paceline-crm-diff-${process.pid}.xml`;
    writeFileSync(f, PATCH_V1);
    try {
      const applied = runCrmDiff({ original: { text: A }, patch: { file: f } });
      expect(applied.exitCode).toBe(0);
      expect(applied.stdout).toBe(pcmkXml(parseXml(B).root));
      expect(applied.stdout).toContain('description="it&apos;s"');
      expect(runCrmDiff({ original: { text: B }, patch: { file: f }, asCib: true })).toEqual({ exitCode: 103, stdout: '', stderr: 'Could not apply patch: Update was older than existing configuration\n' });
      // A patch whose digest does not match the result.
      writeFileSync(f, PATCH_V1.replace('0c9fcdd8', '00000000'));
      expect(runCrmDiff({ original: { text: A }, patch: { file: f } })).toEqual({ exitCode: 1, stdout: '', stderr: 'Could not apply patch: Application of update diff failed\n' });
    } finally {
      rmSync(f, { force: true });
    }
  });

  it('the v1 digest is MD5 of " " + the element on one line + "\\n"', () => {
    expect(digestV1(parseXml('<cib a="2"/>').root)).toBe('0f75ad42cede9346f4980fa9aaff2557');
    expect(digestV1(parseXml('<cib a="2"><x/></cib>').root)).toBe('d2e3f16fe4e66ca390f18b6a9a7d6767');
  });
});

describe('crm_diff options', () => {
  it('-u with -c is a usage error; -u with -p only a warning', () => {
    expect(runCrmDiff(crmDiffRequest({ originalString: A, newString: B, cib: true, version: false }))).toEqual({ exitCode: 64, stdout: '', stderr: 'error: -u/--no-version incompatible with -c/--cib\n' });
    expect(runCrmDiff(crmDiffRequest({ originalString: A, patch: '/nonexistent', version: false })).stderr).toBe('warning: -u/--no-version ignored with -p/--patch\nCould not parse the second XML fragment\n');
  });

  it('-s: the first XML from stdin, the second from -N (stdin is read to its end for the first)', () => {
    expect(crmDiffRequest({ stdin: true, newString: B })).toEqual({ original: { stdin: true }, next: { text: B }, asCib: false, noVersion: false });
    expect(crmDiffRequest({ stdin: true })).toEqual({ original: { stdin: true }, next: { stdin: true, text: '' }, asCib: false, noVersion: false });
    expect(runCrmDiff({ original: { stdin: true, text: A }, next: { stdin: true, text: '' } })).toEqual({ exitCode: 65, stdout: '', stderr: 'Input first XML fragment:Input second XML fragment:Could not parse the second XML fragment\n' });
  });

  it('a missing original or second XML is unparsable (65); different roots: no difference (0), as Pacemaker\'s failed assertion', () => {
    expect(runCrmDiff(crmDiffRequest({ newString: B })).exitCode).toBe(65);
    expect(runCrmDiff(crmDiffRequest({ originalString: A })).stderr).toBe('Could not parse the second XML fragment\n');
    const roots = runCrmDiff(crmDiffRequest({ originalString: '<a x="1"/>', newString: '<b x="1"/>' }));
    expect([roots.exitCode, roots.stdout]).toEqual([0, '']);
  });

  it('format 2 with -c: attributes that only moved are not changes; values written with Pacemaker\'s escaping', () => {
    const a = '<cib crm_feature_set="3.16.1" epoch="1" num_updates="0" admin_epoch="0"><configuration><resources><primitive class="stonith" id="s" type="fence_xvm"/></resources></configuration></cib>';
    const b = '<cib crm_feature_set="3.16.1" epoch="1" num_updates="0" admin_epoch="0"><configuration><resources><primitive description="d" class="stonith" id="s" type="fence_xvm"/></resources></configuration></cib>';
    const plain = runCrmDiff({ original: { text: a }, next: { text: b } }).stdout;
    const cib = runCrmDiff({ original: { text: a }, next: { text: b }, asCib: true }).stdout;
    expect(plain).toContain('<change-attr name="class" operation="set" value="stonith"/>');
    expect(cib).not.toContain('name="class"');
    expect(cib).toContain('path="/cib/configuration/resources/primitive[@id=&apos;s&apos;]"');
  });
});
