/**
 * @paceline/lab: lab clusters on one machine (network namespaces, or processes on loopback),
 * fault verbs, and an outside watcher of floating IPs. See README.md.
 */
export * from './netns.js';
export * from './lab.js';
export * from './settle.js';
export * from './watch.js';
export * from './usage.js';
export * as faultVerbs from './faults.js';
export { faults } from './faults.js';
export type { FaultName } from './faults.js';
export * from './drill.js';
export * from './drill-timeline.js';
export * from './drill-render.js';
export * from './drill-run.js';
export { SSH_FAULTS, SSH_MARKER, sshFault, sshLabDown, sshLabExec, sshLabStatus, sshLabUp, sshOptions, type SshDownNode, type SshFaultName } from './ssh.js';
export { loadInventory, parseInventory, SSH_NODE_NAME_RE, type SshHost } from './ssh-inventory.js';
export * from './drill-cts.js';
export * from './drill-random.js';
export * from './pacemaker-lab.js';
export * from './pacemaker-drill.js';
