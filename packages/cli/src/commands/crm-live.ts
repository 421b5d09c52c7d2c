/**
 * The crm shell on a running cluster: a `CibBackend` over the local node's API (the same socket
 * discovery as the live Pacemaker tools, `./live.ts`), and the live levels crmsh 4.4 has:
 *
 * - configure: the CIB is read with `cib.query`, edited in the shell, and `commit` sends ONE
 *   replace of the configuration section based on the version read. Status updates in between
 *   (num_updates) are not conflicts; a configuration change (admin_epoch/epoch) is, and nothing
 *   is written (the shell keeps the edits).
 * - `resource`, `node`, `cluster`, `maintenance`, `history` and the top-level `status`, through
 *   the API's methods (resource.*, node.*, cib.update for meta attributes and properties,
 *   status, events.tail) and the scheduler (`why`).
 *
 * Every command opens one API connection and closes it. Errors become `ERROR: ...` with the exit
 * code the Pacemaker tool would end with (./live.ts `exitCodeOfApiError`).
 */
import { ApiClient, ApiError, isSettled, type StatusResult } from '@paceline/controller';
import { childElements, didYouMean, parseXml, validateCib, writeElement, type XmlElement } from '@paceline/cib';
import { explainResource, schedule } from '@paceline/scheduler';
import { NODE_CONFIG_DEFAULTS } from '@paceline/daemon';
import { Store } from '@paceline/store';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CibBackend, CibReplaceResult, CibVersionTag } from '../crm/host.js';
import { schemaIsOcf11 } from '../crm/script.js';
import { crmMonText, crmMonXml, fullResourceListText, liveCib, type CrmMonOptions } from './crm_mon.js';
import { runCrmSimulate } from './crm_simulate.js';
import { CRM_EX, ToolError, apiSocket, exitCodeOfApiError, xmlAttr } from './live.js';
import { confirmedDownState } from './stonith_admin.js';
import { runClusterWords } from './cluster.js';

/** What a live command printed and how it ended. */
export interface LiveOutcome {
  readonly exitCode: number;
  readonly output: string;
}

export interface LiveBackendOptions {
  /** The API socket (default: $PACELINE_API_SOCKET or the node's default). */
  readonly socket?: string;
  /** How long `restart` waits for the stop and the start (default 120 s). */
  readonly waitMs?: number;
  /** Poll period while waiting (default 250 ms). */
  readonly pollMs?: number;
}

/** The live backend: also names its socket, for messages. */
export interface LiveCibBackend extends CibBackend {
  readonly socket: string;
  readonly runLive: NonNullable<CibBackend['runLive']>;
}

/** How many times a single-attribute change is re-based when only the status moved under it. */
const REBASE_ATTEMPTS = 8;

/** True when something answers the API on `socket` (connects and closes at once). */
export async function apiReachable(socket: string, timeoutMs = 2_000): Promise<{ ok: true } | { ok: false; why: string }> {
  try {
    const api = await ApiClient.connect({ socket }, { timeoutMs });
    await api.close();
    return { ok: true };
  } catch (e) {
    return { ok: false, why: e instanceof Error ? e.message : String(e) };
  }
}

function parseVersion(text: string): CibVersionTag {
  const [a, e, n] = text.split('.').map((x) => Number(x));
  return { adminEpoch: a ?? 0, epoch: e ?? 0, numUpdates: n ?? 0 };
}

const fmtVersion = (v: CibVersionTag): string => `${v.adminEpoch}.${v.epoch}.${v.numUpdates}`;

/** One connection for `fn`; connection failures are a ToolError 102, as the tools end. */
async function withConnection<T>(socket: string, fn: (api: ApiClient) => Promise<T>): Promise<T> {
  let api: ApiClient;
  try {
    api = await ApiClient.connect({ socket });
  } catch (e) {
    throw new ToolError(CRM_EX.disconnect, `Could not connect to the cluster (API socket ${socket}): ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return await fn(api);
  } finally {
    await api.close();
  }
}

/** The crm shell's CIB on the running cluster behind `socket`, with the live levels. */
export function liveCibBackend(opts: LiveBackendOptions = {}): LiveCibBackend {
  const socket = apiSocket(opts.socket);
  const ctx: LiveCtx = { waitMs: opts.waitMs ?? 120_000, pollMs: opts.pollMs ?? 250 };
  return {
    name: 'live',
    socket,
    read: () => withConnection(socket, async (api) => (await api.request('cib.query', {})).xml),
    replace: (cibText, basedOn) => withConnection(socket, (api) => replaceConfiguration(api, cibText, basedOn)),
    runLive: async (level, words) => {
      const out: string[] = [];
      try {
        const code = await withConnection(socket, (api) => runLiveCommand(api, ctx, level, words, out));
        return { exitCode: code, output: out.join('\n') };
      } catch (e) {
        return { exitCode: errorExit(e), output: [...out, `ERROR: ${errorText(e)}`].join('\n') };
      }
    },
  };
}

/** The exit code of a failed live command. */
export function errorExit(e: unknown): number {
  if (e instanceof ToolError) return e.exitCode;
  if (e instanceof ApiError) return exitCodeOfApiError(e.code);
  return CRM_EX.error;
}

/** The message of a failed live command (API errors keep their code). */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Commit: the configuration of `cibText` replaces the live one if the live configuration is
 * still the one read (admin_epoch and epoch of `basedOn`). Status-only changes since (num_updates)
 * are re-based on; a configuration change is a conflict and nothing is written.
 */
export async function replaceConfiguration(api: ApiClient, cibText: string, basedOn: CibVersionTag): Promise<CibReplaceResult> {
  let root: XmlElement;
  try {
    root = parseXml(cibText).root;
  } catch (e) {
    return { ok: false, conflict: false, message: `the CIB to commit is not XML: ${(e as Error).message}` };
  }
  const conf = childElements(root, 'configuration')[0];
  if (!conf) return { ok: false, conflict: false, message: 'the CIB to commit has no configuration section' };
  for (let attempt = 0; attempt < REBASE_ATTEMPTS; attempt++) {
    const q = await api.request('cib.query', {});
    const now = parseVersion(q.version);
    if (now.adminEpoch !== basedOn.adminEpoch || now.epoch !== basedOn.epoch) {
      return { ok: false, conflict: true, message: `the cluster's configuration changed since it was read (now ${fmtVersion(now)}, read ${fmtVersion(basedOn)}): nothing written` };
    }
    const liveSchema = parseXml(q.xml).root.attrs['validate-with'];
    if (root.attrs['validate-with'] !== undefined && root.attrs['validate-with'] !== liveSchema) {
      return { ok: false, conflict: false, message: `a schema change (${liveSchema} -> ${root.attrs['validate-with']}) is not committed on a live cluster from the shell: use cibadmin --upgrade` };
    }
    try {
      await api.request('cib.update', { baseVersion: q.version, op: 'replace', scope: 'configuration', xml: writeElement(conf) });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'conflict') continue;
      // The cluster names no detail for a refused configuration: its own checks, run here, do.
      const why = validateCib(root).filter((d) => d.severity === 'error').map((d) => d.message);
      return { ok: false, conflict: false, message: `${errorText(e)}${why.length ? `: ${why.join('; ')}` : ''}` };
    }
    return { ok: true, cibText: (await api.request('cib.query', {})).xml };
  }
  return { ok: false, conflict: true, message: `the CIB kept changing while the commit was sent (${REBASE_ATTEMPTS} attempts): nothing written` };
}

