export * from './config.js';
export * from './log.js';
export * from './api-server.js';
export * from './node.js';
export * from './api-handler.js';
export { runNodeCommand, EXIT_CONFIG } from './main.js';
