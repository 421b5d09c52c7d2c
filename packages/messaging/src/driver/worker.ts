/**
 * Worker-thread entry of the driver: owns the sockets and timers of one node, so heartbeats
 * keep their rhythm whatever the main thread (controller, scheduler) is doing.
 * Talks to ClusterNode (cluster-node.ts) with the messages typed there.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ToMain, ToWorker, WorkerInit } from './cluster-node.js';
import { NodeRuntime } from './runtime.js';

const port = parentPort;
if (port === null) throw new Error('driver/worker.js must run on a worker thread');
const init = workerData as WorkerInit;
/**
 * Messages to the main thread are batched per event-loop turn: one postMessage per message
 * would cost more than the protocol itself at tens of thousands of messages per second.
 */
let outbound: ToMain[] = [];
let transfer: ArrayBuffer[] = [];
function flush(): void {
  const items = outbound;
  const moved = transfer;
  outbound = [];
  transfer = [];
  if (items.length > 0) port!.postMessage({ kind: 'batch', items } satisfies ToMain, moved);
}
function post(m: ToMain, moved?: ArrayBuffer): void {
  if (outbound.length === 0) setImmediate(flush);
  outbound.push(m);
  if (moved) transfer.push(moved);
}
const runtime = new NodeRuntime(
  init.config,
  init.authKey,
  init.incarnation,
  (event) => {
    if (event.type === 'message' || event.type === 'duplicate') {
      // The payload is a view into a whole received datagram; posting it would copy the datagram.
      const data = new Uint8Array(event.data.length);
      data.set(event.data);
      post({ kind: 'event', event: { ...event, data } }, data.buffer);
    } else post({ kind: 'event', event });
  },
  () => post({ kind: 'drain' }),
);

runtime.start().then(
  () => post({ kind: 'started', incarnation: init.incarnation }),
  (err: unknown) => post({ kind: 'failed', message: err instanceof Error ? err.message : String(err) }),
);

function handle(m: ToWorker): void {
  switch (m.kind) {
    case 'batch':
      for (const item of m.items) handle(item);
      break;
    case 'cmd':
      post({ kind: 'reply', id: m.id, result: runtime.command(m.cmd) });
      break;
    case 'status':
      post({ kind: 'reply', id: m.id, result: runtime.status() });
      break;
    case 'stop':
      runtime.stop();
      post({ kind: 'reply', id: m.id, result: undefined });
      flush();
      port!.close();
      break;
    default: {
      const never: never = m;
      throw new Error(`unknown worker message ${JSON.stringify(never)}`);
    }
  }
}

port.on('message', handle);