// ---------------------------------------------------------------------------------------------
// CIB helpers

interface LiveCtx {
  readonly waitMs: number;
  readonly pollMs: number;
}

interface CibRead {
  readonly root: XmlElement;
  readonly version: string;
}

async function readCib(api: ApiClient): Promise<CibRead> {
  const q = await api.request('cib.query', {});
  return { root: parseXml(q.xml).root, version: q.version };
}

function* walk(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of childElements(el)) yield* walk(c);
}

function section(root: XmlElement, name: string): XmlElement | undefined {
  const conf = childElements(root, 'configuration')[0];
  return conf ? childElements(conf, name)[0] : undefined;
}

const RESOURCE_TAGS = new Set(['primitive', 'group', 'clone', 'master', 'bundle']);

function findResource(root: XmlElement, id: string): XmlElement {
  const res = section(root, 'resources');
  const ids: string[] = [];
  for (const el of res ? walk(res) : []) {
    if (!RESOURCE_TAGS.has(el.name)) continue;
    if (el.attrs['id'] === id) return el;
    if (el.attrs['id'] !== undefined) ids.push(el.attrs['id']);
  }
  throw new ToolError(CRM_EX.noSuch, `resource ${id} does not exist${didYouMean(id, ids)}`);
}

/** The primitives of a resource (itself when it is one), for status checks. */
function primitivesOf(el: XmlElement): string[] {
  return [...walk(el)].filter((e) => e.name === 'primitive').map((e) => e.attrs['id'] ?? '');
}

function idInUse(root: XmlElement, id: string): boolean {
  for (const el of walk(root)) if (el.attrs['id'] === id) return true;
  return false;
}

function freshId(root: XmlElement, base: string): string {
  if (!idInUse(root, base)) return base;
  for (let i = 0; ; i++) if (!idInUse(root, `${base}-${i}`)) return `${base}-${i}`;
}

const q = (s: string): string => s.replace(/'/g, '');

/** Where an nvpair set lives: the element, an xpath to it, and the id a new set takes. */
interface NvOwner {
  readonly el: XmlElement;
  readonly xpath: string;
  readonly newSetId: string;
}

function findPair(owner: XmlElement, setTag: string, name: string): { set?: XmlElement; pair?: XmlElement } {
  const sets = childElements(owner, setTag);
  for (const set of sets) for (const p of childElements(set, 'nvpair')) if (p.attrs['name'] === name) return { set, pair: p };
  return sets[0] ? { set: sets[0] } : {};
}

/**
 * Runs a read-modify-write on the CIB, re-read and redone when the CIB moved under it (the change
 * is one attribute: applying it on the newer CIB is what the user asked for, as crm_resource does).
 */
async function rebased<T>(api: ApiClient, fn: (cib: CibRead) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const cib = await readCib(api);
    try {
      return await fn(cib);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'conflict') || attempt + 1 >= REBASE_ATTEMPTS) throw e;
    }
  }
}

/** Sets (value given) or deletes an nvpair of a set under the owner `locate` finds. */
async function changeNvpair(api: ApiClient, locate: (root: XmlElement) => NvOwner, setTag: string, name: string, value: string | undefined): Promise<void> {
  await rebased(api, async (cib) => {
    const owner = locate(cib.root);
    const found = findPair(owner.el, setTag, name);
    const base = { baseVersion: cib.version };
    if (value === undefined) {
      if (!found.pair) throw new ToolError(CRM_EX.noSuch, `attribute ${name} not found`);
      await api.request('cib.update', { ...base, op: 'delete', xpath: `//nvpair[@id='${q(found.pair.attrs['id'] ?? '')}']` });
      return;
    }
    if (found.pair) {
      const id = found.pair.attrs['id'] ?? '';
      await api.request('cib.update', { ...base, op: 'modify', xpath: `//nvpair[@id='${q(id)}']`, xml: `<nvpair id="${xmlAttr(id)}" name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>` });
      return;
    }
    if (found.set) {
      const setId = found.set.attrs['id'] ?? '';
      const pairId = freshId(cib.root, `${setId}-${name}`);
      await api.request('cib.update', { ...base, op: 'create', xpath: `//${setTag}[@id='${q(setId)}']`, xml: `<nvpair id="${xmlAttr(pairId)}" name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>` });
      return;
    }
    const setId = freshId(cib.root, owner.newSetId);
    const pairId = freshId(cib.root, `${setId}-${name}`);
    await api.request('cib.update', { ...base, op: 'create', xpath: owner.xpath, xml: `<${setTag} id="${xmlAttr(setId)}"><nvpair id="${xmlAttr(pairId)}" name="${xmlAttr(name)}" value="${xmlAttr(value)}"/></${setTag}>` });
  });
}

const resourceOwner =
  (rsc: string) =>
  (setTag: string) =>
  (root: XmlElement): NvOwner => {
    const el = findResource(root, rsc);
    const suffix = setTag === 'instance_attributes' ? 'instance_attributes' : setTag === 'meta_attributes' ? 'meta_attributes' : 'utilization';
    return { el, xpath: `//${el.name}[@id='${q(rsc)}']`, newSetId: `${rsc}-${suffix}` };
  };

function configNode(root: XmlElement, node: string): XmlElement | undefined {
  const nodes = section(root, 'nodes');
  return nodes ? childElements(nodes, 'node').find((n) => n.attrs['uname'] === node) : undefined;
}

const nodeOwner =
  (node: string) =>
  (root: XmlElement): NvOwner => {
    const el = configNode(root, node);
    if (!el) throw new ToolError(CRM_EX.noSuch, `node ${node} is not in the configuration`);
    const id = el.attrs['id'] ?? node;
    return { el, xpath: `//configuration/nodes/node[@id='${q(id)}']`, newSetId: `nodes-${id}-utilization` };
  };

const propertyOwner = (root: XmlElement): NvOwner => {
  const el = section(root, 'crm_config');
  if (!el) throw new ToolError(CRM_EX.config, 'the CIB has no crm_config section');
  return { el, xpath: '/cib/configuration/crm_config', newSetId: 'cib-bootstrap-options' };
};

/** A resource meta attribute, as `crm_resource --meta -p NAME -v VALUE` sets it. */
async function setMeta(api: ApiClient, rsc: string, name: string, value: string): Promise<void> {
  await changeNvpair(api, resourceOwner(rsc)('meta_attributes'), 'meta_attributes', name, value);
}

// ---------------------------------------------------------------------------------------------
// Dispatch

async function runLiveCommand(api: ApiClient, ctx: LiveCtx, level: string, words: readonly string[], out: string[]): Promise<number> {
  switch (level) {
    case 'top':
      if (words[0] === 'status') return topStatus(api, words.slice(1), out);
      throw new ToolError(CRM_EX.usage, `${words[0]}: not a live command`);
    case 'resource':
      return resourceCommand(api, ctx, words, out);
    case 'node':
      return nodeCommand(api, ctx, words, out);
    case 'cluster':
      return clusterCommand(api, words, out);
    case 'maintenance':
      return maintenanceCommand(api, words, out);
    case 'history':
      return historyCommand(api, words, out);
    default:
      throw new ToolError(CRM_EX.usage, `level ${level}: no live commands`);
  }
}

const nowSec = (): number => Math.floor(Date.now() / 1000);

