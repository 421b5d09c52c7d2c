/**
 * @paceline/messaging: the corosync-like layer. See README.md.
 */
export * from './config.js';
export * from './wire.js';
export * from './messages.js';
export * from './quorum.js';
export * from './node.js';
export * from './keyfile.js';
export * from './driver/file-config.js';
export { ClusterNode } from './driver/cluster-node.js';
export type { RuntimeStatus, LinkStatus, RuntimeCommand } from './driver/runtime.js';
export { Simulation, SIM_GROUP, viewKey } from './sim/sim.js';
export type { NetworkFaults, ProcessHistory } from './sim/sim.js';
export { Prng } from './sim/prng.js';
