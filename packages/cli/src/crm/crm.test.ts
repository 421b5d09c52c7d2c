import { describe, expect, it } from 'vitest';
import { splitCommands, tokenize } from './lexer.js';
import { parseCommand } from './parser.js';
import { runCrmOnCib, cibToText } from './script.js';

const base = `<cib epoch="5" num_updates="0" admin_epoch="0" validate-with="pacemaker-3.0"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes/><resources/><constraints/></configuration><status/></cib>`;

function parse(line: string) {
  const cmd = splitCommands(line)[0]!;
  const lexed = tokenize(cmd);
  if (!lexed.ok) throw new Error(lexed.message);
  return parseCommand(lexed.tokens, { ocf11: false });
}

describe('crm configure grammar', () => {
  // A syntax error must point at the line and column of the offending word and say what was expected.
  it('names line, column and expectation of a syntax error', () => {
    const r = parse('\n\ncolocation c1 inf: a:Bogus b');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.line).toBe(3);
      expect(r.column).toBe(20);
      expect(r.message).toContain("Invalid role 'Bogus'");
    }
  });

  // Quotes and backslash continuations are cut like shlex, so values with spaces survive.
  it('lexes quoted values across continuation lines', () => {
    const cmds = splitCommands("primitive st stonith:ssh \\\n\tparams hostlist='node1 node2'\n");
    expect(cmds).toHaveLength(1);
    const r = parse(cmds[0]!.text);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.node.children[0]!.children[0]!.attrs.get('value')).toBe('node1 node2');
  });

  // Ops default interval=0 and non-op attributes become the op's instance attributes, as crmsh does.
  it('generates crmsh ids for params, meta and ops', () => {
    const res = runCrmOnCib('configure\nprimitive vip ocf:heartbeat:IPaddr2 params ip=10.0.0.10 meta target-role=Started op monitor interval=10s OCF_CHECK_LEVEL=10 op start timeout=60s\ncommit\n', base);
    const xml = cibToText(res.cib);
    for (const id of ['vip-instance_attributes', 'vip-instance_attributes-ip', 'vip-meta_attributes-target-role', 'vip-monitor-10s', 'vip-monitor-10s-instance_attributes-OCF_CHECK_LEVEL', 'vip-start-0']) {
      expect(xml).toContain(`id="${id}"`);
    }
    expect(xml).toContain('epoch="6"');
  });

  // Taken ids get the -0, -1 suffixes of crmsh's idmgmt.
  it('makes generated ids unique with numeric suffixes', () => {
    const res = runCrmOnCib('configure\nprimitive d Dummy\nlocation l2 d rule 100: #uname eq node1 and pingd gt 0 and a lt 3\ncommit\n', base);
    const xml = cibToText(res.cib);
    expect(xml).toContain('id="l2-rule-expression"');
    expect(xml).toContain('id="l2-rule-expression-0"');
    expect(xml).toContain('id="l2-rule-expression-1"');
  });

  // A failed batch commits nothing, even the commands before the error.
  it('commits nothing when a command in the batch fails', () => {
    const res = runCrmOnCib('configure\nprimitive d1 Dummy\ncommit\nprimitive d1 Dummy\ncommit\n', base);
    expect(res.exitCode).toBe(1);
    expect(res.changed).toBe(false);
    expect(res.output).toContain('id d1 is already in use');
  });

  // Several commits in one batch still bump the epoch once.
  it('bumps the epoch once for several commits', () => {
    const res = runCrmOnCib('configure\nprimitive d1 Dummy\ncommit\nprimitive d2 Dummy\ncommit\n', base);
    expect(cibToText(res.cib)).toContain('epoch="6"');
  });

  // show prints crm syntax in crmsh's order, with continuation lines.
  it('renders show in crm syntax', () => {
    const res = runCrmOnCib('configure\nprimitive d2 Delay params mondelay=60 op start timeout=60s\nnode node1 attributes mem=16G\ncolocation c1 inf: d2 d2b\nproperty stonith-enabled=false\nshow\n', base);
    expect(res.output).toBe(
      'node node1 \\\n\tattributes mem=16G\nprimitive d2 Delay \\\n\tparams mondelay=60 \\\n\top start timeout=60s interval=0\ncolocation c1 inf: d2 d2b\nproperty cib-bootstrap-options: \\\n\tstonith-enabled=false',
    );
  });
});