/** `status [inactive|bynode|ops|timing|failcounts|attributes|full|xml]`: crm_mon -1 as crmsh runs it. */
async function topStatus(api: ApiClient, args: readonly string[], out: string[]): Promise<number> {
  const known = new Set(['inactive', 'bynode', 'ops', 'timing', 'failcounts', 'attributes', 'full', 'xml', 'simple']);
  for (const a of args) if (!known.has(a)) throw new ToolError(CRM_EX.usage, `status ${a}: unknown option (${[...known].join(', ')})`);
  const full = args.includes('full');
  const opts: CrmMonOptions = {
    inactive: full || args.includes('inactive'),
    groupByNode: args.includes('bynode'),
    operations: full || args.includes('ops'),
    timing: args.includes('timing'),
    failcounts: full || args.includes('failcounts'),
    attributes: full || args.includes('attributes'),
  };
  const status = await api.request('status', undefined);
  const cibXml = (await api.request('cib.query', {})).xml;
  const input = { cibXml, status, nowSec: nowSec() };
  out.push((args.includes('xml') ? crmMonXml(input, opts, 'crm status xml') : crmMonText(input, opts)).trimEnd());
  return CRM_EX.ok;
}

function need(args: readonly string[], n: number, usage: string): void {
  if (args.length < n) throw new ToolError(CRM_EX.usage, `usage: ${usage}`);
}

function noMore(args: readonly string[], n: number, usage: string): void {
  if (args.length > n) throw new ToolError(CRM_EX.usage, `unexpected ${args.slice(n).join(' ')} (usage: ${usage})`);
}

/** crmsh's lifetime: an ISO 8601 duration (P1D, PT5M) or `forever`-less shorthand the API takes. */
function isLifetime(w: string): boolean {
  return /^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/i.test(w);
}

/** `move|ban RSC [NODE] [LIFETIME] [force]`: the node (a cluster member), the lifetime, force. */
function moveArgs(status: StatusResult, args: readonly string[], usage: string): { node?: string; lifetime?: string } {
  const names = new Set(status.nodes.map((n) => n.name));
  let node: string | undefined;
  let lifetime: string | undefined;
  for (const w of args) {
    if (w === 'force') continue;
    if (node === undefined && lifetime === undefined && names.has(w)) node = w;
    else if (lifetime === undefined && isLifetime(w)) lifetime = w;
    else if (node === undefined && lifetime === undefined) throw new ToolError(CRM_EX.noSuch, `${w}: not a node of the cluster (${[...names].join(', ')}) nor a lifetime (ISO 8601, e.g. PT5M)`);
    else throw new ToolError(CRM_EX.usage, `unexpected ${w} (usage: ${usage})`);
  }
  return { ...(node !== undefined ? { node } : {}), ...(lifetime !== undefined ? { lifetime } : {}) };
}

function checkNode(status: StatusResult, node: string): void {
  if (!status.nodes.some((n) => n.name === node)) throw new ToolError(CRM_EX.noSuch, `node ${node} is not a node of the cluster (${status.nodes.map((n) => n.name).join(', ')})`);
}

