/**
 * One node, composed: the messaging layer (its own worker thread), the executor, the store, the
 * scheduler (a worker thread of its own) and the controller core, wired so that the core's
 * effects happen in the order its contract asks: persist the CIB, then send, then run.
 *
 *   const node = await startNode(config, logger);   // resolves once sockets are bound
 *   await node.stop();                               // graceful: resources move away first
 */
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatVersion, parseXml, readCib, type CibVersion, type XmlElement } from '@paceline/cib';
import { ControllerCore, encodeCrm, readFenceHistory, type ClientRequest, type ClientReply, type ControllerOutput } from '@paceline/controller';
import { createExecutor, defaultAgentPaths, type AgentPaths, type Executor } from '@paceline/executor';
import { ClusterNode, readAuthKey, describeKeyError, viewKey, type ViewInfo } from '@paceline/messaging';
import { unpackCluster, type FenceDevice, type TransitionPlan } from '@paceline/scheduler';
import { Store } from '@paceline/store';
import { storeNodelist, type ClusterNodeConfig, type NodeConfig } from './config.js';
import type { Logger } from './log.js';
import { SchedulerThread } from './scheduler-thread.js';

export const CRMD_GROUP = 'crmd';

export interface NodeStatus {
  readonly clusterName: string;
  readonly node: string;
  readonly dc: string | undefined;
  readonly quorate: boolean;
  readonly viewId: string;
  readonly nodes: { name: string; id: number; online: boolean; standby: boolean; maintenance: boolean; unclean: boolean }[];
  readonly resources: { id: string; agent: string; role: string; nodes: string[]; failed: boolean; managed: boolean }[];
  readonly transition: { state: 'idle' | 'running' | 'scheduling'; id: number };
  readonly cibVersion: string;
  readonly settled: boolean;
}

export interface RunningNode {
  readonly core: ControllerCore;
  readonly store: Store;
  status(): NodeStatus;
  /** A client request through the controller (CIB updates, attributes, cleanup). */
  request(req: ClientRequest): Promise<unknown>;
  /** stonith_admin's manual fencing: `target`'s fencing levels, or the first of `devices` that can, run on this node (core.requestFence); resolves with the outcome. */
  fence(target: string, action: 'off' | 'on' | 'reboot', devices: FenceDevice | readonly FenceDevice[]): Promise<unknown>;
  /** The nodelist in force: the configuration's, then each agreed change's. */
  nodelist(): NodelistState;
  /**
   * Proposes `nodes` as the cluster's next nodelist through the messaging layer's ordered
   * delivery (MessagingCore.proposeNodelist): every member applies it at the same point and
   * stores it in its configuration file. `baseVersion`: the version of the list `nodes` was made
   * from. Resolves with the nodelist once applied on this node; rejects with an Error whose `code`
   * is no-quorum (this partition is not quorate, or the change would cost it its quorum),
   * conflict (another change came first, or the view was being formed again: read the list and
   * try again), bad-params, or unavailable (no outcome within NODELIST_CHANGE_TIMEOUT_MS).
   */
  changeNodelist(nodes: readonly ClusterNodeConfig[], baseVersion: number): Promise<NodelistState>;
  /** Subscribe to controller journal events (for the API's `cluster` topic). */
  onEvent(listener: (e: { event: string; [k: string]: unknown }) => void): () => void;
  /** Graceful: asks the DC to move resources away, waits (up to timeoutMs), then leaves. */
  stop(opts?: { timeoutMs?: number }): Promise<void>;
  /** Resolves when the node stops for any reason (fatal error included). */
  /** Resolves once the node has stopped, with the exit status it stopped with (0, or 1 after a fatal error or a self-fence). */
  readonly stopped: Promise<number>;
}

/** A nodelist with its version (NodeConfig.nodes and nodelistVersion as they are now). */
export interface NodelistState {
  readonly version: number;
  readonly nodes: readonly ClusterNodeConfig[];
}

export interface StartNodeOptions {
  /** The node's configuration file: agreed nodelist changes are stored in it (storeNodelist). */
  readonly configPath?: string;
}

/** How long a proposed nodelist change may take to be ordered and applied: many view changes' worth. */
export const NODELIST_CHANGE_TIMEOUT_MS = 10_000;

/** An error with the code the API maps (api-handler.ts viaController). */
function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function agentPaths(cfg: NodeConfig): AgentPaths {
  const d = defaultAgentPaths();
  return {
    ocfResourceDirs: cfg.agents.ocfRoot ? [join(cfg.agents.ocfRoot, 'resource.d'), ...d.ocfResourceDirs] : d.ocfResourceDirs,
    lsbDirs: cfg.agents.lsbDir ? [cfg.agents.lsbDir, ...d.lsbDirs] : d.lsbDirs,
    stonithDirs: cfg.agents.stonithDir ? [cfg.agents.stonithDir, ...d.stonithDirs] : d.stonithDirs,
  };
}

