/**
 * The configure commands that rewrite objects wholesale (edit, filter, modgroup, load, save),
 * and the session commands around them (undo, show changed, refresh, upgrade, erase, rename),
 * run offline through the real host: files in a temporary directory, $EDITOR a shell script.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { nodeCrmHost } from '../../packages/cli/src/commands/crm-host.js';
import { cibToText, CrmShell, runCrmOnCib } from '../../packages/cli/src/crm/script.js';
import { defaultsCib, normaliseConfiguration } from './support.js';

const base = `<cib epoch="5" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.0"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes><node id="1" uname="node1"/></nodes><resources/><constraints/></configuration><status/></cib>`;
const dir = mkdtempSync(join(tmpdir(), 'paceline-crm-cmds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const savedEditor = process.env.EDITOR;
afterEach(() => {
  if (savedEditor === undefined) delete process.env.EDITOR;
  else process.env.EDITOR = savedEditor;
});

const host = nodeCrmHost(undefined, dir);
const run = (script: string, cib = base) => runCrmOnCib(script, cib, { host });
const xmlOf = (script: string, cib = base): string => {
  const r = run(script, cib);
  expect(r.output).not.toMatch(/ERROR/);
  expect(r.exitCode).toBe(0);
  return cibToText(r.cib);
};
const setup = 'configure\nprimitive a ocf:pacemaker:Dummy params fake=1 op monitor interval=10s\nprimitive b ocf:pacemaker:Dummy\nprimitive c ocf:pacemaker:Dummy\ngroup g a b\n';

/** An $EDITOR: a shell script applying `sed` expressions to the file it is given. */
function editor(name: string, ...sed: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${sed.map((e) => `sed -i '${e}' "$1"`).join('\n')}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('configure modgroup', () => {
  // crmsh's positions: at the end, before or after a member; remove sends the member to the top.
  it('adds at the end, before and after members, and removes', () => {
    const xml = xmlOf(`${setup}primitive d ocf:pacemaker:Dummy\nmodgroup g add c\nmodgroup g add d before a\nmodgroup g remove b\ncommit\n`);
    const group = xml.slice(xml.indexOf('<group'), xml.indexOf('</group>'));
    expect([...group.matchAll(/<primitive id="(\w+)"/g)].map((m) => m[1])).toEqual(['d', 'a', 'c']);
    expect(xml.indexOf('<primitive id="b"')).toBeGreaterThan(xml.indexOf('</group>'));
  });

  // Wrong members and wrong syntax are named, and nothing changes.
  it('refuses non-members, grouped resources and bad syntax', () => {
    expect(run(`${setup}modgroup g remove c\ncommit\n`).output).toContain('c is not member of g');
    expect(run(`${setup}group g2 c\nmodgroup g add c\ncommit\n`).output).toContain('c already in use at g2');
    const r = run(`${setup}modgroup g add c between a\n`);
    expect(r.output).toMatch(/line 6, column 18: expected after\|before \(found between\)/);
    expect(r.changed).toBe(false);
  });
});

describe('configure save and load', () => {
  // save writes what show prints; load update adds and updates without deleting, push deletes too.
  it('round-trips crm syntax through save, load update and load push', () => {
    const saved = xmlOf(`${setup}property stonith-enabled=false\nsave saved.crm\ncommit\n`);
    expect(readFileSync(join(dir, 'saved.crm'), 'utf8')).toMatch(/^primitive a ocf:pacemaker:Dummy \\\n\tparams fake=1/m);
    const updated = xmlOf('configure\nprimitive z ocf:pacemaker:Dummy\nload update saved.crm\ncommit\n', saved);
    expect(updated).toContain('id="z"');
    const pushed = xmlOf('configure\nprimitive z ocf:pacemaker:Dummy\nload push saved.crm\ncommit\n', saved);
    expect(pushed).not.toContain('id="z"');
    expect(pushed).toContain('id="a-monitor-10s"');
    expect(pushed).toContain('name="stonith-enabled" value="false"');
  });

  // load replace erases first; an XML file is read as CIB XML with its ids.
  it('replaces from XML, keeping the ids written there', () => {
    xmlOf(`${setup}save xml saved.xml\n`);
    const xml = xmlOf('configure\nprimitive z ocf:pacemaker:Dummy\nload xml replace saved.xml\ncommit\n');
    expect(xml).not.toContain('id="z"');
    expect(xml).toContain('id="a-instance_attributes-fake"');
    expect(xml).toContain('<group id="g">');
  });

  // A file with a syntax error names its line and column and loads nothing.
  it('reports a bad file by line and column', () => {
    writeFileSync(join(dir, 'bad.crm'), 'primitive p1 ocf:pacemaker:Dummy\n\ncolocation c1 inf: p1:Bogus p2\n');
    const r = run('configure\nload update bad.crm\ncommit\n');
    expect(r.exitCode).toBe(1);
    expect(r.output).toMatch(/load bad\.crm: line 3, column 20: syntax in colocation: Invalid role 'Bogus'/);
    expect(run('configure\nload update missing.crm\n').output).toMatch(/cannot read missing\.crm/);
  });
});

describe('configure filter and edit', () => {
  // filter pipes show output through a command and reads it back: changes, deletions.
  it('filters objects through a shell command', () => {
    const xml = xmlOf(`${setup}filter "sed 's/interval=10s/interval=20s/'" a\ncommit\n`);
    expect(xml).toContain('id="a-monitor-20s"');
    expect(xml).not.toContain('a-monitor-10s');
    expect(run(`${setup}filter "false"\n`).output).toMatch(/filter false: exited 1/);
  });

  // edit: the editor's changes are read back; ids of unchanged parts stay; deleted lines delete objects.
  it('edits through $EDITOR', () => {
    process.env.EDITOR = editor('ed1.sh', 's/fake=1/fake=2/', '/^primitive c /d');
    const xml = xmlOf(`${setup}edit\ncommit\n`);
    expect(xml).toContain('<nvpair name="fake" value="2" id="a-instance_attributes-fake"/>');
    expect(xml).toContain('id="a-monitor-10s"');
    expect(xml).not.toContain('id="c"');
    expect(xml).toContain('<node id="1" uname="node1"/>');
    expect(xml).not.toContain('<tags');
  });

  // A syntax error in the edited text is named by line and column; outside the interactive shell nothing changes.
  it('reports an edit syntax error by position', () => {
    process.env.EDITOR = editor('ed2.sh', 's/interval=10s/interval=20s/', '$a colocation c1 inf: a:Bogus b');
    const r = run(`${setup}commit\nedit\n`);
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain("edit: line 10, column 20: syntax in colocation: Invalid role 'Bogus'");
    expect(r.output).toContain('nothing changed');
  });

  // Interactive: the editor opens again with the error on top; the second round fixes it.
  it('re-opens the editor after an error in the interactive shell', () => {
    const marker = join(dir, 'rounds');
    writeFileSync(
      join(dir, 'ed3.sh'),
      `#!/bin/sh\nif grep -q '^# paceline: ERROR' "$1"; then sed -i -e '/^colocation/d' -e 's/interval=10s/interval=30s/' "$1"; echo 2 >> ${marker}; else sed -i '$a colocation c1 inf: a:Bogus b' "$1"; echo 1 >> ${marker}; fi\n`,
    );
    chmodSync(join(dir, 'ed3.sh'), 0o755);
    process.env.EDITOR = join(dir, 'ed3.sh');
    const sh = new CrmShell(xmlOf(`${setup}commit\n`), { host, interactive: true });
    sh.execute('configure');
    const step = sh.execute('edit');
    expect(step.output).toContain("ERROR: edit: line 10, column 20: syntax in colocation: Invalid role 'Bogus'");
    expect(readFileSync(marker, 'utf8')).toBe('1\n2\n');
    expect(sh.execute('show a').output).toContain('op monitor interval=30s');
    expect(sh.execute('show').output).not.toContain('colocation');
  });
});

describe('configure undo, show changed, refresh, upgrade', () => {
  // undo steps back one uncommitted change at a time; show changed lists what differs from the last commit.
  it('undoes uncommitted edits one by one', () => {
    const sh = new CrmShell(base, { host });
    sh.execute('configure');
    sh.execute('primitive p1 ocf:pacemaker:Dummy');
    sh.execute('commit');
    sh.execute('primitive p2 ocf:pacemaker:Dummy');
    sh.execute('rename p1 p3');
    expect(sh.execute('show changed').output).toBe('primitive p2 ocf:pacemaker:Dummy\nprimitive p3 ocf:pacemaker:Dummy');
    sh.execute('undo');
    expect(sh.execute('show').output).toMatch(/primitive p1 .*\nprimitive p2 /);
    sh.execute('undo');
    expect(sh.execute('show').output).not.toContain('p2');
    expect(sh.execute('undo').output).toContain('nothing to undo');
    sh.execute('primitive p4 ocf:pacemaker:Dummy');
    sh.execute('refresh');
    expect(sh.execute('show').output).toBe('node 1: node1\nprimitive p1 ocf:pacemaker:Dummy\nproperty cib-bootstrap-options: \\\n\tstonith-enabled=false');
  });

  // upgrade as crmsh: only with force (or an old 0.6 schema); the epoch moves once.
  it('upgrades the schema with force', () => {
    expect(cibToText(run('configure\nupgrade\ncommit\n').cib)).toContain('validate-with="pacemaker-3.0"');
    const xml = cibToText(run('configure\nupgrade force\ncommit\n').cib);
    expect(xml).toContain('validate-with="pacemaker-3.9"');
    expect(xml).toMatch(/<cib epoch="1" num_updates="0" admin_epoch="1"/);
    expect(run('configure\nupgrade now\n').output).toContain("expected 'force' or no argument");
  });

  // A failed command leaves the working configuration as it was before it.
  it('keeps the working configuration when a command fails half way', () => {
    const sh = new CrmShell(base, { host });
    sh.execute('configure');
    sh.execute('primitive p1 ocf:pacemaker:Dummy');
    const step = sh.execute('erase bogus');
    expect(step.ok).toBe(false);
    expect(sh.execute('show p1').output).toContain('primitive p1');
  });
});

describe('configure show selections', () => {
  // crmsh filter_objects: wildcards, type:, tag:, related:, and/or.
  it('selects objects by id pattern, type, tag and relation', () => {
    const sh = new CrmShell(base, { host });
    sh.execute(`${setup}primitive d ocf:pacemaker:Dummy\nlocation l1 g 100: node1\norder o1 Mandatory: d g\ntag t1: c d`);
    const show = (args: string): string[] => sh.execute(`show ${args}`).output.split('\n').filter((l) => /^\w/.test(l)).map((l) => l.split(' ').slice(0, 2).join(' '));
    expect(show('type:order')).toEqual(['order o1']);
    expect(show('tag:t1')).toEqual(['primitive c', 'primitive d']);
    expect(show('type:primitive and tag:t1')).toEqual(['primitive c', 'primitive d']);
    expect(show('type:location or type:order')).toEqual(['location l1', 'order o1']);
    expect(show('[ab]')).toEqual(['primitive a', 'primitive b']);
    expect(show('related:d')).toEqual(['primitive d', 'tag t1', 'order o1']);
    expect(sh.execute('show nosuch').output).toBe('ERROR: object nosuch does not exist\n');
  });
});


describe('defaults sets shown as xml in their section', () => {
  const empty = defaultsCib.replace(/<rsc_defaults>.*<\/op_defaults>/, '');
  const sectionOf = (xml: string, id: string): string | undefined => [...xml.matchAll(/<(rsc_defaults|op_defaults)>(.*?)<\/\1>/gs)].find((m) => m[2]!.includes(`<meta_attributes id="${id}"`))?.[1];

  // What show prints for them goes through save and load update|replace as it is, ids kept.
  it('survive save, load update and load replace', () => {
    xmlOf('configure\nsave defaults.crm\n', defaultsCib);
    expect(readFileSync(join(dir, 'defaults.crm'), 'utf8')).toContain('xml <op_defaults> \\\n  <meta_attributes id="op-monitor"> \\');
    const want = normaliseConfiguration(defaultsCib);
    expect(normaliseConfiguration(xmlOf('configure\nload update defaults.crm\ncommit\n', empty))).toBe(want);
    expect(normaliseConfiguration(xmlOf('configure\nprimitive z ocf:pacemaker:Dummy\nload replace defaults.crm\ncommit\n', empty))).toBe(want);
    // load update merges into the set of that id: a new value, the rule and other ids kept.
    writeFileSync(join(dir, 'defaults2.crm'), 'xml <op_defaults><meta_attributes id="op-monitor"><nvpair id="op-monitor-timeout" name="timeout" value="9s"/></meta_attributes></op_defaults>\n');
    const merged = xmlOf('configure\nload update defaults2.crm\ncommit\n', defaultsCib);
    expect(merged).toContain('<nvpair id="op-monitor-timeout" name="timeout" value="9s"/>');
    expect(merged).toContain('<op_expression id="op-monitor-expr" name="monitor" interval="10s"/>');
  });

  // edit and filter read the xml form back: a changed value, a set moved to the other section.
  it('are edited and filtered in that form', () => {
    process.env.EDITOR = editor('ed-defaults.sh', 's/value="8s"/value="7s"/');
    const edited = xmlOf('configure\nedit op-monitor\ncommit\n', defaultsCib);
    expect(edited).toContain('<nvpair id="op-monitor-timeout" name="timeout" value="7s"/>');
    expect(edited).toContain('<rule id="op-monitor-rule" score="INFINITY">');
    const moved = xmlOf(`configure\nfilter "sed 's/rsc_defaults>/op_defaults>/'" rsc.defaults\ncommit\n`, defaultsCib);
    expect(sectionOf(moved, 'rsc.defaults')).toBe('op_defaults');
    expect(moved).toContain('<nvpair id="rsc.defaults.mt" name="migration-threshold" value="1"/>');
    // Unchanged text changes nothing (the configuration is not even touched).
    expect(run('configure\nfilter cat\ncommit\n', defaultsCib).changed).toBe(false);
  });

  // As crmsh's set_property_cli: a set of that id takes the nvpairs wherever it is (no second
  // element of the same id); an id another kind of element holds is refused.
  it('merge into the set of that id, whichever section holds it', () => {
    const merged = xmlOf('configure\nop_defaults $id=rsc.defaults timeout=1s\ncommit\n', defaultsCib);
    expect(merged.match(/id="rsc\.defaults"/g)).toHaveLength(1);
    expect(sectionOf(merged, 'rsc.defaults')).toBe('rsc_defaults');
    expect(merged).toContain('<nvpair name="timeout" value="1s" id="rsc.defaults-timeout"/>');
    const clash = run(`${setup}rsc_defaults a: resource-stickiness=1\ncommit\n`);
    expect(clash.exitCode).toBe(1);
    expect(clash.output).toContain('id a is already in use');
  });
});