/** Where the instances of `prims` run, from the status. */
function runningNodes(status: StatusResult, prims: readonly string[]): string[] {
  const set = new Set(prims);
  return [...new Set(status.resources.filter((r) => set.has(r.id.replace(/:\d+$/, ''))).flatMap((r) => r.nodes))];
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls the status until the cluster is settled and `cond` holds; a ToolError 124 after ctx.waitMs. */
async function waitFor(api: ApiClient, ctx: LiveCtx, what: string, cond: (s: StatusResult) => boolean): Promise<void> {
  const end = Date.now() + ctx.waitMs;
  for (;;) {
    const s = await api.request('status', undefined);
    if (isSettled(s) && cond(s)) return;
    if (Date.now() > end) throw new ToolError(CRM_EX.timeout, `timed out after ${Math.round(ctx.waitMs / 1000)} s waiting for ${what}`);
    await sleep(ctx.pollMs);
  }
}

/** One command of a level: its arguments, where to print, its usage line. */
interface Call {
  readonly api: ApiClient;
  readonly ctx: LiveCtx;
  /** The command name (after aliases). */
  readonly cmd: string;
  readonly args: readonly string[];
  readonly out: string[];
  readonly usage: string;
}

interface Command {
  readonly usage: string;
  readonly run: (c: Call) => Promise<number>;
}

/** Runs `words` with the command table of a level (aliases resolved); an unknown command is a usage error. */
async function dispatch(level: string, table: Record<string, Command>, aliases: Record<string, string>, api: ApiClient, ctx: LiveCtx, words: readonly string[], out: string[]): Promise<number> {
  const cmd = aliases[words[0] ?? ''] ?? words[0] ?? '';
  const entry = Object.hasOwn(table, cmd) ? table[cmd] : undefined;
  if (!entry) throw new ToolError(CRM_EX.usage, `${level} ${words[0] ?? ''}: unknown command (${Object.keys(table).join(', ')})`);
  return entry.run({ api, ctx, cmd, args: words.slice(1), out, usage: entry.usage });
}

async function resourceStatus({ api, args, out }: Call): Promise<number> {
  const cib = await readCib(api);
  if (args.length > 0) return locate(api, cib, args, out);
  out.push(fullResourceListText({ cibXml: writeElement(cib.root), status: await api.request('status', undefined), nowSec: nowSec() }).trimEnd());
  return CRM_EX.ok;
}

async function startStop({ api, cmd, args, usage }: Call): Promise<number> {
  need(args, 1, usage);
  const root = (await readCib(api)).root;
  for (const rsc of args) findResource(root, rsc);
  for (const rsc of args) await setMeta(api, rsc, 'target-role', cmd === 'start' ? 'Started' : 'Stopped');
  return CRM_EX.ok;
}

/** promote / demote: the target-role of a promotable clone (Promoted/Unpromoted, or Master/Slave before schema 3.7). */
async function promoteDemote({ api, cmd, args, usage }: Call): Promise<number> {
  need(args, 1, usage);
  noMore(args, 1, usage);
  const cib = await readCib(api);
  const el = findResource(cib.root, args[0]!);
  const promotable = el.name === 'master' || (el.name === 'clone' && [...walk(el)].some((e) => e.name === 'nvpair' && e.attrs['name'] === 'promotable' && /^(true|yes|on|1)$/i.test(e.attrs['value'] ?? '')));
  if (!promotable) throw new ToolError(CRM_EX.invalidParam, `${args[0]} is not a promotable clone`);
  const ocf11 = schemaIsOcf11(cib.root.attrs['validate-with']);
  const role = cmd === 'promote' ? (ocf11 ? 'Promoted' : 'Master') : ocf11 ? 'Unpromoted' : 'Slave';
  await setMeta(api, args[0]!, 'target-role', role);
  return CRM_EX.ok;
}

/** move / ban: a cli-prefer or cli-ban constraint (move without a node: a ban where it runs, as crm_resource --move). */
async function moveBan({ api, cmd, args, out, usage }: Call): Promise<number> {
  need(args, 1, usage);
  const rsc = args[0]!;
  findResource((await readCib(api)).root, rsc);
  const status = await api.request('status', undefined);
  const m = moveArgs(status, args.slice(1), usage);
  const prefer = cmd === 'move' && m.node !== undefined;
  await api.request(prefer ? 'resource.move' : 'resource.ban', { rsc, ...m });
  const where = m.node ?? runningNodes(status, [rsc])[0] ?? '?';
  const what = prefer ? `moving ${rsc} to ${where}: constraint cli-prefer-${rsc}` : `banning ${rsc} from ${where}: constraint cli-ban-${rsc}-on-${where}`;
  out.push(`INFO: ${what}${m.lifetime !== undefined ? `, for ${m.lifetime}` : ' (until cleared with `resource clear`)'}`);
  return CRM_EX.ok;
}

async function clear({ api, args, usage }: Call): Promise<number> {
  need(args, 1, usage);
  noMore(args, 1, usage);
  findResource((await readCib(api)).root, args[0]!);
  await api.request('resource.clear', { rsc: args[0]! });
  return CRM_EX.ok;
}

/** cleanup / refresh `[RSC] [NODE] [force]`. */
async function cleanupRefresh({ api, cmd, args, out, usage }: Call): Promise<number> {
  const status = await api.request('status', undefined);
  const cib = await readCib(api);
  let rsc: string | undefined;
  let node: string | undefined;
  for (const w of args.filter((x) => x !== 'force')) {
    if (rsc === undefined && node === undefined && !status.nodes.some((n) => n.name === w)) {
      findResource(cib.root, w);
      rsc = w;
    } else if (node === undefined) {
      checkNode(status, w);
      node = w;
    } else throw new ToolError(CRM_EX.usage, `unexpected ${w} (usage: ${usage})`);
  }
  const where = node !== undefined ? { node } : {};
  if (cmd === 'refresh' && (await refresh(api, rsc, where))) {
    out.push(`Refreshed ${rsc ?? 'all resources'} on ${node ?? 'all nodes'}`);
    return CRM_EX.ok;
  }
  // The API's cleanup forgets failures and the operation history: the node probes again.
  const rscs = rsc === undefined ? [undefined] : primitivesOf(findResource(cib.root, rsc));
  for (const r of rscs) await api.request('resource.cleanup', { ...(r !== undefined ? { rsc: r } : {}), ...where });
  out.push(`Cleaned up ${rsc ?? 'all resources'} on ${node ?? 'all nodes'}`);
  return CRM_EX.ok;
}

const SET_TAGS: Record<string, string> = { param: 'instance_attributes', meta: 'meta_attributes', utilization: 'utilization' };

async function resourceAttribute(c: Call): Promise<number> {
  need(c.args, 3, c.usage);
  const setTag = SET_TAGS[c.cmd]!;
  return attributeAction(c, resourceOwner(c.args[0]!)(setTag), setTag, c.args.slice(1));
}

async function manage({ api, cmd, args, usage }: Call): Promise<number> {
  need(args, 1, usage);
  noMore(args, 1, usage);
  await setMeta(api, args[0]!, 'is-managed', cmd === 'manage' ? 'true' : 'false');
  return CRM_EX.ok;
}

function onOff(text: string | undefined, what: string): boolean {
  const v = (text ?? 'on').toLowerCase();
  if (['on', 'true', 'yes', '1'].includes(v)) return true;
  if (['off', 'false', 'no', '0'].includes(v)) return false;
  throw new ToolError(CRM_EX.usage, `${what} ${text}: expected on or off`);
}

async function resourceMaintenance({ api, args, usage }: Call): Promise<number> {
  need(args, 1, usage);
  noMore(args, 2, usage);
  await setMeta(api, args[0]!, 'maintenance', onOff(args[1], `maintenance ${args[0]}`) ? 'true' : 'false');
  return CRM_EX.ok;
}

/** why RSC: the scheduler's explanation on the live CIB (crm_simulate --explain, crm_resource --why). */
async function why({ api, args, out, usage }: Call): Promise<number> {
  need(args, 1, usage);
  noMore(args, 1, usage);
  const cibXml = (await api.request('cib.query', {})).xml;
  const model = liveCib(cibXml, await api.request('status', undefined));
  const lines = explainResource(schedule(model, { nowSec: nowSec() }), args[0]!, model);
  if (lines === undefined) throw new ToolError(CRM_EX.noSuch, `resource ${args[0]} does not exist (why explains primitives)`);
  out.push(lines.join('\n'));
  return CRM_EX.ok;
}

const RESOURCE: Record<string, Command> = {
  status: { usage: 'status [<rsc>...]', run: resourceStatus },
  locate: { usage: 'locate <rsc>...', run: async (c) => (need(c.args, 1, c.usage), locate(c.api, await readCib(c.api), c.args, c.out)) },
  start: { usage: 'start <rsc>...', run: startStop },
  stop: { usage: 'stop <rsc>...', run: startStop },
  restart: { usage: 'restart <rsc>...', run: (c) => (need(c.args, 1, c.usage), restart(c.api, c.ctx, c.args, c.out)) },
  promote: { usage: 'promote <rsc>', run: promoteDemote },
  demote: { usage: 'demote <rsc>', run: promoteDemote },
  move: { usage: 'move <rsc> [<node>] [<lifetime>] [force]', run: moveBan },
  ban: { usage: 'ban <rsc> [<node>] [<lifetime>] [force]', run: moveBan },
  clear: { usage: 'clear <rsc>', run: clear },
  cleanup: { usage: 'cleanup [<rsc>] [<node>] [force]', run: cleanupRefresh },
  refresh: { usage: 'refresh [<rsc>] [<node>] [force]', run: cleanupRefresh },
  failcount: { usage: 'failcount <rsc> set|delete|show <node> [<value>]', run: failcount },
  param: { usage: 'param <rsc> set|delete|show <name> [<value>]', run: resourceAttribute },
  meta: { usage: 'meta <rsc> set|delete|show <name> [<value>]', run: resourceAttribute },
  utilization: { usage: 'utilization <rsc> set|delete|show <name> [<value>]', run: resourceAttribute },
  manage: { usage: 'manage <rsc>', run: manage },
  unmanage: { usage: 'unmanage <rsc>', run: manage },
  maintenance: { usage: 'maintenance <rsc> [on|off|true|false]', run: resourceMaintenance },
  why: { usage: 'why <rsc>', run: why },
};

const RESOURCE_ALIASES: Record<string, string> = { show: 'status', list: 'status', migrate: 'move', unmigrate: 'clear', unmove: 'clear', unban: 'clear', reprobe: 'refresh' };

/** The `resource` level. */
function resourceCommand(api: ApiClient, ctx: LiveCtx, words: readonly string[], out: string[]): Promise<number> {
  return dispatch('resource', RESOURCE, RESOURCE_ALIASES, api, ctx, words, out);
}

/**
 * crm_resource --refresh through the node's `resource.refresh` when it has one (newer nodes);
 * false when the node does not know the method (then cleanup, which also forgets the history).
 */
async function refresh(api: ApiClient, rsc: string | undefined, where: { node?: string }): Promise<boolean> {
  return (await callNewer(api, 'resource.refresh', { ...(rsc !== undefined ? { resource: rsc } : {}), ...where })).ok;
}

/** `locate RSC...` / `status RSC...`: where each runs, as crm_resource --locate prints it. */
async function locate(api: ApiClient, cib: CibRead, rscs: readonly string[], out: string[]): Promise<number> {
  const status = await api.request('status', undefined);
  for (const rsc of rscs) {
    const nodes = runningNodes(status, primitivesOf(findResource(cib.root, rsc)));
    if (nodes.length === 0) out.push(`resource ${rsc} is NOT running`);
    else out.push(`resource ${rsc} is running on: ${nodes.join(' ')}`);
  }
  return CRM_EX.ok;
}

/** `restart RSC...`: stop, wait until stopped; start, wait until running again. */
async function restart(api: ApiClient, ctx: LiveCtx, rscs: readonly string[], out: string[]): Promise<number> {
  const cib = await readCib(api);
  const prims = rscs.map((r) => primitivesOf(findResource(cib.root, r))).flat();
  for (const rsc of rscs) await setMeta(api, rsc, 'target-role', 'Stopped');
  out.push(`INFO: ordering ${rscs.join(', ')} to stop`);
  await waitFor(api, ctx, `${rscs.join(', ')} to stop`, (s) => runningNodes(s, prims).length === 0);
  for (const rsc of rscs) await setMeta(api, rsc, 'target-role', 'Started');
  out.push(`INFO: ordering ${rscs.join(', ')} to start`);
  await waitFor(api, ctx, `${rscs.join(', ')} to start`, (s) => prims.every((p) => runningNodes(s, [p]).length > 0));
  return CRM_EX.ok;
}

/** `set NAME VALUE` / `delete NAME` / `show NAME` (`rest`) of one attribute under `owner`. */
async function attributeAction(c: Call, owner: (root: XmlElement) => NvOwner, setTag: string, rest: readonly string[]): Promise<number> {
  const [op, name, value] = rest;
  if (name === undefined) throw new ToolError(CRM_EX.usage, `usage: ${c.usage}`);
  switch (op) {
    case 'set':
      if (value === undefined) throw new ToolError(CRM_EX.usage, `usage: ${c.usage}`);
      noMore(rest, 3, c.usage);
      await changeNvpair(c.api, owner, setTag, name, value);
      return CRM_EX.ok;
    case 'delete':
      noMore(rest, 2, c.usage);
      await changeNvpair(c.api, owner, setTag, name, undefined);
      return CRM_EX.ok;
    case 'show': {
      noMore(rest, 2, c.usage);
      const found = findPair(owner((await readCib(c.api)).root).el, setTag, name);
      if (!found.pair) throw new ToolError(CRM_EX.noSuch, `attribute ${name} not found`);
      c.out.push(found.pair.attrs['value'] ?? '');
      return CRM_EX.ok;
    }
    default:
      throw new ToolError(CRM_EX.usage, `${op}: expected set, delete or show (usage: ${c.usage})`);
  }
}

/** The transient attributes of `node` in the status section. */
function transientPairs(root: XmlElement, node: string): XmlElement[] {
  const status = childElements(root, 'status')[0];
  const ns = status ? childElements(status, 'node_state').find((n) => n.attrs['uname'] === node) : undefined;
  const ta = ns ? childElements(ns, 'transient_attributes')[0] : undefined;
  return ta ? childElements(ta, 'instance_attributes').flatMap((s) => childElements(s, 'nvpair')) : [];
}

/** `failcount RSC set|delete|show NODE [VALUE]` (crm_failcount). */
async function failcount({ api, args, usage, out }: Call): Promise<number> {
  need(args, 3, usage);
  const [rsc, op, node, value] = args as [string, string, string, string | undefined];
  const cib = await readCib(api);
  const prims = primitivesOf(findResource(cib.root, rsc));
  checkNode(await api.request('status', undefined), node);
  const counts = transientPairs(cib.root, node).filter((p) => prims.some((id) => p.attrs['name'] === `fail-count-${id}` || (p.attrs['name'] ?? '').startsWith(`fail-count-${id}#`)));
  switch (op) {
    case 'show': {
      noMore(args, 3, usage);
      let total = 0;
      for (const p of counts) total += /^\+?INFINITY$/i.test(p.attrs['value'] ?? '') ? 1_000_000 : Number.parseInt(p.attrs['value'] ?? '0', 10) || 0;
      out.push(`scope=status  name=fail-count-${rsc} value=${total >= 1_000_000 ? 'INFINITY' : total}`);
      return CRM_EX.ok;
    }
    case 'delete':
      noMore(args, 3, usage);
      for (const id of prims) await api.request('resource.cleanup', { rsc: id, node });
      return CRM_EX.ok;
    case 'set': {
      if (value === undefined) throw new ToolError(CRM_EX.usage, `usage: ${usage}`);
      noMore(args, 4, usage);
      if (!/^(\d+|\+?INFINITY)$/i.test(value)) throw new ToolError(CRM_EX.usage, `failcount ${value}: expected a number or INFINITY`);
      // crmsh: setting 0 is deleting; otherwise the count is one attribute (crm_failcount -v).
      if (/^0+$/.test(value)) {
        for (const id of prims) await api.request('resource.cleanup', { rsc: id, node });
        return CRM_EX.ok;
      }
      if (prims.length !== 1) throw new ToolError(CRM_EX.invalidParam, `${rsc} has ${prims.length} primitives: set the fail count of one of them`);
      await api.request('node.attribute', { node, name: `fail-count-${prims[0]}`, value, lifetime: 'reboot' });
      return CRM_EX.ok;
    }
    default:
      throw new ToolError(CRM_EX.usage, `${op}: expected set, delete or show (usage: ${usage})`);
  }
}

// ---------------------------------------------------------------------------------------------
// node

/** A node named on the command line (default: the local node), known to the cluster. */
function nodeOf(status: StatusResult, name: string | undefined): string {
  const n = name ?? status.node;
  checkNode(status, n);
  return n;
}

async function nodeShow({ api, args, out, usage }: Call): Promise<number> {
  noMore(args, 1, usage);
  const status = await api.request('status', undefined);
  const root = (await readCib(api)).root;
  const which = args[0] === undefined ? status.nodes : status.nodes.filter((n) => n.name === nodeOf(status, args[0]));
  for (const n of which) out.push(...nodeLines(root, n));
  return CRM_EX.ok;
}

async function nodeList({ api, args, out, usage }: Call): Promise<number> {
  noMore(args, 0, usage);
  for (const n of (await api.request('status', undefined)).nodes) out.push(`${n.name}(${n.id}): ${n.online ? 'member' : 'lost'}`);
  return CRM_EX.ok;
}

/** standby `[NODE] [reboot|forever]` (also `lifetime=...`): forever through node.standby, reboot a transient attribute. */
async function standby({ api, args, out, usage }: Call): Promise<number> {
  noMore(args, 2, usage);
  let rest = [...args];
  let lifetime: 'forever' | 'reboot' = 'forever';
  const last = rest[rest.length - 1];
  if (last !== undefined && /^(lifetime=)?(reboot|forever)$/.test(last)) {
    lifetime = last.endsWith('reboot') ? 'reboot' : 'forever';
    rest = rest.slice(0, -1);
  }
  noMore(rest, 1, usage);
  const node = nodeOf(await api.request('status', undefined), rest[0]);
  if (lifetime === 'forever') await api.request('node.standby', { node, on: true });
  else await api.request('node.attribute', { node, name: 'standby', value: 'on', lifetime: 'reboot' });
  out.push(`INFO: ${node} is in standby${lifetime === 'reboot' ? ' until it reboots' : ''}`);
  return CRM_EX.ok;
}

/** online `[NODE]`: standby off, and a standby until reboot cleared too (online means online). */
async function online({ api, args, usage }: Call): Promise<number> {
  noMore(args, 1, usage);
  const node = nodeOf(await api.request('status', undefined), args[0]);
  await api.request('node.standby', { node, on: false });
  if (transientPairs((await readCib(api)).root, node).some((p) => p.attrs['name'] === 'standby')) await api.request('node.attribute', { node, name: 'standby', lifetime: 'reboot' });
  return CRM_EX.ok;
}

async function nodeMaintenance({ api, cmd, args, usage }: Call): Promise<number> {
  noMore(args, 1, usage);
  const node = nodeOf(await api.request('status', undefined), args[0]);
  await api.request('node.attribute', { node, name: 'maintenance', value: cmd === 'maintenance' ? 'on' : 'off', lifetime: 'forever' });
  return CRM_EX.ok;
}

/** attribute (permanent) / status-attr (until reboot) `NODE set|delete|show NAME [VALUE]`, through node.attribute. */
async function nodeAttribute({ api, cmd, args, out, usage }: Call): Promise<number> {
  need(args, 3, usage);
  const [node, op, name, value] = args as [string, string, string, string | undefined];
  checkNode(await api.request('status', undefined), node);
  const lifetime = cmd === 'attribute' ? 'forever' : 'reboot';
  switch (op) {
    case 'show': {
      noMore(args, 3, usage);
      const root = (await readCib(api)).root;
      const pairs = lifetime === 'forever' ? childElements(configNode(root, node) ?? root, 'instance_attributes').flatMap((x) => childElements(x, 'nvpair')) : transientPairs(root, node);
      const pair = pairs.find((p) => p.attrs['name'] === name);
      if (!pair) throw new ToolError(CRM_EX.noSuch, `attribute ${name} of ${node} not found`);
      out.push(`scope=${lifetime === 'forever' ? 'nodes' : 'status'}  name=${name} value=${pair.attrs['value'] ?? ''}`);
      return CRM_EX.ok;
    }
    case 'set':
      if (value === undefined) throw new ToolError(CRM_EX.usage, `usage: ${usage}`);
      noMore(args, 4, usage);
      await api.request('node.attribute', { node, name, value, lifetime });
      return CRM_EX.ok;
    case 'delete':
      noMore(args, 3, usage);
      await api.request('node.attribute', { node, name, lifetime });
      return CRM_EX.ok;
    default:
      throw new ToolError(CRM_EX.usage, `${op}: expected set, delete or show (usage: ${usage})`);
  }
}

async function nodeUtilization(c: Call): Promise<number> {
  need(c.args, 3, c.usage);
  checkNode(await c.api.request('status', undefined), c.args[0]!);
  return attributeAction(c, nodeOwner(c.args[0]!), 'utilization', c.args.slice(1));
}

/** A method this client's protocol may not know yet (newer nodes have it): called untyped. */
async function callNewer(api: ApiClient, method: string, params: unknown): Promise<{ ok: true; result: unknown } | { ok: false }> {
  const call = api.request.bind(api) as unknown as (m: string, p: unknown) => Promise<unknown>;
  try {
    return { ok: true, result: await call(method, params) };
  } catch (e) {
    if (e instanceof ApiError && (e.code === 'unknown-method' || (e.code === 'bad-params' && /unknown method/.test(e.message)))) return { ok: false };
    throw e;
  }
}

/** fence NODE: a reboot through the node's `fence.request` (stonith-action's default); replies once the device answered. */
async function fence({ api, args, out, usage }: Call): Promise<number> {
  need(args, 1, usage);
  noMore(args, 1, usage);
  const target = args[0]!;
  checkNode(await api.request('status', undefined), target);
  const r = await callNewer(api, 'fence.request', { target, action: 'reboot' });
  if (!r.ok) throw new ToolError(CRM_EX.unavailable, `node fence ${target}: this node's API has no fence method (fence.request): nothing done`);
  const device = (r.result as { device?: unknown } | undefined)?.device;
  out.push(`INFO: ${target} fenced (reboot)${typeof device === 'string' ? ` by ${device}` : ''}`);
  return CRM_EX.ok;
}

/** What `node clearstate` does to a node, from its node_state (as crmsh 4.4's do_clearstate decides). */
export type ClearstatePlan =
  | { readonly kind: 'cleanup' }
  | { readonly kind: 'refuse'; readonly message: string }
  | { readonly kind: 'clear'; readonly xpath?: string; readonly xml?: string };

const truthy = (v: string | undefined): boolean => v === 'true' || v === 'online' || (v !== undefined && /^\d+$/.test(v) && Number(v) !== 0);

/**
 * crmsh 4.4's clearstate, decided on the CIB: a node whose controller is online (crmd="online")
 * gets its resources cleaned up (`crm_resource --cleanup --node`); one that corosync still
 * counts (in_ccm) is refused ("First shut down node"); any other is confirmed down as
 * `stonith_admin --confirm` (`confirmedDownState`). No node_state: nothing to clear.
 */
export function clearstatePlan(cib: XmlElement, node: string): ClearstatePlan {
  const status = childElements(cib, 'status')[0];
  const ns = status ? childElements(status, 'node_state').find((n) => n.attrs['uname'] === node) : undefined;
  if (!ns) return { kind: 'clear' };
  if (truthy(ns.attrs['crmd'])) return { kind: 'cleanup' };
  if (truthy(ns.attrs['in_ccm'])) return { kind: 'refuse', message: `Node is offline according to Pacemaker, but online according to corosync. First shut down node '${node}'` };
  // crmsh runs stonith_admin --confirm here.
  return { kind: 'clear', ...confirmedDownState(cib, node)! };
}

/**
 * clearstate `[NODE]` (default: this node), after the administrator made sure the node is down:
 * as crmsh 4.4 (without its confirmation question, as with `crm -F`). An online node's resources
 * are cleaned up instead (crmsh runs crm_resource --cleanup --node); a node corosync still
 * counts is refused (exit 1); otherwise its state is cleared as a fencing confirmation leaves it.
 */
async function clearstate({ api, args, out, usage }: Call): Promise<number> {
  noMore(args, 1, usage);
  const node = nodeOf(await api.request('status', undefined), args[0]);
  return rebased(api, async (cib) => {
    const plan = clearstatePlan(cib.root, node);
    if (plan.kind === 'refuse') throw new ToolError(CRM_EX.error, plan.message);
    if (plan.kind === 'cleanup') {
      await api.request('resource.cleanup', { node });
      out.push(`Cleaned up all resources on ${node}`);
      return CRM_EX.ok;
    }
    if (plan.xpath !== undefined) await api.request('cib.update', { baseVersion: cib.version, op: 'replace', xpath: plan.xpath, xml: plan.xml! });
    return CRM_EX.ok;
  });
}

/** delete NODE: an offline node leaves the configuration (an online one is refused). */
async function nodeDelete({ api, args, out, usage }: Call): Promise<number> {
  need(args, 1, usage);
  noMore(args, 1, usage);
  const node = args[0]!;
  if ((await api.request('status', undefined)).nodes.find((n) => n.name === node)?.online) throw new ToolError(CRM_EX.unsafe, `node ${node} is online: stop it (and remove it from the membership) before deleting it`);
  try {
    // A node of the nodelist leaves it (agreed by the members) and the CIB; else, as crmsh does, only the CIB.
    const r = await api.request('cluster.remove-node', { name: node }, { timeoutMs: 20_000 });
    out.push(`INFO: node ${node} removed from the nodelist (version ${r.nodelist.version})`);
    if (r.cib.kept !== undefined) out.push(`WARNING: the CIB keeps an entry of ${node}: ${r.cib.kept}`);
    return CRM_EX.ok;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'not-found')) throw e;
  }
  await rebased(api, async (cib) => {
    const el = configNode(cib.root, node);
    if (!el) throw new ToolError(CRM_EX.noSuch, `node ${node} is not in the configuration`);
    await api.request('cib.update', { baseVersion: cib.version, op: 'delete', xpath: `//configuration/nodes/node[@id='${q(el.attrs['id'] ?? '')}']` });
  });
  out.push(`INFO: node ${node} deleted from the configuration`);
  return CRM_EX.ok;
}

