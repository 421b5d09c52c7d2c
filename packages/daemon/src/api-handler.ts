/**
 * The API methods of a running node (protocol: @paceline/controller api/protocol.ts). Reads are
 * answered from this node's replica of the CIB; changes go through the controller, which orders
 * them in the cluster and answers once a quorum has them (see core.ts).
 */
import { cibadmin, escapeAttr, formatVersion, parseXml, readCib, writeElement, firstChild, childElements, type XmlElement } from '@paceline/cib';
import { planTransition, schedule, type FenceDevice } from '@paceline/scheduler';
import { ApiError, fenceDevicesFor, fenceLevelsFor, type CibUpdateParams, type FenceHistoryEntry, type WireCibRequest } from '@paceline/controller';
import type { ClusterNodeConfig } from './config.js';
import type { NodelistState, RunningNode } from './node.js';
import { withNodeAdded, withNodeRemoved } from './nodelist-change.js';

type Params = Record<string, unknown> | undefined;

function str(p: Params, name: string, required = false): string | undefined {
  const v = p?.[name];
  if (v === undefined) {
    if (required) throw new ApiError('bad-params', `missing ${name}`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new ApiError('bad-params', `${name} must be a non-empty string`);
  return v;
}

/** Turns controller refusals (Error with code) into API errors with the protocol's codes. */
async function viaController(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const message = e instanceof Error ? e.message : String(e);
    switch (code) {
      case 'conflict':
      case 'no-quorum':
      case 'unavailable':
        throw new ApiError(code, message);
      case 'not-joined':
        throw new ApiError('unavailable', message);
      case 'no-such-node':
      case 'no-such-object':
        throw new ApiError('not-found', message);
      default:
        throw new ApiError(code === undefined ? 'internal' : 'bad-params', message);
    }
  }
}

/**
 * Runs a controller request again while the membership is changing under it (refused as
 * not-joined, or indeterminate: the view changed before a quorum acknowledged it), as after an
 * agreed nodelist change, which installs a new view. For idempotent requests only.
 */
async function whenJoined<T>(request: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await request();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (i >= attempts || (code !== 'not-joined' && code !== 'indeterminate')) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** ISO 8601 duration (PT10M, P1D) or crm_resource's "10m"-style lifetime to seconds. */
export function lifetimeSeconds(text: string): number {
  const simple = /^(\d+)\s*(s|m|min|h|d)?$/i.exec(text.trim());
  if (simple) {
    const n = Number(simple[1]);
    const unit = (simple[2] ?? 's').toLowerCase();
    return n * (unit === 's' ? 1 : unit === 'm' || unit === 'min' ? 60 : unit === 'h' ? 3600 : 86400);
  }
  const iso = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/i.exec(text.trim());
  if (iso && text.trim().length > 1) return Number(iso[1] ?? 0) * 86400 + Number(iso[2] ?? 0) * 3600 + Number(iso[3] ?? 0) * 60 + Number(iso[4] ?? 0);
  throw new ApiError('bad-params', `lifetime ${JSON.stringify(text)}: expected an ISO 8601 duration like PT10M or a number with s/m/h/d`);
}

function isoUtc(epochSec: number): string {
  return new Date(epochSec * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}


/** crm_resource's cli-prefer / cli-ban constraint, with an end date when a lifetime is given. */
export function cliConstraint(kind: 'prefer' | 'ban', rsc: string, node: string, endSec: number | undefined): string {
  const id = kind === 'prefer' ? `cli-prefer-${rsc}` : `cli-ban-${rsc}-on-${node}`;
  const score = kind === 'prefer' ? 'INFINITY' : '-INFINITY';
  if (endSec === undefined) return `<rsc_location id="${escapeAttr(id)}" rsc="${escapeAttr(rsc)}" role="Started" node="${escapeAttr(node)}" score="${score}"/>`;
  const rule = `${id}-rule`;
  return (
    `<rsc_location id="${escapeAttr(id)}" rsc="${escapeAttr(rsc)}" role="Started">` +
    `<rule id="${escapeAttr(rule)}" score="${score}" boolean-op="and">` +
    `<expression id="${escapeAttr(`${rule}-expr`)}" attribute="#uname" operation="eq" value="${escapeAttr(node)}" type="string"/>` +
    `<date_expression id="${escapeAttr(`${rule}-lifetime`)}" operation="lt" end="${isoUtc(endSec)}"/>` +
    `</rule></rsc_location>`
  );
}

function constraintsOf(cib: XmlElement): XmlElement {
  const config = firstChild(cib, 'configuration');
  return (config ? firstChild(config, 'constraints') : undefined) ?? parseXml('<constraints/>').root;
}

/**
 * The lrm ids (history entries) a refresh of `rsc` covers: the primitives configured under it (a
 * group's members, a clone's or bundle's primitive), with the instance ids unique clones record
 * (`prim:N`), and `rsc` itself when the status has history under that id (an orphan).
 */
export function lrmIdsFor(cib: XmlElement, rsc: string): string[] {
  const config = firstChild(cib, 'configuration');
  const resources = config ? firstChild(config, 'resources') : undefined;
  const primitives: string[] = [];
  const find = (el: XmlElement): XmlElement | undefined => {
    if (el.attrs['id'] === rsc && el.name !== 'meta_attributes' && el.name !== 'instance_attributes') return el;
    for (const c of childElements(el)) {
      const hit = find(c);
      if (hit) return hit;
    }
    return undefined;
  };
  const collect = (el: XmlElement): void => {
    if (el.name === 'primitive' && el.attrs['id'] !== undefined) primitives.push(el.attrs['id']);
    for (const c of childElements(el)) collect(c);
  };
  const top = resources ? find(resources) : undefined;
  if (top) collect(top);
  const status = firstChild(cib, 'status');
  const recorded = new Set<string>();
  for (const ns of status ? childElements(status, 'node_state') : []) {
    const lrm = firstChild(ns, 'lrm');
    const list = lrm ? firstChild(lrm, 'lrm_resources') : undefined;
    for (const r of list ? childElements(list, 'lrm_resource') : []) if (r.attrs['id'] !== undefined) recorded.add(r.attrs['id']);
  }
  const out = new Set(primitives);
  for (const id of recorded) {
    const base = id.replace(/:\d+$/, '');
    if (id === rsc || primitives.includes(base)) out.add(id);
  }
  return [...out];
}

/**
 * The fence devices the scheduler plans with (stonith primitives, their host lists and
 * parameters), those that can fence `target` when given, the most preferred first (priority,
 * then id), as the controller picks them for a scheduled fencing.
 */
export function fenceDevicesOf(cib: XmlElement, target?: string): FenceDevice[] {
  const model = readCib(cib);
  const devices = planTransition(model, schedule(model)).fenceDevices;
  return fenceDevicesFor(devices, target);
}

/** Where a resource is active (from the status), for move/ban without a node. */
function activeNodes(node: RunningNode, rsc: string): string[] {
  return node.status().resources.filter((r) => r.id === rsc || r.id.startsWith(`${rsc}:`)).flatMap((r) => r.nodes);
}

export function makeApiHandler(node: RunningNode) {
  /** Replaces the constraints section with `edit(current)`, based on the version read (retried on conflict). */
  /**
   * A nodelist edit as read-modify-write: made from the list in force, proposed with its version,
   * made again from the newer list when another change came first (as editConstraints does).
   */
  const changeNodelist = async (edit: (list: NodelistState) => { node: ClusterNodeConfig; nodes: ClusterNodeConfig[] }): Promise<{ node: ClusterNodeConfig; nodelist: NodelistState }> => {
    for (let attempt = 1; ; attempt++) {
      const list = node.nodelist();
      const { node: entry, nodes } = edit(list);
      try {
        return { node: entry, nodelist: (await viaController(node.changeNodelist(nodes, list.version))) as NodelistState };
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 'conflict' || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  };

  const editConstraints = async (edit: (children: XmlElement[]) => XmlElement[]): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      const cib = node.core.cib;
      const base = formatVersion(node.core.cibVersion);
      const before = constraintsOf(cib);
      const kids = childElements(before);
      const next = edit(kids);
      const xml = `<constraints>${next.map((c) => writeElement(c)).join('')}</constraints>`;
      try {
        return await viaController(node.request({ kind: 'cib-update', base, request: { op: 'replace', scope: 'constraints', xml } }));
      } catch (e) {
        if (!(e instanceof ApiError) || e.code !== 'conflict' || attempt >= 3) throw e;
      }
    }
  };

  return async (method: string, raw: unknown): Promise<unknown> => {
    const p = raw as Params;
    switch (method) {
      case 'hello':
        return { protocol: 1, node: node.status().node, clusterName: node.status().clusterName };
      case 'status':
        return node.status();
      case 'cib.query': {
        const scope = str(p, 'scope');
        const xpath = str(p, 'xpath');
        const r = cibadmin(node.core.cib, { op: 'query', ...(scope ? { scope } : {}), ...(xpath ? { xpath } : {}) });
        if (!r.ok) throw new ApiError('not-found', r.error.message);
        const out = r.value.output ?? node.core.cib;
        return { xml: writeElement(out), version: formatVersion(node.core.cibVersion) };
      }
      case 'cib.update': {
        const u = p as unknown as CibUpdateParams;
        const request: WireCibRequest = {
          op: u.op,
          ...(u.scope !== undefined ? { scope: u.scope } : {}),
          ...(u.xpath !== undefined ? { xpath: u.xpath } : {}),
          ...(u.xml !== undefined ? { xml: u.xml } : {}),
        };
        if (u.xml !== undefined) {
          try {
            parseXml(u.xml);
          } catch (e) {
            throw new ApiError('bad-params', `xml: ${e instanceof Error ? e.message : String(e)}`);
          }
        }
        return viaController(node.request({ kind: 'cib-update', ...(u.baseVersion !== undefined ? { base: u.baseVersion } : {}), request }));
      }
      case 'resource.cleanup': {
        const rsc = str(p, 'rsc');
        const target = str(p, 'node');
        const ids = rsc !== undefined ? [rsc] : [...new Set(node.status().resources.map((r) => r.id.replace(/:\d+$/, '')))];
        for (const id of ids) await viaController(node.request({ kind: 'cleanup', lrmId: id, ...(target !== undefined ? { node: target } : {}) }));
        return { cleaned: ids };
      }
      case 'resource.refresh': {
        const given = str(p, 'resource');
        const alias = str(p, 'rsc');
        if (given !== undefined && alias !== undefined && given !== alias) throw new ApiError('bad-params', 'resource and rsc name different resources');
        const rsc = given ?? alias;
        const target = str(p, 'node');
        const where = target !== undefined ? { node: target } : {};
        if (target !== undefined && !node.status().nodes.some((n) => n.name === target)) throw new ApiError('not-found', `no node named ${target}`);
        if (rsc === undefined) {
          const r = (await viaController(node.request({ kind: 'refresh', ...where }))) as { version?: string } | undefined;
          return { resources: 'all', ...where, ...(r?.version !== undefined ? { version: r.version } : {}) };
        }
        const ids = lrmIdsFor(node.core.cib, rsc);
        if (ids.length === 0) throw new ApiError('not-found', `no resource ${rsc} in the configuration or the status`);
        let version: string | undefined;
        for (const id of ids) version = ((await viaController(node.request({ kind: 'refresh', lrmId: id, ...where }))) as { version?: string } | undefined)?.version;
        return { resources: ids, ...where, ...(version !== undefined ? { version } : {}) };
      }
      case 'resource.move':
      case 'resource.ban': {
        const rsc = str(p, 'rsc', true)!;
        const lifetime = str(p, 'lifetime');
        const endSec = lifetime !== undefined ? Math.floor(Date.now() / 1000) + lifetimeSeconds(lifetime) : undefined;
        let target = str(p, 'node');
        const kind = method === 'resource.move' ? 'prefer' : 'ban';
        if (target === undefined) {
          const active = activeNodes(node, rsc);
          if (active.length !== 1) throw new ApiError('bad-params', `${rsc} is active on ${active.length} nodes: name the node`);
          if (kind === 'prefer') throw new ApiError('bad-params', 'move needs a node (use ban to move a resource away from where it runs)');
          target = active[0]!;
        }
        const el = parseXml(cliConstraint(kind, rsc, target, endSec)).root;
        return editConstraints((kids) => [...kids.filter((c) => c.attrs['id'] !== el.attrs['id']), el]);
      }
      case 'resource.clear': {
        const rsc = str(p, 'rsc', true)!;
        return editConstraints((kids) => kids.filter((c) => !(c.attrs['id'] === `cli-prefer-${rsc}` || (c.attrs['id'] ?? '').startsWith(`cli-ban-${rsc}-on-`))));
      }
      case 'node.standby': {
        const target = str(p, 'node', true)!;
        const on = p?.['on'];
        if (typeof on !== 'boolean') throw new ApiError('bad-params', 'on must be true or false');
        return viaController(node.request({ kind: 'attr', node: target, name: 'standby', value: on ? 'on' : 'off', lifetime: 'forever' }));
      }
      case 'node.attribute': {
        const target = str(p, 'node', true)!;
        const name = str(p, 'name', true)!;
        const value = p?.['value'];
        if (value !== undefined && typeof value !== 'string') throw new ApiError('bad-params', 'value must be a string');
        const lifetime = p?.['lifetime'] === 'reboot' ? 'reboot' : 'forever';
        return viaController(node.request({ kind: 'attr', node: target, name, ...(value !== undefined ? { value } : {}), lifetime }));
      }
      case 'events.tail': {
        const after = typeof p?.['after'] === 'number' ? (p['after'] as number) : 0;
        const limit = typeof p?.['limit'] === 'number' ? (p['limit'] as number) : 100;
        return node.store.events(after, limit);
      }
      case 'fence.devices': {
        const target = str(p, 'target');
        const devices = fenceDevicesOf(node.core.cib, target);
        const running = new Map(node.status().resources.map((r) => [r.id, r.nodes]));
        return { devices: devices.map((d) => ({ id: d.id, agent: `${d.agent.class}:${d.agent.provider ? `${d.agent.provider}:` : ''}${d.agent.type}`, ...(d.hostList ? { hostList: [...d.hostList] } : {}), runningOn: running.get(d.id) ?? [] })) };
      }
      case 'fence.history': {
        const target = str(p, 'target');
        const history = node.core.fenceHistory.filter((h) => target === undefined || target === '*' || h.target === target);
        return {
          history: history.map((h): FenceHistoryEntry => ({
            target: h.target, action: h.action, ok: h.ok, by: h.by, ...(h.device !== undefined ? { device: h.device } : {}), wallSec: Math.floor(h.wallMs / 1000),
            ...(h.reason !== undefined ? { reason: h.reason } : {}),
            ...(h.level !== undefined ? { level: h.level } : {}),
            ...(h.devices !== undefined ? { devices: [...h.devices] } : {}),
            ...(h.attempts !== undefined ? { attempts: h.attempts.map((a) => ({ ...a, devices: [...a.devices] })) } : {}),
            ...(h.manual ? { manual: true } : {}),
          })),
        };
      }
      case 'fence.cleanup': {
        const given = str(p, 'target');
        const target = given === '*' ? undefined : given;
        if (target !== undefined && !node.status().nodes.some((n) => n.name === target)) throw new ApiError('not-found', `no node named ${target}`);
        await viaController(node.request({ kind: 'fence-history-clear', ...(target !== undefined ? { target } : {}) }));
        return { target: target ?? '*' };
      }
      case 'cluster.add-node': {
        const id = p?.['id'];
        const votes = p?.['votes'];
        if (id !== undefined && typeof id !== 'number') throw new ApiError('bad-params', 'id must be a number');
        if (votes !== undefined && typeof votes !== 'number') throw new ApiError('bad-params', 'votes must be a number');
        const req = { name: str(p, 'name', true)!, address: str(p, 'address', true)!, ...(id !== undefined ? { id } : {}), ...(votes !== undefined ? { votes } : {}) };
        return changeNodelist((list) => withNodeAdded(list, req));
      }
      case 'cluster.remove-node': {
        const name = str(p, 'name', true)!;
        const { node: removed, nodelist } = await changeNodelist((list) => withNodeRemoved(list, name));
        // As crm_node --remove: the node's entries leave the CIB too (its status first, which is not
        // validated, then its configuration entry), so that the cluster no longer waits for it or
        // wants it fenced. A CIB that does not validate keeps the configuration entry: `cib` says
        // so, and the nodelist change stands. Names are checked node names (config.ts NODE_NAME):
        // no quote can end the XPath literal.
        const cib: { removed: string[]; kept?: string } = { removed: [] };
        const entries = [
          { scope: 'status', xpath: `/cib/status/node_state[@uname='${removed.name}']` },
          { scope: 'nodes', xpath: `/cib/configuration/nodes/node[@uname='${removed.name}']` },
        ];
        for (const { scope, xpath } of entries) {
          try {
            await viaController(whenJoined(() => node.request({ kind: 'cib-update', request: { op: 'delete', scope, xpath } })));
            cib.removed.push(xpath);
          } catch (e) {
            if (e instanceof ApiError && e.code === 'not-found') continue;
            cib.kept = `${xpath}: ${e instanceof Error ? e.message : String(e)}`;
            break;
          }
        }
        return { node: removed, nodelist, cib };
      }
      case 'fence.request': {
        const target = str(p, 'target', true)!;
        const action = str(p, 'action', true) as 'off' | 'on' | 'reboot';
        const known = node.status().nodes.some((n) => n.name === target);
        if (!known) throw new ApiError('not-found', `no node named ${target}`);
        // The target's fencing levels when it has some (the controller runs them), else the first device that can.
        const devices = fenceDevicesOf(node.core.cib);
        if (fenceLevelsFor(node.core.cib, target).length === 0 && fenceDevicesFor(devices, target).length === 0) throw new ApiError('not-found', `no fence device can fence ${target}`);
        try {
          return await node.fence(target, action, devices);
        } catch (e) {
          if ((e as { code?: string }).code === 'fence-failed') throw new ApiError('fence-failed', e instanceof Error ? e.message : String(e));
          return viaController(Promise.reject(e));
        }
      }
      default:
        throw new ApiError('unknown-method', `unknown method ${method}`);
    }
  };
}