export async function startNode(cfg: NodeConfig, log: Logger, opts: StartNodeOptions = {}): Promise<RunningNode> {
  mkdirSync(cfg.dataDir, { recursive: true });
  const store = new Store(join(cfg.dataDir, 'paceline.db'));
  let cibXml = store.currentCib()?.xml;
  if (cibXml === undefined && cfg.initialCib !== undefined) {
    cibXml = readFileSync(cfg.initialCib, 'utf8');
    log.info('cib-initial', { path: cfg.initialCib });
  }
  const key = readAuthKey(cfg.messaging.authkeyPath);
  if (!key.ok) throw new Error(describeKeyError(key.error));

  const nodes = cfg.nodes.map((n) => ({ id: n.id, name: n.name }));
  const qv = store.meta('quorate-version');
  const quorateVersion = qv !== undefined ? (JSON.parse(qv) as CibVersion) : undefined;
  const core = new ControllerCore({ self: cfg.node, nodes, cibXml, ...(quorateVersion ? { quorateVersion } : {}), fenceHistory: readFenceHistory(store.fenceHistory()) });
  log.info('node-start', { node: cfg.node.name, id: cfg.node.id, cib: formatVersion(core.cibVersion), dataDir: cfg.dataDir });

  const executor: Executor = createExecutor({ paths: agentPaths(cfg) });
  const scheduler = new SchedulerThread({ onStart: () => log.debug('scheduler-thread', { state: 'started' }), onStop: (why) => log.debug('scheduler-thread', { state: 'stopped', why }) });
  const messaging = await ClusterNode.start({ config: cfg.messaging, authKey: key.value });
  const listeners = new Set<(e: { event: string; [k: string]: unknown }) => void>();
  const replies = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let stopping = false;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStopped = r));
  const now = (): number => performance.now();

  let view: ViewInfo | undefined;
  let crmdMembers: number[] = [];
  let wakeTimer: NodeJS.Timeout | undefined;
  let exitRequested = false;

  const pump = (): void => {
    // Once stopping, nothing more is done: results still arriving (cancelled monitors, a plan)
    // must not dispatch work, write to the closed store or arm timers that keep the process up.
    if (stopping) return;
    for (let i = 0; i < 100; i++) {
      const out: ControllerOutput = core.ready();
      if (!apply(out)) break;
    }
    scheduleWake();
  };

  const apply = (out: ControllerOutput): boolean => store.batch(() => applyOutput(out));

  const applyOutput = (out: ControllerOutput): boolean => {
    let any = false;
    if (out.persist) {
      any = true;
      store.saveCib(core.cibXml(), out.persist, Date.now());
      if (out.quorateVersion) store.setMeta('quorate-version', JSON.stringify(out.quorateVersion));
    }
    if (out.fenceHistory) {
      any = true;
      store.saveFenceHistory(out.fenceHistory);
    }
    for (const e of out.journal) {
      any = true;
      // The logger owns `node` (this node's name): an event's own node field is logged as `host`.
      const { event, node: host, ...rest } = e;
      const fields = host !== undefined ? { host, ...rest } : rest;
      log.info(event, fields);
      store.journal(event, fields, Date.now());
      for (const l of listeners) l(e);
    }
    for (const m of out.send) {
      any = true;
      void messaging.send(CRMD_GROUP, encodeCrm(m)).then((r) => {
        if (!r.ok) log.warn('send-failed', { type: m.t, code: r.code });
      });
    }
    for (const c of out.cancel) {
      any = true;
      executor.cancelMatching({ rscId: c.lrmId, ...(c.intervalMs !== undefined ? { intervalMs: c.intervalMs } : {}) });
    }
    for (const x of out.exec) {
      any = true;
      const r = executor.execute(x.request, (result) => {
        if (stopping) return;
        core.onExecResult(x.tag, result, now(), Date.now());
        pump();
      });
      if (!r.ok) log.error('exec-refused', { rsc: x.request.rscId, action: x.request.action, code: r.error.code, message: r.error.message });
    }
    for (const s of out.schedule) {
      any = true;
      store.savePeInput(s.cibXml, s.nowSec, Date.now());
      const started = now();
      void scheduler.plan(s.token, s.cibXml, s.nowSec).then((plan) => {
        log.info('schedule-done', { token: s.token, ms: Math.round(now() - started), actions: 'error' in plan ? undefined : plan.actions.length, error: 'error' in plan ? plan.error : undefined });
        core.onPlan(s.token, plan, now(), Date.now());
        pump();
      });
    }
    for (const r of out.replies) {
      any = true;
      answer(r);
    }
    if (out.selfFence !== undefined && !exitRequested) {
      // Self-fence without a working device (the core's hard stop): leave at once, without the
      // graceful shutdown, and with a failure status so that the supervisor (systemd
      // Restart=on-failure) starts the node again.
      exitRequested = true;
      log.error('self-fence-exit', { reason: out.selfFence });
      void shutdown(1);
    } else if (out.exit && !exitRequested) {
      exitRequested = true;
      void shutdown();
    }
    return any;
  };

  const answer = (r: ClientReply): void => {
    const w = replies.get(r.reqId);
    if (!w) return;
    replies.delete(r.reqId);
    if (r.ok) w.resolve(r.result);
    else {
      const err = new Error(r.error?.message ?? 'request failed') as Error & { code?: string };
      err.code = r.error?.code;
      w.reject(err);
    }
  };

  const scheduleWake = (): void => {
    if (wakeTimer) clearTimeout(wakeTimer);
    wakeTimer = undefined;
    const at = core.nextWakeMs();
    if (at === undefined) return;
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      core.tick(now(), Date.now());
      pump();
    }, Math.max(0, Math.ceil(at - now())));
  };

  const membershipChanged = (): void => {
    if (!view) return;
    scheduler.warm();
    core.onMembership({ viewKey: viewKey(view.id), members: crmdMembers, quorate: view.quorum.quorate, quorumVotes: view.quorum.quorumVotes }, now(), Date.now());
    pump();
  };

  messaging.on('view', (e) => {
    view = e.view;
    crmdMembers = [...(e.view.groups.find((g) => g.group === CRMD_GROUP)?.members ?? [])];
    log.info('view', { view: viewKey(e.view.id), members: e.view.members.map((m) => m.nodeId), quorate: e.view.quorum.quorate, joined: e.view.joined.map((m) => m.nodeId), left: e.view.left.map((m) => m.nodeId) });
    membershipChanged();
  });
  messaging.on('group', (e) => {
    if (e.group !== CRMD_GROUP) return;
    crmdMembers = [...e.members];
    membershipChanged();
  });
  messaging.on('message', (e) => {
    if (e.group !== CRMD_GROUP) return;
    core.onMessage(e.sender, e.data, now(), Date.now());
    pump();
  });
  // Agreed nodelist changes: in force in the messaging layer already; here the controller's node
  // names follow, the configuration file stores the list, and a change this node proposed is answered.
  let nodelist: NodelistState = { version: cfg.nodelistVersion, nodes: cfg.nodes };
  const nodelistOutcomes = new Map<number, { ok: true } | { ok: false; reason: string }>();
  const nodelistWaiters = new Map<number, (outcome: { ok: true } | { ok: false; reason: string }) => void>();
  const nodelistOutcome = (msgId: number, outcome: { ok: true } | { ok: false; reason: string }): void => {
    const waiter = nodelistWaiters.get(msgId);
    nodelistWaiters.delete(msgId);
    if (waiter !== undefined) waiter(outcome);
    else if (nodelistOutcomes.size < 64) nodelistOutcomes.set(msgId, outcome); // the proposal's reply is still on its way
  };
  messaging.on('nodelist', (e) => {
    nodelist = { version: e.nodelist.version, nodes: e.nodelist.nodes.map((n) => ({ id: n.nodeId, name: n.name === '' ? String(n.nodeId) : n.name, addresses: [...n.addresses], votes: n.votes })) };
    core.setNodes(nodelist.nodes.map((n) => ({ id: n.id, name: n.name })));
    log.info('nodelist', { version: nodelist.version, cause: e.cause, by: core.nodeName(e.sender), nodes: nodelist.nodes.map((n) => `${n.id}:${n.name}`) });
    if (opts.configPath !== undefined) {
      try {
        storeNodelist(opts.configPath, nodelist);
      } catch (err) {
        // The list is in force; a node restarted from the older file catches up from its peers.
        log.error('nodelist-store-failed', { path: opts.configPath, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (e.cause === 'change' && e.sender === cfg.node.id) nodelistOutcome(e.msgId, { ok: true });
  });
  messaging.on('nodelist-refused', (e) => {
    log.warn('nodelist-refused', { by: core.nodeName(e.sender), reason: e.reason });
    if (e.sender === cfg.node.id) nodelistOutcome(e.msgId, { ok: false, reason: e.reason });
  });
  messaging.on('peer-lost', (e) => log.warn('peer-lost', { nodeId: e.nodeId, silentMs: Math.round(e.silentMs) }));
  messaging.on('late-heartbeat', (e) => {
    log.warn('late-heartbeat', { nodeId: e.nodeId, silentMs: Math.round(e.silentMs) });
    // A peer may be about to be lost: have the scheduler ready before the new view needs it.
    scheduler.warm();
  });
  messaging.on('fatal', (err) => {
    log.error('messaging-fatal', { error: err.message });
    void shutdown(1);
  });

  const shutdown = async (code = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (wakeTimer) clearTimeout(wakeTimer);
    // Recurring monitors and queued actions end here: their timers would keep the process alive.
    // What runs keeps running (a stopped node leaves its resources as they are, as a crash would).
    executor.close();
    log.info('node-stop', { code });
    try {
      await messaging.stop();
    } catch {
      // Already gone.
    }
    await scheduler.stop();
    store.close();
    for (const [, w] of replies) w.reject(new Error('the node is stopping'));
    replies.clear();
    resolveStopped(code);
  };

  const joined = await messaging.joinGroup(CRMD_GROUP);
  if (!joined.ok) throw new Error(`could not join the ${CRMD_GROUP} group: ${joined.code}`);

  const status = (): NodeStatus => {
    const cib = readCib(core.cib as XmlElement);
    const state = unpackCluster(cib, { nowSec: Math.floor(Date.now() / 1000) });
    const dc = core.dc;
    const t = core.transitionState;
    return {
      clusterName: cfg.clusterName,
      node: cfg.node.name,
      dc: dc !== undefined ? core.nodeName(dc) : undefined,
      quorate: core.currentMembership?.quorate ?? false,
      viewId: view ? viewKey(view.id) : '',
      nodes: state.nodes.map((n) => ({ name: n.name, id: Number(n.id), online: n.online, standby: n.standby, maintenance: n.maintenance, unclean: n.unclean })),
      resources: state.resources
        .filter((r) => r.variant === 'primitive')
          .map((r) => ({ id: r.id, agent: r.agent ?? '', role: r.role, nodes: [...r.runningOn], failed: r.failed, managed: r.managed })),
      transition: t,
      cibVersion: formatVersion(core.cibVersion),
      settled: dc !== undefined && t.state === 'idle',
    };
  };

  return {
    core,
    store,
    status,
    request(req: ClientRequest): Promise<unknown> {
      const reqId = core.newRequestId();
      return new Promise((resolve, reject) => {
        replies.set(reqId, { resolve, reject });
        core.request(reqId, req, now(), Date.now());
        pump();
      });
    },
    fence(target, action, devices): Promise<unknown> {
      const reqId = core.newRequestId();
      return new Promise((resolve, reject) => {
        replies.set(reqId, { resolve, reject });
        core.requestFence(reqId, target, action, devices, now(), Date.now());
        pump();
      });
    },
    nodelist: () => nodelist,
    async changeNodelist(nodes, baseVersion) {
      const r = await messaging.proposeNodelist(nodes.map((n) => ({ nodeId: n.id, votes: n.votes, name: n.name, addresses: [...n.addresses] })), baseVersion);
      if (!r.ok) throw codedError(r.code === 'not-quorate' ? 'no-quorum' : 'bad-params', r.code === 'not-quorate' ? 'this partition is not quorate: the nodelist cannot change' : `the nodelist was refused: ${r.code}`);
      const outcome = nodelistOutcomes.get(r.msgId) ?? (await new Promise<{ ok: true } | { ok: false; reason: string }>((resolve) => {
        const timer = setTimeout(() => {
          nodelistWaiters.delete(r.msgId);
          resolve({ ok: false, reason: `timeout: no outcome within ${NODELIST_CHANGE_TIMEOUT_MS / 1000} s (the change may still be applied; see \`paceline messaging status\`)` });
        }, NODELIST_CHANGE_TIMEOUT_MS);
        nodelistWaiters.set(r.msgId, (o) => {
          clearTimeout(timer);
          resolve(o);
        });
      }));
      nodelistOutcomes.delete(r.msgId);
      if (outcome.ok) return nodelist;
      const code = outcome.reason.startsWith('timeout') ? 'unavailable' : /not quorate|lose quorum/.test(outcome.reason) ? 'no-quorum' : /came first|formed again/.test(outcome.reason) ? 'conflict' : 'bad-params';
      throw codedError(code, `the cluster refused the nodelist change: ${outcome.reason}`);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop(opts = {}) {
      core.requestShutdown(now(), Date.now());
      pump();
      const timeout = new Promise<void>((r) => setTimeout(r, opts.timeoutMs ?? 60_000).unref());
      await Promise.race([stopped.then(() => undefined), timeout]);
      await shutdown();
    },
    stopped,
  };
}

/** parseXml, re-exported for the API's query path. */
export { parseXml };