const NODE: Record<string, Command> = {
  status: { usage: 'status [<node>]', run: nodeShow },
  list: { usage: 'list', run: nodeList },
  standby: { usage: 'standby [<node>] [reboot|forever]', run: standby },
  online: { usage: 'online [<node>]', run: online },
  maintenance: { usage: 'maintenance [<node>]', run: nodeMaintenance },
  ready: { usage: 'ready [<node>]', run: nodeMaintenance },
  attribute: { usage: 'attribute <node> set|delete|show <name> [<value>]', run: nodeAttribute },
  'status-attr': { usage: 'status-attr <node> set|delete|show <name> [<value>]', run: nodeAttribute },
  utilization: { usage: 'utilization <node> set|delete|show <name> [<value>]', run: nodeUtilization },
  fence: { usage: 'fence <node>', run: fence },
  clearstate: { usage: 'clearstate [<node>]', run: clearstate },
  delete: { usage: 'delete <node>', run: nodeDelete },
};

/** The `node` level. */
function nodeCommand(api: ApiClient, ctx: LiveCtx, words: readonly string[], out: string[]): Promise<number> {
  return dispatch('node', NODE, { show: 'status' }, api, ctx, words, out);
}

/** crmsh's `node show` lines: `name(id): member` and the node's attributes, standby noted. */
function nodeLines(root: XmlElement, n: StatusResult['nodes'][number]): string[] {
  const state = n.unclean ? 'UNCLEAN' : n.online ? 'member' : 'lost';
  const flags = [n.standby ? 'standby' : '', n.maintenance ? 'maintenance' : ''].filter((x) => x !== '');
  const lines = [`${n.name}(${n.id}): ${state}${flags.length ? ` (${flags.join(', ')})` : ''}`];
  const el = configNode(root, n.name);
  for (const set of el ? childElements(el, 'instance_attributes') : []) for (const p of childElements(set, 'nvpair')) lines.push(`\t${p.attrs['name']}=${p.attrs['value'] ?? ''}`);
  for (const set of el ? childElements(el, 'utilization') : []) for (const p of childElements(set, 'nvpair')) lines.push(`\tutilization ${p.attrs['name']}=${p.attrs['value'] ?? ''}`);
  for (const p of transientPairs(root, n.name)) lines.push(`\t${p.attrs['name']}=${p.attrs['value'] ?? ''} (reboot)`);
  return lines;
}

