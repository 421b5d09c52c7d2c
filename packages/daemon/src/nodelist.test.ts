/**
 * The daemon's side of agreed nodelist changes: the edits checked before a change is proposed
 * (nodelist-change.ts), the configuration's nodelistVersion, and storeNodelist's rewrite of the
 * configuration file.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_EXAMPLE, loadNodeConfig, parseNodeConfig, storeNodelist } from './config.js';
import { withNodeAdded, withNodeRemoved } from './nodelist-change.js';

const three = {
  version: 0,
  nodes: [1, 2, 3].map((id) => ({ id, name: `node${id}`, addresses: [`10.0.0.${id}:5405`], votes: 1 })),
};

describe('nodelist edits (cluster.add-node, cluster.remove-node)', () => {
  it('adds a node with the next free id, one address per link', () => {
    const { node, nodes } = withNodeAdded(three, { name: 'node4', address: '10.0.0.4:5405' });
    expect(node).toEqual({ id: 4, name: 'node4', addresses: ['10.0.0.4:5405'], votes: 1 });
    expect(nodes.map((n) => n.id)).toEqual([1, 2, 3, 4]);
    expect(withNodeAdded(three, { name: 'n9', address: '[fd00::9]:5405', id: 9, votes: 2 }).node).toEqual({ id: 9, name: 'n9', addresses: ['[fd00::9]:5405'], votes: 2 });
  });

  it('refuses a taken name, id or address, a bad name or address, and a wrong number of addresses', () => {
    const refused = (req: Parameters<typeof withNodeAdded>[1]): string => {
      try {
        withNodeAdded(three, req);
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
      return 'accepted';
    };
    expect(refused({ name: 'node2', address: '10.0.0.9:5405' })).toBe('bad-params: node node2 is in the nodelist already (id 2, 10.0.0.2:5405)');
    expect(refused({ name: 'node9', address: '10.0.0.9:5405', id: 3 })).toBe('bad-params: node id 3 belongs to node3');
    expect(refused({ name: 'node9', address: '10.0.0.3:5405' })).toBe('bad-params: 10.0.0.3:5405 is the address of node3');
    expect(refused({ name: '-x', address: '10.0.0.9:5405' })).toMatch(/^bad-params: "-x" is not a valid node name/);
    expect(refused({ name: 'node9', address: '10.0.0.9' })).toMatch(/^bad-params: "10\.0\.0\.9" is not host:port/);
    expect(refused({ name: 'node9', address: '10.0.0.9:5405,10.1.0.9:5405' })).toMatch(/^bad-params: .*the cluster has 1 messaging link, so a node needs 1 address/);
    expect(refused({ name: 'node9', address: '10.0.0.9:5405', votes: 300 })).toMatch(/votes 300 is not in 0\.\.255/);
  });

  it('removes a listed node, and refuses an unknown one or the last one', () => {
    expect(withNodeRemoved(three, 'node2').nodes.map((n) => n.name)).toEqual(['node1', 'node3']);
    expect(() => withNodeRemoved(three, 'node7')).toThrow(/no node named node7 in the nodelist \(node1, node2, node3\)/);
    expect(() => withNodeRemoved({ version: 3, nodes: [three.nodes[0]!] }, 'node1')).toThrow(/only node of the cluster/);
  });
});

describe('nodelistVersion in the configuration file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-nodelist-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is read into the node and the messaging configuration, and must not be negative', () => {
    const c = parseNodeConfig({ ...CONFIG_EXAMPLE, nodelistVersion: 3 }).config!;
    expect(c.nodelistVersion).toBe(3);
    expect(c.messaging.core.nodelistVersion).toBe(3);
    expect(c.messaging.core.nodes.map((n) => n.name)).toEqual(['node1', 'node2', 'node3']);
    const bad = parseNodeConfig({ ...CONFIG_EXAMPLE, nodelistVersion: -1 });
    expect(bad.config).toBeUndefined();
    expect(bad.diagnostics).toContainEqual({ severity: 'error', path: 'nodelistVersion', reason: 'must not be negative (-1)' });
  });

  it('storeNodelist rewrites nodes and nodelistVersion whole, keeps the rest and the mode, and never goes back', () => {
    const path = join(dir, 'paceline.json');
    writeFileSync(path, JSON.stringify({ ...CONFIG_EXAMPLE, log: { level: 'debug', target: 'stderr' } }));
    chmodSync(path, 0o640);
    const four = withNodeAdded({ version: 0, nodes: parseNodeConfig(CONFIG_EXAMPLE).config!.nodes }, { name: 'node4', address: '10.77.0.14:5405' }).nodes;
    expect(storeNodelist(path, { version: 1, nodes: four })).toBe(true);
    const after = loadNodeConfig(path).config!;
    expect(after.nodelistVersion).toBe(1);
    expect(after.nodes.map((n) => `${n.id}:${n.name}:${n.addresses[0]}`)).toEqual(['1:node1:10.77.0.11:5405', '2:node2:10.77.0.12:5405', '3:node3:10.77.0.13:5405', '4:node4:10.77.0.14:5405']);
    expect(after.log.level).toBe('debug');
    expect(after.api.tcp?.port).toBe(7405);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['paceline.json']);
    // An older or equal version (a late catch-up) leaves the file as it is.
    expect(storeNodelist(path, { version: 1, nodes: four.slice(0, 2) })).toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf8')).nodes).toHaveLength(4);
  });
});
