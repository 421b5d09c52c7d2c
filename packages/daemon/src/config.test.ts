import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_EXAMPLE, formatDiagnostics, loadNodeConfig, parseNodeConfig, parseHostPort, renderConfigReference, type ConfigDiagnostic } from './config.js';

const good = (): Record<string, unknown> => JSON.parse(JSON.stringify(CONFIG_EXAMPLE)) as Record<string, unknown>;

/** Applies `edit` to a copy of the example and returns the diagnostics of the result. */
function diagnose(edit: (c: Record<string, any>) => void): { ok: boolean; diagnostics: readonly ConfigDiagnostic[] } {
  const c = good();
  edit(c);
  const r = parseNodeConfig(c, '/etc/paceline');
  return { ok: r.config !== undefined, diagnostics: r.diagnostics };
}

function expectError(edit: (c: Record<string, any>) => void, path: string, reason: RegExp): void {
  const r = diagnose(edit);
  expect(r.ok, formatDiagnostics(r.diagnostics)).toBe(false);
  expect(r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.path}: ${d.reason}`)).toContainEqual(expect.stringMatching(new RegExp(`^${escape(path)}: .*${reason.source}`)));
}
const escape = (s: string): string => s.replace(/[.[\]()]/g, '\\$&');

describe('node config', () => {
  // The documented example must be valid, or the docs lie about the format.
  it('accepts the example and fills the defaults', () => {
    const r = parseNodeConfig(good(), '/etc/paceline');
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const c = r.config!;
    expect(c.node).toEqual({ id: 1, name: 'node1' });
    expect(c.nodes.map((n) => [n.id, n.votes])).toEqual([[1, 1], [2, 1], [3, 1]]);
    expect(c.messagingFile).toMatchObject({ clusterName: 'lab', nodeId: 1, authkeyPath: '/etc/paceline/authkey' });
    expect(c.messagingFile.nodes[1]).toEqual({ nodeId: 2, votes: 1, name: 'node2', addresses: ['10.77.0.12:5405'] });
    expect(c.nodelistVersion).toBe(0);
    expect(c.messaging.core.nodelistVersion).toBe(0);
    expect(c.messaging.addresses.get(3)).toEqual([{ host: '10.77.0.13', port: 5405 }]);
    expect(c.api).toEqual({ socket: '/run/paceline/api.sock', group: 'haclient', tcp: { host: '127.0.0.1', port: 7405, tokenPath: '/etc/paceline/api-token' } });
    expect(c.log).toEqual({ level: 'info', target: { kind: 'stderr' } });
    expect(c.dataDir).toBe('/var/lib/paceline');
    expect(c.initialCib).toBeUndefined();
  });

  // A minimal file (no optional sections) is enough to start a node.
  it('needs only clusterName, node and nodes', () => {
    const r = parseNodeConfig({ clusterName: 'x', node: { id: 2, name: 'b' }, nodes: [{ id: 2, name: 'b', addresses: ['127.0.0.1:6000'] }] });
    expect(formatDiagnostics(r.diagnostics)).toBe('');
    expect(r.config?.api.tcp).toBeUndefined();
    expect(r.config?.log.level).toBe('info');
  });

  // A node restarted with its clock stepped back must still come back with a higher incarnation,
  // or its peers drop its packets as stale for good: the incarnation file is always kept.
  it('keeps the incarnation in dataDir unless told otherwise', () => {
    const base = { clusterName: 'x', node: { id: 2, name: 'b' }, nodes: [{ id: 2, name: 'b', addresses: ['127.0.0.1:6000'] }] };
    expect(parseNodeConfig({ ...base, dataDir: '/srv/pl' }).config?.messaging.incarnationPath).toBe('/srv/pl/incarnation');
    expect(parseNodeConfig({ ...base, messaging: { incarnationPath: '/run/inc' } }).config?.messaging.incarnationPath).toBe('/run/inc');
  });

  // Each kind of mistake names the field and the reason, and the rest of the file is still checked.
  it('reports missing required fields', () => {
    const r = parseNodeConfig({});
    expect(r.config).toBeUndefined();
    const paths = r.diagnostics.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['clusterName', 'nodes', 'node']));
    expectError((c) => delete c.node.name, 'node.name', /required/);
  });

  it('reports wrong types', () => {
    expectError((c) => (c.clusterName = 7), 'clusterName', /must be a string, not number 7/);
    expectError((c) => (c.nodes[0].id = 1.5), 'nodes[0].id', /must be an integer, not the number 1.5/);
    expectError((c) => (c.api = []), 'api', /must be an object, not an array/);
    expectError((c) => (c.messaging.timing = { deadtimeMs: '600' }), 'messaging.timing.deadtimeMs', /must be an integer/);
    expectError((c) => (c.messaging.quorum = { twoNode: 'yes' }), 'messaging.quorum.twoNode', /must be a boolean/);
  });

  it('reports duplicate and inconsistent nodes', () => {
    expectError((c) => (c.nodes[1].id = 1), 'nodes[1].id', /duplicate node id 1 \(also nodes\[0\]\)/);
    expectError((c) => (c.nodes[2].name = 'node1'), 'nodes[2].name', /duplicate node name node1/);
    expectError((c) => (c.node.id = 9), 'node.id', /node 9 is not in nodes/);
    expectError((c) => (c.node.name = 'other'), 'node.name', /differs from the name of node 1/);
    expectError((c) => (c.nodes[0].name = 'bad name'), 'nodes[0].name', /not a valid node name/);
    expectError((c) => (c.nodes[0].id = 0), 'nodes[0].id', /must be in 1..4294967295/);
  });

  it('reports bad addresses and listen specs', () => {
    expectError((c) => (c.nodes[1].addresses = ['10.0.0.1']), 'nodes[1].addresses[0]', /is not host:port/);
    expectError((c) => (c.nodes[1].addresses = ['10.0.0.1:70000']), 'nodes[1].addresses[0]', /is not host:port/);
    expectError((c) => (c.api.tcp.listen = 'localhost'), 'api.tcp.listen', /is not host:port/);
    expect(parseHostPort('[::1]:7405')).toEqual({ host: '::1', port: 7405 });
  });

  it('reports bad enumerations', () => {
    expectError((c) => (c.log.level = 'verbose'), 'log.level', /must be debug, info, warn or error/);
    expectError((c) => (c.log.target = 'syslog'), 'log.target', /must be "stderr" or "file:PATH"/);
    expectError((c) => (c.messaging.crypto.mode = 'rot13'), 'messaging.crypto.mode', /must be hmac-sha256 or aes-256-gcm/);
    expectError((c) => (c.messaging.links = [{ transport: 'tcp' }]), 'messaging.links[0].transport', /must be udpu or udp/);
  });

  // The messaging layer's own checks are reused and reported under this file's paths.
  it('passes messaging diagnostics through with field paths', () => {
    expectError((c) => (c.messaging.crypto = { mode: 'hmac-sha256', encrypt: true }), 'messaging.crypto.encrypt', /encryption needs mode aes-256-gcm/);
    expectError((c) => (c.messaging.links = [{ transport: 'udp' }]), 'messaging.links[0]', /multicast link needs mcastGroup/);
    const w = diagnose((c) => (c.messaging.timing = { warntimeMs: 900 }));
    expect(w.ok).toBe(true);
    expect(w.diagnostics).toContainEqual({ severity: 'warning', path: 'messaging.timing.warntimeMs', reason: 'should be below deadtimeMs to be useful' });
    expectError((c) => (c.messaging.nodeId = 3), 'messaging.nodeId', /set at the top level of the file \(node.id\)/);
  });

  it('warns about unknown fields and suggests the near miss', () => {
    const r = diagnose((c) => {
      c.dataDirectory = '/x';
      c.api.soket = '/x';
      c.messaging.timing = { deadTimeMs: 700 };
    });
    expect(r.ok).toBe(true);
    expect(r.diagnostics).toEqual(
      expect.arrayContaining([
        { severity: 'warning', path: 'dataDirectory', reason: 'unknown field; ignored' },
        { severity: 'warning', path: 'api.soket', reason: 'unknown field; ignored; did you mean socket?' },
        { severity: 'warning', path: 'messaging.timing.deadTimeMs', reason: 'unknown field; ignored; did you mean deadtimeMs?' },
      ]),
    );
  });

  it('warns about a TCP API on a non-loopback address, and resolves relative paths', () => {
    const r = diagnose((c) => {
      c.api.tcp.listen = '0.0.0.0:7405';
      c.dataDir = 'data';
      c.log.target = 'file:log/node.log';
    });
    expect(r.ok).toBe(true);
    expect(r.diagnostics).toContainEqual(expect.objectContaining({ severity: 'warning', path: 'api.tcp.listen' }));
    const c = parseNodeConfig({ ...good(), dataDir: 'data', log: { target: 'file:log/n.log' } }, '/srv/cfg').config!;
    expect(c.dataDir).toBe('/srv/cfg/data');
    expect(c.log.target).toEqual({ kind: 'file', path: '/srv/cfg/log/n.log' });
  });

  it('never throws on garbage', () => {
    for (const v of [null, 3, 'x', [], { nodes: 'x' }, { nodes: [null, 1] }, { node: 1 }, { messaging: { links: 'x', timing: [] } }]) {
      const r = parseNodeConfig(v);
      expect(r.config).toBeUndefined();
      expect(r.diagnostics.length).toBeGreaterThan(0);
    }
  });
});

describe('loadNodeConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // Files are the daemon's input: unreadable, non-JSON and dangling references are diagnostics.
  it('reports unreadable files, bad JSON and a missing initialCib', () => {
    expect(formatDiagnostics(loadNodeConfig(join(dir, 'absent.json')).diagnostics)).toMatch(/^error: \(file\): cannot read .*absent\.json: ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{"clusterName": "x",}');
    expect(loadNodeConfig(join(dir, 'bad.json')).diagnostics[0]?.reason).toMatch(/bad\.json is not valid JSON/);
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ ...good(), initialCib: 'cib.xml' }));
    const r = loadNodeConfig(join(dir, 'ok.json'));
    expect(r.config).toBeUndefined();
    expect(r.diagnostics).toContainEqual({ severity: 'error', path: 'initialCib', reason: `${join(dir, 'cib.xml')} does not exist` });
    writeFileSync(join(dir, 'cib.xml'), '<cib/>');
    expect(loadNodeConfig(join(dir, 'ok.json')).config?.initialCib).toBe(join(dir, 'cib.xml'));
  });
});

describe('docs/config.md', () => {
  // The reference is generated from the table validation reads; a stale copy misleads operators.
  it('is up to date (re-bless after review: PACELINE_BLESS=1 npx vitest run packages/daemon/src/config.test.ts)', () => {
    const repo = resolve(fileURLToPath(import.meta.url), '../../../..');
    const text = renderConfigReference();
    if (process.env.PACELINE_BLESS === '1') writeFileSync(join(repo, 'docs/config.md'), text);
    expect(readFileSync(join(repo, 'docs/config.md'), 'utf8')).toBe(text);
    const example = /```json\n([\s\S]*?)```/.exec(text)?.[1];
    expect(JSON.parse(example ?? 'null')).toEqual(CONFIG_EXAMPLE);
    for (const field of ['clusterName', 'nodes[].addresses', 'messaging.timing.deadtimeMs', 'api.tcp.tokenPath', 'log.target']) expect(text).toContain(`\`${field}\``);
  });
});
