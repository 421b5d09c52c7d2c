/**
 * The nodelist edits of the API's `cluster.add-node` and `cluster.remove-node`, as pure functions
 * of the nodelist in force: what is checked before a change is proposed to the cluster (names,
 * ids and addresses unique, one address per link). What only the cluster can decide (quorum,
 * a concurrent change, removing a live member) is decided by every member when the change is
 * delivered (MessagingCore.proposeNodelist).
 */
import { ApiError } from '@paceline/controller';
import { NODE_NAME, parseHostPort, type ClusterNodeConfig } from './config.js';
import type { NodelistState } from './node.js';

export interface AddNodeRequest {
  readonly name: string;
  /** One host:port per messaging link, comma-separated. */
  readonly address: string;
  /** Default: one above the highest id in the list. */
  readonly id?: number;
  /** Default: 1. */
  readonly votes?: number;
}

const addressKey = (a: string): string => {
  const hp = parseHostPort(a);
  return hp === undefined ? a : `${hp.host.toLowerCase()}:${hp.port}`;
};

/** The nodelist with `req` added, and the new entry; an ApiError('bad-params') names what is wrong. */
export function withNodeAdded(list: NodelistState, req: AddNodeRequest): { node: ClusterNodeConfig; nodes: ClusterNodeConfig[] } {
  const bad = (msg: string): ApiError => new ApiError('bad-params', msg);
  if (!NODE_NAME.test(req.name)) throw bad(`${JSON.stringify(req.name)} is not a valid node name (letters, digits, . _ -; at most 63)`);
  const same = list.nodes.find((n) => n.name === req.name);
  if (same !== undefined) throw bad(`node ${req.name} is in the nodelist already (id ${same.id}, ${same.addresses.join(', ')})`);
  const id = req.id ?? Math.max(0, ...list.nodes.map((n) => n.id)) + 1;
  if (!Number.isInteger(id) || id < 1 || id > 0xffffffff) throw bad(`node id ${id} is not in 1..4294967295`);
  const taken = list.nodes.find((n) => n.id === id);
  if (taken !== undefined) throw bad(`node id ${id} belongs to ${taken.name}`);
  const votes = req.votes ?? 1;
  if (!Number.isInteger(votes) || votes < 0 || votes > 255) throw bad(`votes ${votes} is not in 0..255`);
  const addresses = req.address.split(',').map((a) => a.trim());
  const links = list.nodes[0]?.addresses.length ?? 1;
  if (addresses.length !== links) throw bad(`${req.address}: the cluster has ${links} messaging link${links === 1 ? '' : 's'}, so a node needs ${links} address${links === 1 ? '' : 'es'} (host:port, comma-separated)`);
  for (const a of addresses) if (parseHostPort(a) === undefined) throw bad(`${JSON.stringify(a)} is not host:port (IPv6: [addr]:port)`);
  for (const n of list.nodes) {
    const clash = n.addresses.find((a) => addresses.some((b) => addressKey(a) === addressKey(b)));
    if (clash !== undefined) throw bad(`${clash} is the address of ${n.name}`);
  }
  const node: ClusterNodeConfig = { id, name: req.name, addresses, votes };
  return { node, nodes: [...list.nodes, node].sort((a, b) => a.id - b.id) };
}

/** The nodelist without node `name`, and its entry; not-found when there is none, bad-params for the last node. */
export function withNodeRemoved(list: NodelistState, name: string): { node: ClusterNodeConfig; nodes: ClusterNodeConfig[] } {
  const node = list.nodes.find((n) => n.name === name);
  if (node === undefined) throw new ApiError('not-found', `no node named ${name} in the nodelist (${list.nodes.map((n) => n.name).join(', ')})`);
  if (list.nodes.length === 1) throw new ApiError('bad-params', `${name} is the only node of the cluster`);
  return { node, nodes: list.nodes.filter((n) => n !== node) };
}
