/**
 * The checks a commit passes (packages/cli/src/crm/check.ts), through the real command-line
 * entry points on a CIB file, with the agents of this repository (agents/ocf/paceline,
 * agents/stonith) read for their meta-data: unknown agents, parameters and ids caught with a
 * suggestion, nothing written when refused, `commit force`, check-mode and check-frequency,
 * `verify`, and the interactive shell refusing an object as it is typed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { catalogAgentSource } from '../../packages/cli/src/commands/crm-host.js';
import { runCrmCommand, runCrmScript } from '../../packages/cli/src/commands/crm.js';
import { CrmShell } from '../../packages/cli/src/crm/script.js';

const fenceOff = '<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>';
const cibText = (crmConfig = fenceOff, resources = '') =>
  `<cib validate-with="pacemaker-3.9" epoch="4" num_updates="0" admin_epoch="0"><configuration>${crmConfig}<nodes><node id="1" uname="node1"/><node id="2" uname="node2"/></nodes><resources>${resources}</resources><constraints/></configuration><status/></cib>\n`;

describe('checks at commit, on a CIB file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-crm-checks-'));
  const file = join(dir, 'cib.xml');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => writeFileSync(file, cibText()));
  const one = (line: string) => runCrmCommand(line, { cibFile: file });
  const script = (text: string) => runCrmScript(text, { cibFile: file });
  const unchanged = () => expect(readFileSync(file, 'utf8')).toBe(cibText());

  it('refuses an agent that is not installed, naming the nearest ones, and writes nothing', () => {
    const r = one('primitive d ocf:paceline:Dumy');
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('ERROR: d: no such resource agent ocf:paceline:Dumy (did you mean "ocf:paceline:Dummy"');
    expect(r.output).toContain('commit refused: 1 error above (nothing was committed');
    unchanged();
    // Another provider's agent of that name is offered when the provider is wrong.
    expect(one('primitive d ocf:nosuchprovider:IPaddr').output).toContain('"ocf:paceline:IPaddr"');
    unchanged();
  });

  it('refuses a parameter the agent does not know, with the one meant', () => {
    const r = one('primitive d ocf:paceline:Dummy params stat=1');
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('ERROR: d: parameter "stat" is not known (did you mean "state"?)');
    unchanged();
  });

  it('refuses a primitive without a required parameter', () => {
    const r = one('primitive vip ocf:paceline:IPaddr params cidr_netmask=24');
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('ERROR: vip: required parameter "ip" not defined');
    unchanged();
    expect(one('primitive vip ocf:paceline:IPaddr params ip=192.0.2.10 cidr_netmask=24').exitCode).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('value="192.0.2.10"');
  });

  it('checks the parameters of a primitive made from a template against the template agent', () => {
    const r = script('configure\nrsc_template tpl ocf:paceline:IPaddr params cidr_netmask=24\nprimitive vip @tpl params ipp=192.0.2.10\ncommit\n');
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('ERROR: vip: required parameter "ip" not defined');
    expect(r.output).toContain('ERROR: vip: parameter "ipp" is not known (did you mean "ip"?)');
    unchanged();
  });

  it('knows Pacemaker\'s own fencing parameters, and does not ask fence agents for action or port', () => {
    const r = one('primitive fence stonith:fence_lab params lab_dir=/run/paceline-lab pcmk_host_list="node1 node2" pcmk_delay_max=5s');
    expect(r.output).not.toContain('ERROR');
    expect(r.exitCode).toBe(0);
  });

  it('refuses a constraint on an id that does not exist, with the nearest ones', () => {
    writeFileSync(file, cibText(fenceOff, '<primitive id="web" class="ocf" provider="paceline" type="Dummy"/>'));
    const before = readFileSync(file, 'utf8');
    const r = one('colocation c1 inf: webb node1');
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/ERROR: c1: rsc="webb": no resource, template or tag has that id \(did you mean "web"\?\)/);
    expect(readFileSync(file, 'utf8')).toBe(before);
    // A reference to an object made later in the same batch is fine: ids are checked at commit.
    const fwd = script('configure\nlocation l1 db 100: node1\nprimitive db ocf:paceline:Dummy\ncommit\n');
    expect(fwd.exitCode).toBe(0);
  });

  it('names the nearest ids when a command names one that does not exist', () => {
    writeFileSync(file, cibText(fenceOff, '<primitive id="web" class="ocf" provider="paceline" type="Dummy"/>'));
    const before = readFileSync(file, 'utf8');
    expect(one('group g wbe').output).toContain('g refers to missing object wbe (did you mean "web"?)');
    expect(script('configure\ndelete wbe\ncommit\n').output).toContain('object wbe does not exist (did you mean "web"?)');
    expect(readFileSync(file, 'utf8')).toBe(before);
    // A tag may name what does not exist yet (from the pacemaker-3.3 schema on; an IDREF before): a warning.
    const tag = one('tag t1 wbe web');
    expect(tag.output).toContain('WARNING: wbe: tag t1 refers to unknown id "wbe" (did you mean "web"?)');
    expect(tag.exitCode).toBe(0);
  });

  it('warns about a meta attribute, a node and a cluster option nobody knows, and commits', () => {
    writeFileSync(file, cibText(fenceOff, '<primitive id="d" class="ocf" provider="paceline" type="Dummy"/>'));
    const r = script('configure\nprimitive d2 ocf:paceline:Dummy meta target_role=Stopped\nlocation l1 d 100: nod1\nproperty no-quorum-polcy=stop\ncommit\n');
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain(`WARNING: d2: unknown attribute 'target_role' (did you mean "target-role"?)`);
    expect(r.output).toContain('WARNING: l1: node "nod1" is not a configured node (did you mean "node1"');
    expect(r.output).toContain('"no-quorum-polcy" is not a Pacemaker 2.1 cluster option (did you mean "no-quorum-policy"?)');
    expect(readFileSync(file, 'utf8')).toContain('id="d2"');
  });

  it('refuses resources with fencing enabled and no fence device, and says what to do', () => {
    writeFileSync(file, cibText('<crm_config/>'));
    const r = one('primitive d ocf:paceline:Dummy');
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('no fencing (class stonith) resource is defined: resources will not start (configure a fence device, or set stonith-enabled=false)');
    // An empty configuration (no primitive yet) is where a cluster starts: not held against it.
    expect(one('node node3').exitCode).toBe(0);
  });

  it('reports only what the commit brings: problems already in the CIB do not block other changes', () => {
    writeFileSync(file, cibText(fenceOff, '<primitive id="d" class="ocf" provider="paceline" type="Dummy"/>').replace('<constraints/>', '<constraints><rsc_location id="old" rsc="gone" node="node1" score="1"/></constraints>'));
    const r = one('primitive d2 ocf:paceline:Dummy');
    expect(r.output).not.toContain('gone');
    expect(r.exitCode).toBe(0);
  });

  it('commits all the same with `commit force`', () => {
    const r = script('configure\nprimitive d ocf:paceline:Dummy params stat=1\ncommit force\n');
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain('ERROR: d: parameter "stat" is not known');
    expect(r.output).toContain('INFO: commit forced');
    expect(readFileSync(file, 'utf8')).toContain('name="stat"');
  });

  it('takes agent problems as warnings with check-mode relaxed, and checks nothing with check-frequency never', () => {
    const relaxed = script('options check-mode relaxed\nconfigure\nprimitive d ocf:paceline:Dummy params stat=1\ncommit\n');
    expect(relaxed.exitCode).toBe(0);
    expect(relaxed.output).toContain('WARNING: d: parameter "stat" is not known');
    writeFileSync(file, cibText());
    const never = script('options check-frequency never\nconfigure\nprimitive d ocf:paceline:Dumy\ncommit\n');
    expect(never.exitCode).toBe(0);
    expect(never.output).toBe('');
    expect(script('options check-mode lax\n').output).toContain('usage: check-mode strict|relaxed');
  });

  it('verify reports every problem of the configuration and fails on errors', () => {
    writeFileSync(file, cibText(fenceOff, '<primitive id="d" class="ocf" provider="paceline" type="Dummy"><instance_attributes id="d-ia"><nvpair id="d-ia-x" name="stat" value="1"/></instance_attributes></primitive>'));
    const r = script('configure\nverify\n');
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain('ERROR: d: parameter "stat" is not known (did you mean "state"?)');
    writeFileSync(file, cibText(fenceOff, '<primitive id="d" class="ocf" provider="paceline" type="Dummy"/>'));
    expect(script('configure\nverify\n')).toEqual({ exitCode: 0, output: '' });
  });
});

describe('checks as the object is typed, in the interactive shell', () => {
  it('refuses the object at once in check-mode strict, keeps it with a warning in relaxed', () => {
    const sh = new CrmShell(cibText(), { interactive: true, agents: catalogAgentSource() });
    sh.execute('configure');
    const bad = sh.execute('primitive d ocf:paceline:Dummy params stat=1');
    expect(bad.ok).toBe(false);
    expect(bad.output).toContain('ERROR: d: parameter "stat" is not known (did you mean "state"?)');
    expect(bad.output).toContain('not added');
    expect(sh.execute('show').output).not.toContain('primitive d ');
    expect(sh.dirty).toBe(false);
    expect(sh.execute('primitive d ocf:paceline:Dummy params state=/tmp/x').ok).toBe(true);
    sh.execute('up');
    sh.execute('options check-mode relaxed');
    sh.execute('configure');
    const relaxed = sh.execute('primitive e ocf:paceline:Dummy params stat=1');
    expect(relaxed.ok).toBe(true);
    expect(relaxed.output).toContain('WARNING: e: parameter "stat" is not known');
  });

  it('with check-frequency on-verify, checks only at commit', () => {
    const sh = new CrmShell(cibText(), { interactive: true, agents: catalogAgentSource() });
    sh.execute('options check-frequency on-verify');
    sh.execute('configure');
    expect(sh.execute('primitive d ocf:paceline:Dumy').ok).toBe(true);
    const commit = sh.execute('commit');
    expect(commit.ok).toBe(false);
    expect(commit.output).toContain('no such resource agent ocf:paceline:Dumy');
    expect(commit.commit).toBeUndefined();
  });
});