describe('runCrmScript on a CIB file', () => {
  // CIB_file mode: the file is replaced once with the committed CIB, and left alone on failure.
  it('writes the file on success and leaves it on failure', async () => {
    const { mkdtempSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { runCrmScript } = await import('../commands/crm.js');
    const dir = mkdtempSync(join(tmpdir(), 'paceline-crm-'));
    const file = join(dir, 'cib.xml');
    writeFileSync(file, base);
    const ok = runCrmScript('configure\nprimitive d1 Dummy\ncommit\n', { cibFile: file });
    expect(ok.exitCode).toBe(0);
    const after = readFileSync(file, 'utf8');
    expect(after).toContain('id="d1"');
    const bad = runCrmScript('configure\nprimitive d2 Dummy\nprimitive ( x\ncommit\n', { cibFile: file });
    expect(bad.exitCode).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(after);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('paceline configure (commander)', () => {
  // The one-shot command as users type it: words after `configure` form one crm command.
  it('runs a one-shot configure command on --cib-file', async () => {
    const { mkdtempSync, readFileSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { Command } = await import('commander');
    const { registerCrmCommands } = await import('../commands/crm.js');
    const dir = mkdtempSync(join(tmpdir(), 'paceline-crm-'));
    const file = join(dir, 'cib.xml');
    writeFileSync(file, base);
    const program = new Command('paceline').enablePositionalOptions().exitOverride();
    registerCrmCommands(program);
    const saved = process.exitCode;
    await program.parseAsync(['configure', '--cib-file', file, 'primitive', 'vip', 'ocf:heartbeat:IPaddr2', 'params', 'ip=10.0.0.10', 'op', 'monitor', 'interval=10s'], { from: 'user' });
    expect(process.exitCode ?? 0).toBe(0);
    process.exitCode = saved;
    const xml = readFileSync(file, 'utf8');
    expect(xml).toContain('id="vip-instance_attributes-ip"');
    expect(xml).toContain('id="vip-monitor-10s"');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('show xml', () => {
  // `show xml ID` prints the object inside cib/configuration with the main sections, as crmsh does.
  it('prints one object in crmsh layout', () => {
    const out: string[] = [];
    runCrmOnCib('configure\nnode node1\nprimitive d1 Dummy\nshow xml node1\n', base, { onShow: (_a, t) => out.push(t) });
    expect(out[0]).toBe(
      '<?xml version="1.0" ?>\n<cib>\n  <configuration>\n    <crm_config/>\n    <nodes>\n      <node uname="node1" id="node1"/>\n    </nodes>\n    <resources/>\n    <constraints/>\n  </configuration>\n</cib>',
    );
  });
});

describe('syntax errors', () => {
  // Each common mistake is reported at the word where parsing stopped, with what was expected.
  it.each([
    ['colocation c1 m1 m2', 1, 15, 'Expected <score>:'],
    ['order o1 Mandatory: a ( b c', 1, 27, 'Unmatched opening bracket'],
    ['location l1 d1', 1, 15, 'Expected <score>: <node> or <rule>'],
    ['primitive p1 ocf:Dummy', 1, 14, 'Unknown resource type'],
    ['location l1 d1 rule inf: #uname bogus node1', 1, 33, 'Expected lt|gt|lte|gte|eq|ne'],
    ['group g1 a a', 1, 12, 'listed more than once'],
  ])('%s', (line, lineNo, column, expected) => {
    const r = parse(line);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect({ line: r.line, column: r.column }).toEqual({ line: lineNo, column });
      expect(r.message).toContain(expected);
    }
  });

  // An unclosed quote is a lexing error with the position of the quote.
  it('reports an unclosed quote', () => {
    const res = runCrmOnCib('configure\nprimitive p1 Dummy params a="x\n', base);
    expect(res.exitCode).toBe(1);
    expect(res.output).toContain('line 2, column 29: no closing quotation');
  });
});

describe('constraints follow their resources', () => {
  // A new group takes over its children's constraints; one left on a single resource goes away,
  // and a set emptied by the move is dropped instead of leaving schema-invalid XML (crmsh's bug).
  it('redirects children constraints to the new container', () => {
    const res = runCrmOnCib(
      'configure\nprimitive a Dummy\nprimitive b Dummy\nprimitive c Dummy\nlocation la a 100: n1\norder oac Mandatory: a c\norder oset Optional: a ( b c ) a\ngroup g1 a c\ncommit\n',
      base,
    );
    const xml = cibToText(res.cib);
    expect(xml).toContain('<rsc_location id="la" rsc="g1" score="100" node="n1"/>');
    expect(xml).not.toContain('id="oac"');
    expect(xml).not.toMatch(/<resource_set[^>]*\/>/);
  });
});