// ---------------------------------------------------------------------------------------------
// cluster, maintenance, history

async function clusterCommand(api: ApiClient, words: readonly string[], out: string[]): Promise<number> {
  const cmd = words[0] ?? '';
  if (cmd === 'status') {
    noMore(words, 1, 'status');
    const s = await api.request('status', undefined);
    out.push(`Cluster ${s.clusterName}: ${s.nodes.filter((n) => n.online).length} of ${s.nodes.length} nodes online, partition ${s.quorate ? 'with' : 'WITHOUT'} quorum, DC ${s.dc ?? 'NONE'}`);
    out.push(`CIB ${s.cibVersion}; transition ${s.transition.id} ${s.transition.state}; seen from ${s.node}`);
    for (const n of s.nodes) out.push(`  ${n.name}: ${n.unclean ? 'UNCLEAN' : n.online ? 'online' : 'offline'}${n.standby ? ', standby' : ''}${n.maintenance ? ', maintenance' : ''}${n.name === s.dc ? ', DC' : ''}`);
    return CRM_EX.ok;
  }
  if (['start', 'stop', 'restart', 'enable', 'disable'].includes(cmd)) {
    throw new ToolError(CRM_EX.unavailable, `cluster ${cmd}: the shell does not manage the node service: run \`systemctl ${cmd} paceline\` on the node${words.length > 1 ? `s (${words.slice(1).join(', ')})` : ''}`);
  }
  if (['init', 'join', 'token'].includes(cmd)) {
    // The same commands as `paceline cluster init|join|token` (./cluster.ts); they need no API.
    return runClusterWords(words, { out: (l) => void out.push(l), err: (l) => void out.push(l) });
  }
  if (cmd === 'remove') {
    // crmsh: cluster remove [-c] NODE. The members agree on the smaller nodelist, then the CIB forgets the node.
    const names = words.slice(1).filter((w) => w !== '-c' && w !== '--cluster-node');
    if (names.length !== 1) throw new ToolError(CRM_EX.usage, 'usage: cluster remove [-c] <node>');
    const r = await api.request('cluster.remove-node', { name: names[0]! }, { timeoutMs: 20_000 });
    out.push(`INFO: node ${names[0]!} removed from the nodelist (version ${r.nodelist.version})`);
    if (r.cib.kept !== undefined) out.push(`WARNING: the CIB keeps an entry of ${names[0]!}: ${r.cib.kept}`);
    return CRM_EX.ok;
  }
  if (cmd === 'add') {
    throw new ToolError(CRM_EX.unavailable, 'cluster add: run `cluster token` on a member, then `cluster join -c ADDRESS:PORT --token TOKEN` on the new node');
  }
  if (['rename', 'geo_init', 'geo_join'].includes(cmd)) {
    throw new ToolError(CRM_EX.unavailable, `cluster ${cmd}: not supported (see \`paceline cluster --help\`)`);
  }
  throw new ToolError(CRM_EX.usage, `cluster ${cmd}: unknown command (status, init, join, token, remove)`);
}

