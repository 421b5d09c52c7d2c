/**
 * Pacemaker's resource, attribute and node tools, live through the local node's API:
 *
 * - `crm_resource`: --list, --locate, --move, --ban, --clear, --cleanup, --set-parameter,
 *   --get-parameter, --delete-parameter (--meta for meta attributes), --why;
 * - `crm_attribute`: node attributes (-N, -l forever|reboot) and cluster properties (no -N);
 * - `crm_node`: -l, -p, -q, -n, -i;
 * - `crm_standby`: -N NODE -v on|off, -G, -D;
 * - `crm_failcount`: -r RSC -N NODE -G / -D.
 *
 * Reads come from `cib.query` and `status`; changes from the API's methods (resource.*, node.*)
 * or `cib.update` (parameters, cluster properties), based on the CIB version read so a concurrent
 * change is refused (exit 103) instead of overwritten. Unknown resources exit 105 (CRM_EX_NOSUCH).
 */
import type { Command } from 'commander';
import { ApiError, type ApiClient, type StatusResult } from '@paceline/controller';
import { childElements, parseXml, type XmlElement } from '@paceline/cib';
import { explainResource, schedule } from '@paceline/scheduler';
import { fullResourceListText, liveCib } from './crm_mon.js';
import { CRM_EX, ToolError, runTool, withApi, withSocketOption, xmlAttr } from './live.js';

/** The CIB as read, with its version (the base of a change). */
interface CibRead {
  readonly root: XmlElement;
  readonly xml: string;
  readonly version: string;
}

async function readCib(api: ApiClient): Promise<CibRead> {
  const q = await api.request('cib.query', {});
  return { root: parseXml(q.xml).root, xml: q.xml, version: q.version };
}

/** Every element under `el` (depth first, `el` included). */
function* walk(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of childElements(el)) yield* walk(c);
}

const RESOURCE_TAGS = new Set(['primitive', 'group', 'clone', 'master', 'bundle']);

/** The configured resource `id` (primitive, group, clone, bundle); a ToolError 105 when absent. */
function findResource(cib: CibRead, id: string): XmlElement {
  const resources = childElements(childElements(cib.root, 'configuration')[0] ?? cib.root, 'resources')[0];
  for (const el of resources ? walk(resources) : []) if (RESOURCE_TAGS.has(el.name) && el.attrs['id'] === id) return el;
  throw new ToolError(CRM_EX.noSuch, `Resource '${id}' not found`);
}

/** The value of `name` in the first `setTag` set of `owner`, with the nvpair and set it is in. */
function findNvpair(owner: XmlElement, setTag: string, name: string): { set?: XmlElement; pair?: XmlElement } {
  const sets = childElements(owner, setTag);
  for (const set of sets) for (const p of childElements(set, 'nvpair')) if (p.attrs['name'] === name) return { set, pair: p };
  return sets[0] ? { set: sets[0] } : {};
}

const xpathId = (tag: string, id: string): string => `//${tag}[@id='${id.replace(/'/g, '')}']`;

/**
 * Sets `name`=`value` in the first `setTag` set of `owner` (created when missing) through
 * cib.update, based on the version read. Returns the ids it used.
 */
async function setNvpair(api: ApiClient, cib: CibRead, owner: XmlElement, setTag: string, name: string, value: string): Promise<{ pairId: string; setId: string }> {
  const ownerId = owner.attrs['id'] ?? '';
  const found = findNvpair(owner, setTag, name);
  const base = { baseVersion: cib.version };
  if (found.pair) {
    const pairId = found.pair.attrs['id']!;
    await api.request('cib.update', { ...base, op: 'modify', xpath: xpathId('nvpair', pairId), xml: `<nvpair id="${xmlAttr(pairId)}" name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>` });
    return { pairId, setId: found.set!.attrs['id'] ?? '' };
  }
  if (found.set) {
    const setId = found.set.attrs['id'] ?? '';
    const pairId = `${setId}-${name}`;
    await api.request('cib.update', { ...base, op: 'create', xpath: xpathId(setTag, setId), xml: `<nvpair id="${xmlAttr(pairId)}" name="${xmlAttr(name)}" value="${xmlAttr(value)}"/>` });
    return { pairId, setId };
  }
  const setId = `${ownerId}-${setTag}`;
  const pairId = `${setId}-${name}`;
  await api.request('cib.update', {
    ...base,
    op: 'create',
    xpath: xpathId(owner.name, ownerId),
    xml: `<${setTag} id="${xmlAttr(setId)}"><nvpair id="${xmlAttr(pairId)}" name="${xmlAttr(name)}" value="${xmlAttr(value)}"/></${setTag}>`,
  });
  return { pairId, setId };
}

