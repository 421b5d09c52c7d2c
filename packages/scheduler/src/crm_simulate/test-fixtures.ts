/**
 * Hand-built `ClusterState` values for the crm_simulate unit tests: the renderer and the graph
 * executor are tested on states written out here, independently of the engine's unpacking.
 * Imported only by the `*.test.ts` files beside it; pure values, no I/O.
 */
import type { ClusterState, NodeInfo, ResourceInfo, Role } from '../types.js';

export function node(name: string, over: Partial<NodeInfo> = {}): NodeInfo {
  return {
    id: name,
    name,
    kind: 'member',
    online: true,
    unclean: false,
    standby: false,
    standbyOnFail: false,
    maintenance: false,
    shutdown: false,
    pending: false,
    fenceReason: undefined,
    attributes: new Map(),
    utilization: new Map(),
    weight: 0,
    connectionRsc: undefined,
    ...over,
  };
}

export function rsc(id: string, over: Partial<ResourceInfo> & { running?: Record<string, Role> } = {}): ResourceInfo {
  const running = over.running ?? {};
  const runningOn = Object.keys(running);
  const roles = Object.values(running);
  const { running: _ignored, ...rest } = over;
  void _ignored;
  return {
    id,
    variant: 'primitive',
    parent: undefined,
    children: [],
    agent: 'ocf:heartbeat:Dummy',
    role: roles.includes('Promoted') ? 'Promoted' : (roles[0] ?? 'Stopped'),
    runningOn,
    activeRoles: new Map(Object.entries(running)),
    failed: false,
    managed: true,
    orphan: false,
    blocked: false,
    targetRole: 'Started',
    failCounts: [],
    history: new Map(),
    meta: new Map(),
    promotable: false,
    unique: false,
    ...rest,
  };
}

export function clusterState(nodes: readonly NodeInfo[], resources: readonly ResourceInfo[], over: Partial<ClusterState> = {}): ClusterState {
  return {
    nowSec: 0,
    haveQuorum: true,
    stonithEnabled: true,
    symmetric: true,
    nodes,
    nodeByName: new Map(nodes.map((n) => [n.name, n])),
    resources,
    resourceById: new Map(resources.map((r) => [r.id, r])),
    options: new Map(),
    ...over,
  };
}
