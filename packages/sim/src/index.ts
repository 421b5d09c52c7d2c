/**
 * @paceline/sim: a whole cluster in one process, deterministic from one seed. See README.md.
 */
export * from './agents.js';
export * from './disk.js';
export * from './checks.js';
export * from './world.js';
export * from './scenario.js';
export * from './random.js';