async function deleteNvpair(api: ApiClient, cib: CibRead, owner: XmlElement, setTag: string, name: string, what: string): Promise<void> {
  const found = findNvpair(owner, setTag, name);
  if (!found.pair) throw new ToolError(CRM_EX.noSuch, `${what} '${name}' not found`);
  await api.request('cib.update', { baseVersion: cib.version, op: 'delete', xpath: xpathId('nvpair', found.pair.attrs['id']!) });
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new ToolError(CRM_EX.usage, `${what} is required`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// crm_resource

interface CrmResourceFlags {
  list?: boolean;
  locate?: boolean;
  move?: boolean;
  ban?: boolean;
  clear?: boolean;
  cleanup?: boolean;
  why?: boolean;
  setParameter?: string;
  getParameter?: string;
  deleteParameter?: string;
  resource?: string;
  node?: string;
  lifetime?: string;
  parameterValue?: string;
  meta?: boolean;
  quiet?: boolean;
  socket?: string;
}

const RESOURCE_COMMANDS = ['list', 'locate', 'move', 'ban', 'clear', 'cleanup', 'why', 'setParameter', 'getParameter', 'deleteParameter'] as const;

function resourceCommand(f: CrmResourceFlags): (typeof RESOURCE_COMMANDS)[number] {
  const given = RESOURCE_COMMANDS.filter((c) => f[c] !== undefined && f[c] !== false);
  if (given.length === 0) throw new ToolError(CRM_EX.usage, 'no command given (--list, --locate, --move, --ban, --clear, --cleanup, --why, --set-parameter, --get-parameter, --delete-parameter)');
  if (given.length > 1) throw new ToolError(CRM_EX.usage, `only one command at a time (got ${given.join(', ')})`);
  return given[0]!;
}

async function crmResource(api: ApiClient, f: CrmResourceFlags): Promise<number> {
  const cmd = resourceCommand(f);
  const out = (s: string): void => void process.stdout.write(s);
  if (cmd === 'list') {
    const cib = await readCib(api);
    out(fullResourceListText({ cibXml: cib.xml, nowSec: Math.floor(Date.now() / 1000) }));
    return CRM_EX.ok;
  }
  if (cmd === 'cleanup') {
    const cib = await readCib(api);
    if (f.resource !== undefined) findResource(cib, f.resource);
    await api.request('resource.cleanup', { ...(f.resource !== undefined ? { rsc: f.resource } : {}), ...(f.node !== undefined ? { node: f.node } : {}) });
    out(`Cleaned up ${f.resource ?? 'all resources'} on ${f.node ?? 'all nodes'}\n`);
    return CRM_EX.ok;
  }
  const rsc = need(f.resource, '--resource (-r)');
  const cib = await readCib(api);
  const el = findResource(cib, rsc);
  switch (cmd) {
    case 'locate': {
      const status = await api.request('status', undefined);
      const nodes = status.resources.filter((r) => r.id === rsc || r.id.replace(/:\d+$/, '') === rsc).flatMap((r) => r.nodes);
      if (nodes.length === 0) process.stderr.write(`resource ${rsc} is NOT running\n`);
      for (const n of [...new Set(nodes)]) out(f.quiet ? `${n}\n` : `resource ${rsc} is running on: ${n}\n`);
      return CRM_EX.ok;
    }
    case 'move':
      await api.request('resource.move', { rsc, ...(f.node !== undefined ? { node: f.node } : {}), ...(f.lifetime !== undefined ? { lifetime: f.lifetime } : {}) });
      if (f.lifetime === undefined) {
        process.stderr.write(`WARNING: Creating rsc_location constraint 'cli-prefer-${rsc}' with a score of INFINITY for resource ${rsc} on ${f.node ?? '?'}.\n\tThis will prevent ${rsc} from running anywhere else until the constraint is removed using the clear option or by editing the CIB with an appropriate tool\n`);
      }
      return CRM_EX.ok;
    case 'ban':
      await api.request('resource.ban', { rsc, ...(f.node !== undefined ? { node: f.node } : {}), ...(f.lifetime !== undefined ? { lifetime: f.lifetime } : {}) });
      return CRM_EX.ok;
    case 'clear':
      await api.request('resource.clear', { rsc });
      return CRM_EX.ok;
    case 'why': {
      const model = liveCib(cib.xml, await api.request('status', undefined));
      const lines = explainResource(schedule(model, { nowSec: Math.floor(Date.now() / 1000) }), rsc, model);
      if (lines === undefined) throw new ToolError(CRM_EX.noSuch, `Resource '${rsc}' not found`);
      out(`${lines.join('\n')}\n`);
      return CRM_EX.ok;
    }
    case 'getParameter': {
      const name = f.getParameter!;
      const setTag = f.meta ? 'meta_attributes' : 'instance_attributes';
      const found = findNvpair(el, setTag, name);
      if (!found.pair) throw new ToolError(CRM_EX.noSuch, `Attribute '${name}' not found for '${rsc}'`);
      out(`${found.pair.attrs['value'] ?? ''}\n`);
      return CRM_EX.ok;
    }
    case 'setParameter': {
      const name = f.setParameter!;
      const value = need(f.parameterValue, '--parameter-value (-v)');
      const setTag = f.meta ? 'meta_attributes' : 'instance_attributes';
      if (!f.meta && el.name !== 'primitive') throw new ToolError(CRM_EX.invalidParam, `${rsc} is a ${el.name}: only primitives have instance attributes (use --meta)`);
      const ids = await setNvpair(api, cib, el, setTag, name, value);
      out(`Set '${rsc}' option: id=${ids.pairId} set=${ids.setId} name=${name} value=${value}\n`);
      return CRM_EX.ok;
    }
    case 'deleteParameter': {
      const name = f.deleteParameter!;
      await deleteNvpair(api, cib, el, f.meta ? 'meta_attributes' : 'instance_attributes', name, 'Attribute');
      out(`Deleted '${rsc}' option: name=${name}\n`);
      return CRM_EX.ok;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Node attributes

type Lifetime = 'forever' | 'reboot';

function lifetimeOf(text: string | undefined): Lifetime {
  switch (text ?? 'forever') {
    case 'forever':
    case 'permanent':
    case 'nodes':
      return 'forever';
    case 'reboot':
    case 'status':
      return 'reboot';
    default:
      throw new ToolError(CRM_EX.usage, `--lifetime ${JSON.stringify(text)}: expected forever or reboot`);
  }
}

/** The node's id in the CIB (node_state / node element) from the status. */
function nodeIdOf(status: StatusResult, node: string): string {
  const n = status.nodes.find((x) => x.name === node);
  if (!n) throw new ToolError(CRM_EX.noSuch, `Could not map name=${node} to a UUID (no such node; known: ${status.nodes.map((x) => x.name).join(', ')})`);
  return String(n.id);
}

/** A node attribute's value: permanent (configuration nodes) or transient (status). */
function nodeAttribute(cib: CibRead, nodeName: string, nodeId: string, name: string, lifetime: Lifetime): string | undefined {
  for (const el of walk(cib.root)) {
    if (lifetime === 'forever' && el.name === 'node' && (el.attrs['uname'] === nodeName || el.attrs['id'] === nodeId)) {
      return findNvpair(el, 'instance_attributes', name).pair?.attrs['value'];
    }
    if (lifetime === 'reboot' && el.name === 'node_state' && (el.attrs['uname'] === nodeName || el.attrs['id'] === nodeId)) {
      const ta = childElements(el, 'transient_attributes')[0];
      return ta ? findNvpair(ta, 'instance_attributes', name).pair?.attrs['value'] : undefined;
    }
  }
  return undefined;
}

/** Prints a query result as crm_attribute does; 105 when absent. */
function printAttribute(scope: string, name: string, value: string | undefined, quiet: boolean): number {
  if (value === undefined) {
    if (!quiet) process.stdout.write(`scope=${scope}  name=${name} value=(null)\n`);
    process.stderr.write(`Error performing operation: No such device or address\n`);
    return CRM_EX.noSuch;
  }
  process.stdout.write(quiet ? `${value}\n` : `scope=${scope}  name=${name} value=${value}\n`);
  return CRM_EX.ok;
}

interface AttrFlags {
  name?: string;
  update?: string;
  query?: boolean;
  delete?: boolean;
  node?: string;
  lifetime?: string;
  type?: string;
  quiet?: boolean;
  socket?: string;
}

/** One action of crm_attribute / crm_standby on a node attribute. */
async function nodeAttributeAction(api: ApiClient, node: string, name: string, action: 'get' | 'set' | 'delete', value: string | undefined, lifetime: Lifetime, quiet: boolean): Promise<number> {
  const status = await api.request('status', undefined);
  const nodeId = nodeIdOf(status, node);
  const scope = lifetime === 'forever' ? 'nodes' : 'status';
  if (action === 'get') return printAttribute(scope, name, nodeAttribute(await readCib(api), node, nodeId, name, lifetime), quiet);
  await api.request('node.attribute', { node, name, lifetime, ...(action === 'set' ? { value: value! } : {}) });
  return CRM_EX.ok;
}

async function crmAttribute(api: ApiClient, f: AttrFlags): Promise<number> {
  const name = need(f.name, '--name (-n)');
  const action = f.delete ? 'delete' : f.update !== undefined ? 'set' : 'get';
  if ([f.delete === true, f.update !== undefined, f.query === true].filter(Boolean).length > 1) throw new ToolError(CRM_EX.usage, 'give one of -v, -G, -D');
  if (f.type !== undefined && !['crm_config', 'nodes', 'status'].includes(f.type)) throw new ToolError(CRM_EX.usage, `--type ${JSON.stringify(f.type)}: expected crm_config, nodes or status`);
  if (f.type !== undefined && f.lifetime !== undefined) throw new ToolError(CRM_EX.usage, 'give --type or --lifetime, not both');
  if (f.type === 'crm_config' && f.node !== undefined) throw new ToolError(CRM_EX.usage, '--type crm_config takes no --node');
  if ((f.type === 'nodes' || f.type === 'status') && f.node === undefined) throw new ToolError(CRM_EX.usage, `--type ${f.type} needs --node (-N)`);
  if (f.node !== undefined) return nodeAttributeAction(api, f.node, name, action, f.update, lifetimeOf(f.lifetime ?? f.type), f.quiet === true);
  // Cluster properties: the crm_config sets.
  const cib = await readCib(api);
  const config = childElements(cib.root, 'configuration')[0];
  const crmConfig = config ? childElements(config, 'crm_config')[0] : undefined;
  if (!crmConfig) throw new ToolError(CRM_EX.config, 'the CIB has no crm_config section');
  if (action === 'get') return printAttribute('crm_config', name, findNvpair(crmConfig, 'cluster_property_set', name).pair?.attrs['value'], f.quiet === true);
  if (action === 'delete') {
    await deleteNvpair(api, cib, crmConfig, 'cluster_property_set', name, 'Cluster property');
    return CRM_EX.ok;
  }
  const found = findNvpair(crmConfig, 'cluster_property_set', name);
  if (!found.set) {
    await api.request('cib.update', {
      baseVersion: cib.version,
      op: 'create',
      scope: 'crm_config',
      xml: `<cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-${xmlAttr(name)}" name="${xmlAttr(name)}" value="${xmlAttr(f.update!)}"/></cluster_property_set>`,
    });
    return CRM_EX.ok;
  }
  // crm_config has no id: setNvpair addresses the set by its id.
  await setNvpair(api, cib, crmConfig, 'cluster_property_set', name, f.update!);
  return CRM_EX.ok;
}

// ---------------------------------------------------------------------------------------------
// crm_node, crm_standby, crm_failcount

interface NodeFlags {
  list?: boolean;
  partition?: boolean;
  quorum?: boolean;
  name?: boolean;
  cluster_id?: boolean;
  remove?: string;
  socket?: string;
}

async function crmNode(api: ApiClient, f: NodeFlags): Promise<number> {
  if (f.remove !== undefined) {
    // Pacemaker's crm_node -R forgets a node the cluster stack no longer lists; here the stack's
    // nodelist is changed too (agreed by the members), then the CIB entries go.
    const r = await api.request('cluster.remove-node', { name: f.remove }, { timeoutMs: 20_000 });
    if (r.cib.kept !== undefined) process.stderr.write(`crm_node: the CIB keeps an entry of ${f.remove}: ${r.cib.kept}\n`);
    return CRM_EX.ok;
  }
  const s = await api.request('status', undefined);
  const out = (t: string): void => void process.stdout.write(`${t}\n`);
  if (f.list) for (const n of s.nodes) out(`${n.id} ${n.name} ${n.online ? 'member' : 'lost'}`);
  else if (f.partition) out(s.nodes.filter((n) => n.online).map((n) => n.name).join(' '));
  else if (f.quorum) {
    out(s.quorate ? '1' : '0');
    return s.quorate ? CRM_EX.ok : CRM_EX.quorum;
  } else if (f.name) out(s.node);
  else if (f.cluster_id) out(nodeIdOf(s, s.node));
  else throw new ToolError(CRM_EX.usage, 'give one of -l, -p, -q, -n, -i, -R');
  return CRM_EX.ok;
}

interface StandbyFlags {
  node?: string;
  update?: string;
  query?: boolean;
  delete?: boolean;
  lifetime?: string;
  quiet?: boolean;
  socket?: string;
}

async function crmStandby(api: ApiClient, f: StandbyFlags): Promise<number> {
  const node = f.node ?? (await api.request('status', undefined)).node;
  const lifetime = lifetimeOf(f.lifetime);
  if (f.update !== undefined) {
    const v = f.update.toLowerCase();
    const on = ['on', 'true', 'yes', '1'].includes(v);
    if (!on && !['off', 'false', 'no', '0'].includes(v)) throw new ToolError(CRM_EX.usage, `-v ${f.update}: expected on or off`);
    if (lifetime === 'forever') await api.request('node.standby', { node, on });
    else await api.request('node.attribute', { node, name: 'standby', value: on ? 'on' : 'off', lifetime });
    return CRM_EX.ok;
  }
  return nodeAttributeAction(api, node, 'standby', f.delete ? 'delete' : 'get', undefined, lifetime, f.quiet === true);
}

interface FailcountFlags {
  resource?: string;
  node?: string;
  query?: boolean;
  delete?: boolean;
  quiet?: boolean;
  socket?: string;
}

async function crmFailcount(api: ApiClient, f: FailcountFlags): Promise<number> {
  const rsc = need(f.resource, '--resource (-r)');
  const cib = await readCib(api);
  findResource(cib, rsc);
  const status = await api.request('status', undefined);
  const node = f.node ?? status.node;
  const nodeId = nodeIdOf(status, node);
  if (f.delete) {
    await api.request('resource.cleanup', { rsc, node });
    return CRM_EX.ok;
  }
  let total = 0;
  for (const el of walk(cib.root)) {
    if (el.name !== 'node_state' || !(el.attrs['uname'] === node || el.attrs['id'] === nodeId)) continue;
    for (const set of childElements(childElements(el, 'transient_attributes')[0] ?? el, 'instance_attributes')) {
      for (const p of childElements(set, 'nvpair')) {
        const n = p.attrs['name'] ?? '';
        if (n !== `fail-count-${rsc}` && !n.startsWith(`fail-count-${rsc}#`)) continue;
        const v = p.attrs['value'] ?? '0';
        total += /^\+?INFINITY$/i.test(v) ? 1_000_000 : Number.parseInt(v, 10) || 0;
      }
    }
  }
  const text = total >= 1_000_000 ? 'INFINITY' : String(total);
  process.stdout.write(f.quiet ? `${text}\n` : `scope=status  name=fail-count-${rsc} value=${text}\n`);
  return CRM_EX.ok;
}

// ---------------------------------------------------------------------------------------------
// Registration

/** Runs `body` against the API of `--socket`, reporting errors as `tool: message` with the tool's exit code. */
function live<F extends { socket?: string }>(tool: string, body: (api: ApiClient, f: F) => Promise<number>): (f: F) => Promise<void> {
  return (f: F) =>
    runTool(tool, () =>
      withApi(f.socket, async (api) => {
        try {
          return await body(api, f);
        } catch (e) {
          if (e instanceof ApiError && e.code === 'conflict') throw new ToolError(CRM_EX.old, `the CIB changed while the change was prepared; run the command again (${e.message})`);
          throw e;
        }
      }),
    );
}

/** Registers crm_resource, crm_attribute, crm_node, crm_standby and crm_failcount. */
export function registerCrmTools(program: Command): void {
  withSocketOption(
    program
      .command('crm_resource')
      .description('resources of the running cluster, as crm_resource')
      .option('-L, --list', 'list the resources')
      .option('-W, --locate', 'where the resource (-r) runs')
      .option('-M, --move', 'move the resource (-r) to the node (-N): a cli-prefer constraint')
      .option('-B, --ban', 'keep the resource (-r) off the node (-N, default: where it runs)')
      .option('-U, --clear', 'remove the cli-prefer / cli-ban constraints of the resource (-r)')
      .option('-C, --cleanup', 'forget failures and history (of -r, on -N)')
      .option('-Y, --why', 'why the resource (-r) is where it is, or stopped')
      .option('-p, --set-parameter <NAME>', 'set a parameter of the resource (-r) to -v')
      .option('-g, --get-parameter <NAME>', 'print a parameter of the resource (-r)')
      .option('-d, --delete-parameter <NAME>', 'delete a parameter of the resource (-r)')
      .option('-r, --resource <RSC>', 'the resource')
      .option('-N, --node <NODE>', 'the node')
      .option('-u, --lifetime <DURATION>', 'how long a move or ban lasts (ISO 8601, e.g. PT10M)')
      .option('-v, --parameter-value <VALUE>', 'the value for --set-parameter')
      .option('-m, --meta', 'meta attributes instead of instance attributes')
      .option('-Q, --quiet', 'print only the essential'),
  ).action(live('crm_resource', crmResource));

  withSocketOption(
    program
      .command('crm_attribute')
      .description('node attributes (-N) and cluster properties, as crm_attribute')
      .option('-n, --name <NAME>', 'the attribute')
      .option('-v, --update <VALUE>', 'set it')
      .option('-G, --query', 'print it (the default)')
      .option('-D, --delete', 'delete it')
      .option('-N, --node <NODE>', 'a node attribute of NODE (without: a cluster property)')
      .option('-l, --lifetime <LIFETIME>', 'forever or reboot (node attributes)')
      .option('-t, --type <TYPE>', 'crm_config (cluster property), nodes (= -l forever) or status (= -l reboot)')
      .option('-q, --quiet', 'print only the value'),
  ).action(live('crm_attribute', crmAttribute));

  withSocketOption(
    program
      .command('crm_node')
      .description('the cluster nodes, as crm_node')
      .option('-l, --list', 'every node: id, name, state')
      .option('-p, --partition', 'the names of the nodes in this partition')
      .option('-q, --quorum', '1 if this partition has quorum, else 0')
      .option('-n, --name', 'the local node name')
      .option('-i, --cluster-id', 'the local node id')
      .option('-R, --remove <NAME>', 'remove a stopped node from the nodelist and the CIB'),
  ).action(live('crm_node', (api, f: NodeFlags & { clusterId?: boolean }) => crmNode(api, { ...f, ...(f.clusterId ? { cluster_id: true } : {}) })));

  withSocketOption(
    program
      .command('crm_standby')
      .description('standby of a node (default: the local one), as crm_standby')
      .option('-N, --node <NODE>', 'the node')
      .option('-v, --update <on|off>', 'put it in or out of standby')
      .option('-G, --query', 'print the standby state (the default)')
      .option('-D, --delete', 'delete the standby attribute')
      .option('-l, --lifetime <LIFETIME>', 'forever or reboot')
      .option('-q, --quiet', 'print only the value'),
  ).action(live('crm_standby', crmStandby));

  withSocketOption(
    program
      .command('crm_failcount')
      .description('fail counts of a resource on a node (default: the local one), as crm_failcount')
      .option('-r, --resource <RSC>', 'the resource')
      .option('-N, --node <NODE>', 'the node')
      .option('-G, --query', 'print the fail count (the default)')
      .option('-D, --delete', 'reset it (a cleanup of the resource on the node)')
      .option('-q, --quiet', 'print only the value'),
  ).action(live('crm_failcount', crmFailcount));
}
