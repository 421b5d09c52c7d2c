/**
 * `configure show` formatting details checked against what the real crm 4.4.1 printed for the
 * same input (the expected texts were taken from `CIB_file=F crm -f SCRIPT` runs): descriptions
 * on their own line, obscured passwords, fencing levels per target, objects printed as `xml`
 * when their crm syntax would not read back, and ids an edit keeps without showing them.
 */
import { describe, expect, it } from 'vitest';
import { cibToText, runCrmOnCib } from '../../packages/cli/src/crm/script.js';
import { nodeCrmHost } from '../../packages/cli/src/commands/crm-host.js';
import { defaultsCib, normaliseConfiguration } from './support.js';

const base = '<cib epoch="1" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>';

/** These tests are about show's text: commits are not checked (no fencing device, agents not looked up). */
const unchecked = 'options check-frequency never\n';

function shown(script: string, cib = base): string {
  let out = '';
  const r = runCrmOnCib(unchecked + script, cib, { onShow: (_a, text) => (out = text), host: nodeCrmHost() });
  expect(r.output).not.toMatch(/ERROR/);
  return out;
}

describe('configure show, as crmsh prints it', () => {
  it('puts descriptions on their own line and obscures passw* values', () => {
    const text = shown(`configure
node node1 description="first node" attributes a=1
primitive p1 Dummy description="a dummy" params fake=1 passwd=secret
primitive p2 Dummy
group g1 p1 p2 description="the group" meta target-role=Stopped
show
`);
    expect(text).toBe(`node node1 \\
\tdescription="first node" \\
\tattributes a=1
primitive p1 Dummy \\
\tdescription="a dummy" \\
\tparams fake=1 passwd="******"
primitive p2 Dummy
group g1 p1 p2 \\
\tdescription="the group" \\
\tmeta target-role=Stopped`);
    // obscure:PATTERN replaces the default pattern; the CIB keeps the value.
    expect(shown('configure\nprimitive p1 Dummy params passwd=secret user=me\nshow obscure:user\n')).toContain('passwd=secret user="******"');
  });

  it('writes fencing levels per target, attr: and pattern: targets without a colon', () => {
    const text = shown(`configure
node node1
node node2
node node3
primitive Fencing stonith:null params hostlist=node1
primitive FencingFail stonith:null params hostlist=node1
fencing_topology node1: FencingFail Fencing node2: FencingFail Fencing attr:cts-fencing=levels-and Fencing pattern:node.* Fencing
show fencing_topology
`);
    expect(text).toBe('fencing_topology \\\n\tnode1: FencingFail Fencing \\\n\tnode2: FencingFail Fencing \\\n\tattr:cts-fencing=levels-and Fencing \\\n\tpattern:node.* Fencing');
    // The same devices for two of three nodes is not the short form.
    expect(shown('configure\nnode node1\nnode node2\nnode node3\nprimitive F stonith:null\nfencing_topology node1: F node2: F\nshow fencing_topology\n')).toBe('fencing_topology \\\n\tnode1: F \\\n\tnode2: F');
  });

  it('prints as xml what crm syntax cannot say, and reads it back', () => {
    const cib = base.replace('<constraints/>', '<constraints><rsc_location id="l1" rsc="p1"><rule id="l1-r" score="INFINITY"><expression id="l1-e" attribute="#uname" operation="eq" value="n1"/><rule id="l1-inner" score="INFINITY"><date_expression id="l1-d" operation="lt" end="2030-01-01"/></rule></rule></rsc_location></constraints>').replace('<resources/>', '<resources><primitive id="p1" class="ocf" provider="heartbeat" type="Dummy"/></resources>');
    const text = shown('configure\nshow l1\n', cib);
    expect(text.split('\n')[0]).toBe('xml <rsc_location id="l1" rsc="p1"> \\');
    const again = runCrmOnCib(`${unchecked}configure\nerase\n${shown('configure\nshow\n', cib)}\ncommit\n`, base);
    expect(again.output).not.toMatch(/ERROR/);
    expect(cibToText(again.cib)).toContain('<date_expression id="l1-d" operation="lt" end="2030-01-01"/>');
  });

  // crmsh prints such a set as a bare `xml <meta_attributes>` that nothing reads back; paceline
  // prints it inside its section (crmsh's own parse of `rsc_defaults ...`), every id kept.
  it('prints a defaults set crm syntax cannot hold inside its section, and reads it back', () => {
    const text = shown('configure\nshow\n', defaultsCib);
    expect(text).toBe(`xml <rsc_defaults> \\
  <meta_attributes id="rsc.defaults"> \\
    <nvpair id="rsc.defaults.mt" name="migration-threshold" value="1"/> \\
  </meta_attributes> \\
</rsc_defaults>
xml <op_defaults> \\
  <meta_attributes id="op-monitor"> \\
    <rule id="op-monitor-rule" score="INFINITY"> \\
      <op_expression id="op-monitor-expr" name="monitor" interval="10s"/> \\
    </rule> \\
    <nvpair id="op-monitor-timeout" name="timeout" value="8s"/> \\
  </meta_attributes> \\
</op_defaults>
op_defaults op-plain: \\
\ttimeout=20s`);
    const again = runCrmOnCib(`${unchecked}configure\n${text}\ncommit\n`, base);
    expect(again.output).not.toMatch(/ERROR/);
    expect(normaliseConfiguration(cibToText(again.cib))).toBe(normaliseConfiguration(defaultsCib));
  });

  // As crmsh 4.4 decides: a set whose rule comes after an nvpair has no crm syntax (rules go first).
  it('prints a defaults set with a rule after an nvpair as xml, as crmsh does', () => {
    const cib = base.replace('<constraints/>', '<constraints/><rsc_defaults><meta_attributes id="d"><nvpair id="d-m" name="is-managed" value="false"/><rule id="d-r" score="INFINITY"><date_expression id="d-e" operation="lt" end="2030-01-01"/></rule></meta_attributes></rsc_defaults>');
    expect(shown('configure\nshow\n', cib).split('\n').slice(0, 2)).toEqual(['xml <rsc_defaults> \\', '  <meta_attributes id="d"> \\']);
    const ruleFirst = cib.replace(/(<nvpair[^>]*>)(<rule.*<\/rule>)/, '$2$1');
    expect(shown('configure\nshow\n', ruleFirst)).toBe('rsc_defaults d: \\\n\trule date lt 2030-01-01 \\\n\tis-managed=false');
  });

  // Bad input is named: crmsh's bare form (with the form to use instead), several sets in one.
  it('refuses a bare or multiple defaults set in xml with a clear error', () => {
    const bare = runCrmOnCib('configure\nxml <meta_attributes id="m"><nvpair id="m-1" name="timeout" value="1s"/></meta_attributes>\ncommit\n', base);
    expect(bare.exitCode).toBe(1);
    expect(bare.output).toContain('Element meta_attributes not recognized (a defaults set is given in its section: xml <rsc_defaults><meta_attributes');
    const two = runCrmOnCib('configure\nxml <op_defaults><meta_attributes id="a"/><meta_attributes id="b"/></op_defaults>\ncommit\n', base);
    expect(two.output).toContain('Element op_defaults must hold exactly one meta_attributes set');
    expect(runCrmOnCib('configure\nxml <rsc_defaults/>\ncommit\n', base).output).toContain('Element rsc_defaults must hold exactly one meta_attributes set');
    expect(two.changed).toBe(false);
  });

  it('hides rule and set ids yet keeps them through filter', () => {
    const script = `configure
primitive p1 Dummy params $id=p1-params fake=1
location l1 p1 rule $id=r1 100: #uname eq node1
location l2 p1 rule $id=r2 50: #uname eq node2
location l3 p1 rule $id-ref=r2
filter "sed 's/fake=1/fake=2/'" p1
filter "sed 's/eq node1/eq node3/'" l1
show
commit
`;
    const text = shown(script);
    expect(text).toContain('params fake=2');
    expect(text).toContain('rule 100: #uname eq node3');
    expect(text).toContain('rule $id=r2 50: #uname eq node2');
    const xml = cibToText(runCrmOnCib(unchecked + script, base, { host: nodeCrmHost() }).cib);
    expect(xml).toContain('<instance_attributes id="p1-params">');
    expect(xml).toContain('<rule score="100" id="r1">');
  });
});
