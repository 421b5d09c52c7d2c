/**
 * `configure show` formatting details checked against what the real crm 4.4.1 printed for the
 * same input (the expected texts were taken from `CIB_file=F crm -f SCRIPT` runs): descriptions
 * on their own line, obscured passwords, fencing levels per target, objects printed as `xml`
 * when their crm syntax would not read back, and ids an edit keeps without showing them.
 */
import { describe, expect, it } from 'vitest';
import { cibToText, runCrmOnCib } from '../../packages/cli/src/crm/script.js';
import { nodeCrmHost } from '../../packages/cli/src/commands/crm-host.js';

const base = '<cib epoch="1" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>';

function shown(script: string, cib = base): string {
  let out = '';
  const r = runCrmOnCib(script, cib, { onShow: (_a, text) => (out = text), host: nodeCrmHost() });
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
    const again = runCrmOnCib(`configure\nerase\n${shown('configure\nshow\n', cib)}\ncommit\n`, base);
    expect(again.output).not.toMatch(/ERROR/);
    expect(cibToText(again.cib)).toContain('<date_expression id="l1-d" operation="lt" end="2030-01-01"/>');
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
    const xml = cibToText(runCrmOnCib(script, base, { host: nodeCrmHost() }).cib);
    expect(xml).toContain('<instance_attributes id="p1-params">');
    expect(xml).toContain('<rule score="100" id="r1">');
  });
});
