/**
 * The messaging API for the controller and tools: start a node (its sockets and timers run on a
 * worker thread), join and leave process groups, send, and subscribe to views (with quorum),
 * group membership, messages and warnings.
 *
 *   const node = await ClusterNode.start({ config, authKey });
 *   node.on('view', (v) => ...); node.on('message', (m) => ...);
 *   await node.joinGroup('crmd'); await node.send('crmd', bytes);
 */
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { nextIncarnation } from '../keyfile.js';
import type { NodelistEntry } from '../messages.js';
import type { NodeEvent, SendResult } from '../node.js';
import type { ResolvedConfig } from './file-config.js';
import type { RuntimeCommand, RuntimeStatus } from './runtime.js';

export interface WorkerInit {
  readonly config: ResolvedConfig;
  readonly authKey: Uint8Array;
  readonly incarnation: number;
}

export type ToWorker =
  | { readonly kind: 'batch'; readonly items: readonly ToWorker[] }
  | { readonly kind: 'cmd'; readonly id: number; readonly cmd: RuntimeCommand }
  | { readonly kind: 'status'; readonly id: number }
  | { readonly kind: 'stop'; readonly id: number };

export type ToMain =
  | { readonly kind: 'batch'; readonly items: readonly ToMain[] }
  | { readonly kind: 'started'; readonly incarnation: number }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'event'; readonly event: NodeEvent }
  | { readonly kind: 'drain' }
  | { readonly kind: 'reply'; readonly id: number; readonly result: unknown };

/**
 * Node events by type, plus 'drain' (the send queue has room again after 'send-queue-full') and
 * 'fatal' (the messaging thread stopped, e.g. on a broken invariant: the node must stop acting
 * as a cluster member; the daemon should exit so that it is fenced or restarted cleanly).
 */
type EventMap = { [K in NodeEvent['type']]: [Extract<NodeEvent, { type: K }>] } & { drain: []; fatal: [Error] };

export class ClusterNode extends EventEmitter<EventMap> {
  private nextId = 1;
  private readonly waiting = new Map<number, (v: unknown) => void>();

  private constructor(
    private readonly worker: Worker,
    readonly incarnation: number,
  ) {
    super();
  }

  /**
   * Starts the node's worker and resolves once its sockets are bound. The incarnation defaults
   * to the wall-clock milliseconds, kept above the previous start's when `incarnationPath` is set.
   */
  static start(opts: { config: ResolvedConfig; authKey: Uint8Array; incarnation?: number }): Promise<ClusterNode> {
    const init: WorkerInit = { config: opts.config, authKey: opts.authKey, incarnation: opts.incarnation ?? (opts.config.incarnationPath ? nextIncarnation(opts.config.incarnationPath, Date.now()) : Date.now()) };
    const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: init });
    const node = new ClusterNode(worker, init.incarnation);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('error', (err) => (started ? node.emit('fatal', err) : reject(err)));
      worker.on('exit', (code) => {
        if (started && !node.stopping) node.emit('fatal', new Error(`messaging thread exited with code ${code}`));
      });
      const handle = (m: ToMain): void => {
        switch (m.kind) {
          case 'batch':
            for (const item of m.items) handle(item);
            break;
          case 'started':
            started = true;
            resolve(node);
            break;
          case 'failed':
            reject(new Error(m.message));
            void worker.terminate();
            break;
          case 'event':
            node.emit(m.event.type, m.event as never);
            break;
          case 'drain':
            node.emit('drain');
            break;
          case 'reply':
            node.waiting.get(m.id)?.(m.result);
            node.waiting.delete(m.id);
            break;
          default: {
            const never: never = m;
            throw new Error(`unknown message from worker ${JSON.stringify(never)}`);
          }
        }
      };
      worker.on('message', handle);
    });
  }

  private outbound: ToWorker[] = [];

  /** Requests are batched per microtask turn into one postMessage. */
  private post(m: ToWorker): void {
    if (this.outbound.length === 0) {
      queueMicrotask(() => {
        const items = this.outbound;
        this.outbound = [];
        this.worker.postMessage({ kind: 'batch', items } satisfies ToWorker);
      });
    }
    this.outbound.push(m);
  }

  private request(m: { kind: 'cmd'; cmd: RuntimeCommand } | { kind: 'status' } | { kind: 'stop' }): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.post({ ...m, id });
    });
  }

  joinGroup(group: string): Promise<SendResult> {
    return this.request({ kind: 'cmd', cmd: { op: 'join', group } }) as Promise<SendResult>;
  }

  leaveGroup(group: string): Promise<SendResult> {
    return this.request({ kind: 'cmd', cmd: { op: 'leave', group } }) as Promise<SendResult>;
  }

  /** Queues a message to a joined group; `send-queue-full` means back off (flow control). */
  send(group: string, data: Uint8Array): Promise<SendResult> {
    return this.request({ kind: 'cmd', cmd: { op: 'send', group, data } }) as Promise<SendResult>;
  }

  /**
   * Proposes the cluster's next nodelist (MessagingCore.proposeNodelist): `{ ok: true, msgId }`
   * once queued; the outcome arrives as a 'nodelist' (applied) or 'nodelist-refused' event with
   * this node's id as sender and this msgId. `baseVersion`: the version of the list `nodes` was
   * made from (a list made from an older one is refused when delivered).
   */
  proposeNodelist(nodes: readonly NodelistEntry[], baseVersion?: number): Promise<SendResult> {
    return this.request({ kind: 'cmd', cmd: { op: 'nodelist', nodes, ...(baseVersion !== undefined ? { baseVersion } : {}) } }) as Promise<SendResult>;
  }

  status(): Promise<RuntimeStatus> {
    return this.request({ kind: 'status' }) as Promise<RuntimeStatus>;
  }

  private stopping = false;

  async stop(): Promise<void> {
    this.stopping = true;
    await this.request({ kind: 'stop' });
    await this.worker.terminate();
  }
}