/** `maintenance on|off [RSC|NODE]`: the cluster's maintenance-mode, or a resource's or node's maintenance. */
async function maintenanceCommand(api: ApiClient, words: readonly string[], out: string[]): Promise<number> {
  const [cmd, target] = words;
  if ((cmd !== 'on' && cmd !== 'off') || words.length > 2) throw new ToolError(CRM_EX.usage, 'usage: maintenance on|off [<resource>|<node>]');
  const on = cmd === 'on';
  if (target === undefined) {
    await changeNvpair(api, propertyOwner, 'cluster_property_set', 'maintenance-mode', on ? 'true' : 'false');
    out.push(`INFO: maintenance mode ${cmd} for the whole cluster`);
    return CRM_EX.ok;
  }
  const status = await api.request('status', undefined);
  if (status.nodes.some((n) => n.name === target)) {
    await api.request('node.attribute', { node: target, name: 'maintenance', value: on ? 'on' : 'off', lifetime: 'forever' });
    return CRM_EX.ok;
  }
  await setMeta(api, target, 'maintenance', on ? 'true' : 'false');
  return CRM_EX.ok;
}

interface JournalEntry {
  readonly seq: number;
  readonly atMs: number;
  readonly kind: string;
  readonly data: Record<string, unknown>;
}

