/**
 * `paceline node start --config FILE`: runs one node in the foreground until SIGTERM/SIGINT
 * (graceful: resources move away first) or a fatal error. Exit codes: 0 stopped, 1 failed,
 * 78 configuration error (EX_CONFIG, as Pacemaker uses for bad configuration).
 */
import { loadNodeConfig, formatDiagnostics } from './config.js';
import { Logger } from './log.js';
import { startNode } from './node.js';
import { ApiServer } from './api-server.js';
import { makeApiHandler } from './api-handler.js';
import { setFlagsFromString } from 'node:v8';

export const EXIT_CONFIG = 78;

/**
 * V8 flags a node sets for itself, before its threads load their code. An idle node runs the same
 * few functions a few times a second (a heartbeat sent, two received, a monitor result): with
 * V8's default interrupt budget (66 KB of bytecode run per function before the profiler looks at
 * it again) they stay in baseline code for minutes, where each wake-up costs twice the JavaScript
 * time. An eighth of it gets them optimized within seconds; measured on the lab's leader node, its
 * messaging thread went from 126 to 98 ms of CPU per 30 s idle. Set here rather than on the
 * command line, so that every way of starting a node (systemd, the lab, a shell) gets it.
 */
export const DAEMON_V8_FLAGS: readonly string[] = ['--interrupt-budget=8192'];

export async function runNodeCommand(configPath: string, opts: { stderr?: (s: string) => void } = {}): Promise<number> {
  const say = opts.stderr ?? ((s: string) => process.stderr.write(s));
  for (const f of DAEMON_V8_FLAGS) setFlagsFromString(f);
  const { config, diagnostics } = loadNodeConfig(configPath);
  if (diagnostics.length > 0) say(formatDiagnostics(diagnostics) + '\n');
  if (!config) return EXIT_CONFIG;
  const log = new Logger({ level: config.log.level, target: config.log.target, node: config.node.name });
  let node;
  try {
    node = await startNode(config, log, { configPath });
  } catch (e) {
    log.error('node-start-failed', { error: e instanceof Error ? e.message : String(e) });
    return 1;
  }
  const api = await ApiServer.start({
    socketPath: config.api.socket,
    group: config.api.group,
    ...(config.api.tcp ? { tcp: config.api.tcp } : {}),
    handler: makeApiHandler(node),
    log,
  });
  node.onEvent((e) => {
    api.publish('cluster', e);
    if (e.event === 'cib-update' || e.event === 'join-synced') api.publish('cib', { version: node.status().cibVersion, event: e.event });
  });
  log.onLine((line) => api.publish('log', line));
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      log.warn('stop-forced', { signal });
      process.exit(1);
    }
    stopping = true;
    log.info('stop-requested', { signal });
    void node.stop();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  const code = await node.stopped;
  await api.close();
  return code;
}
