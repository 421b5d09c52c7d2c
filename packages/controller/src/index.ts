export * from './api/protocol.js';
export * from './api/client.js';
export * from './core.js';
export * from './messages.js';
export * from './fencing.js';