/** The local node's journal (events.tail), every page of it. */
async function journal(api: ApiClient): Promise<JournalEntry[]> {
  const all: JournalEntry[] = [];
  for (let after = 0; ; ) {
    const page = (await api.request('events.tail', { after, limit: 1000 })) as JournalEntry[];
    if (!Array.isArray(page) || page.length === 0) return all;
    all.push(...page);
    after = page[page.length - 1]!.seq;
    if (page.length < 1000) return all;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/**
 * `history [transitions [N]]`, `history transition ID`, `history log [N]`: what the local node
 * recorded (its journal): the transitions it ran as DC, with their outcome, and the log.
 */
async function historyCommand(api: ApiClient, words: readonly string[], out: string[]): Promise<number> {
  const cmd = words[0] ?? 'transitions';
  if (cmd === 'peinputs' || cmd === 'peinput') return peInputs(words, out);
  const entries = await journal(api);
  if (cmd === 'log') {
    const n = Number(words[1] ?? '50');
    if (!Number.isSafeInteger(n) || n < 1) throw new ToolError(CRM_EX.usage, 'usage: history log [<count>]');
    for (const e of entries.slice(-n)) out.push(`${iso(e.atMs)} ${e.kind} ${JSON.stringify(e.data)}`);
    return CRM_EX.ok;
  }
  if (cmd !== 'transitions' && cmd !== 'transition') throw new ToolError(CRM_EX.usage, `history ${cmd}: unknown command (transitions [<count>], transition <id>, log [<count>], peinputs [<data-dir>], peinput <n> [<data-dir>])`);
  const byId = new Map<number, { start?: JournalEntry; end?: JournalEntry; aborts: string[]; actions: string[] }>();
  const get = (id: number) => {
    let t = byId.get(id);
    if (!t) byId.set(id, (t = { aborts: [], actions: [] }));
    return t;
  };
  for (const e of entries) {
    const id = typeof e.data['transition'] === 'number' ? (e.data['transition'] as number) : undefined;
    if (id === undefined) continue;
    if (e.kind === 'transition-start') get(id).start = e;
    else if (e.kind === 'transition-done') get(id).end = e;
    else if (e.kind === 'transition-abort') get(id).aborts.push(String(e.data['reason'] ?? ''));
    else if (e.kind === 'action-dispatch') get(id).actions.push(`${e.data['action']}${e.data['node'] !== undefined ? ` on ${e.data['node']}` : ''}`);
  }
  const ids = [...byId.keys()].filter((id) => byId.get(id)!.start).sort((a, b) => a - b);
  if (cmd === 'transition') {
    const id = Number(words[1]);
    const t = byId.get(id);
    if (!Number.isSafeInteger(id) || !t?.start) throw new ToolError(CRM_EX.noSuch, `transition ${words[1] ?? '?'} is not in ${(await api.request('status', undefined)).node}'s journal (known: ${ids.slice(-10).join(', ') || 'none'})`);
    out.push(transitionLine(id, t.start, t.end, t.aborts));
    for (const a of t.actions) out.push(`  ${a}`);
    return CRM_EX.ok;
  }
  const n = Number(words[1] ?? '20');
  if (!Number.isSafeInteger(n) || n < 1) throw new ToolError(CRM_EX.usage, 'usage: history transitions [<count>]');
  if (ids.length === 0) out.push(`INFO: no transitions in ${(await api.request('status', undefined)).node}'s journal (transitions are recorded by the DC)`);
  for (const id of ids.slice(-n)) {
    const t = byId.get(id)!;
    out.push(transitionLine(id, t.start!, t.end, t.aborts));
  }
  return CRM_EX.ok;
}

/**
 * `history peinputs [DATA_DIR]`: the scheduler inputs this node saved as DC (its store, as
 * `paceline node pe-inputs` reads it; default: the node's data directory); `history peinput N
 * [DATA_DIR]`: input N replayed as `crm_simulate -x pe-input-N -S` shows it.
 */
function peInputs(words: readonly string[], out: string[]): number {
  const one = words[0] === 'peinput';
  const seq = one ? Number((words[1] ?? '').replace(/^pe-input-/, '')) : undefined;
  if (one && (seq === undefined || !Number.isSafeInteger(seq) || seq < 1)) throw new ToolError(CRM_EX.usage, 'usage: history peinput <n> [<data-dir>]');
  const dataDir = words[one ? 2 : 1] ?? NODE_CONFIG_DEFAULTS.dataDir.value;
  const path = join(dataDir, 'paceline.db');
  if (!existsSync(path)) throw new ToolError(CRM_EX.noInput, `no node data in ${dataDir} (${path} does not exist): name the node's data directory`);
  const store = new Store(path);
  try {
    if (!one) {
      const list = store.listPeInputs();
      if (list.length === 0) out.push(`INFO: no scheduler inputs in ${dataDir} (they are saved by the DC)`);
      for (const p of list) out.push(`pe-input-${p.seq}\t${iso(p.nowSec * 1000)}`);
      return CRM_EX.ok;
    }
    const input = store.peInput(seq!);
    if (!input) throw new ToolError(CRM_EX.noSuch, `pe-input-${seq} is not kept in ${dataDir}`);
    let text = '';
    let code = CRM_EX.ok as number;
    runCrmSimulate({ xmlFile: `pe-input-${seq}`, simulate: true }, { out: (t) => void (text += t), err: (t) => void (text += t), setExitCode: (c) => void (code = c), readFile: () => input.xml, readStdin: () => '', writeFile: () => undefined, nowSec: () => input.nowSec });
    out.push(text.trimEnd());
    return code;
  } finally {
    store.close();
  }
}

function transitionLine(id: number, start: JournalEntry, end: JournalEntry | undefined, aborts: readonly string[]): string {
  const summary = start.data['summary'] !== undefined ? ` ${JSON.stringify(start.data['summary'])}` : '';
  const outcome = end ? `${end.data['aborted'] ? 'aborted' : 'complete'} in ${end.data['ms'] ?? '?'} ms (${end.data['done'] ?? '?'} done, ${end.data['failed'] ?? 0} failed)` : 'in progress';
  return `transition ${id} at ${iso(start.atMs)}: ${start.data['actions'] ?? '?'} actions, ${outcome}${aborts.length ? `; aborted: ${aborts.join('; ')}` : ''}${summary}`;
}

/**
 * `verify` on a live session: the working CIB checked as the cluster would (schema and
 * configuration rules), and the scheduler's configuration errors and warnings on it.
 */
export function verifyText(cibText: string): { ok: boolean; text: string } {
  const root = parseXml(cibText).root;
  const lines: string[] = [];
  let errors = 0;
  for (const d of validateCib(root)) {
    lines.push(`${d.severity === 'error' ? 'ERROR' : 'WARNING'}: ${d.message}`);
    if (d.severity === 'error') errors++;
  }
  if (errors === 0) {
    for (const d of schedule(liveCib(cibText, undefined), { nowSec: nowSec() }).diagnostics) {
      if (d.severity === 'info') continue;
      lines.push(`${d.severity === 'error' ? 'ERROR' : 'WARNING'}: ${d.message}`);
      if (d.severity === 'error') errors++;
    }
  }
  return { ok: errors === 0, text: lines.join('\n') };
}
