/**
 * `paceline stonith_admin`: fencing devices, fencing and its history, as stonith_admin 2.1.5
 * does, through the local node's API (`fence.devices`, `fence.request`, `fence.history`):
 *
 *   -L  the configured devices                  -l HOST  the devices that can fence HOST
 *   -F HOST  fence (off)   -B HOST  reboot      -U HOST  unfence (on)
 *   -H HOST  the fencing history of HOST ('*': every node; with -c/--cleanup: forgotten on every
 *            node, fence.cleanup): the latest success (-V: every
 *            operation, -q: the latest's epoch), then "N events found"
 *   -C HOST  HOST, verified down by the administrator, is marked down as a fencing leaves it
 *            (its node_state down, no operation history): refused (107) for a cluster member
 *   -r TARGET -i N -v DEV [-v DEV...]  register fencing level N of TARGET (NAME, @PATTERN or
 *            ATTR=VALUE); -d TARGET -i N  remove it (-i 0: every level of TARGET)
 *   -I  the installed fence agents (local)      -M -a AGENT  an agent's metadata (local)
 *   --output-as=text|xml
 *
 * Fencing levels: Pacemaker's stonith_admin changes only the running fencer's topology table
 * (until the fencer next reads the CIB); paceline's fencing reads its levels from the CIB, so -r
 * and -d write `fencing-level` elements into the CIB's `fencing-topology` (live through
 * `cib.update`, based on the version read; offline on $CIB_file or the $CIB_shadow copy), where
 * they persist. Like stonith_admin, they print nothing.
 *
 * Exit codes are stonith_admin's: 0; 64 usage; 102 no connection; 105 no such node or no device
 * that can fence it; 1 when the device failed; 2 (CRM_EX_INVALID_PARAM) a level outside 1-9 or
 * one without devices; 103 the CIB changed between the read and the write.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiError, type ApiClient, type FenceHistoryEntry } from '@paceline/controller';
import { childElements, cibadmin, firstChild, parseXml, writeElement, type XmlElement } from '@paceline/cib';
import { AgentCatalog, FsAgentLocator, defaultAgentPaths } from '@paceline/executor';
import { CRM_EX, ToolError, offlineCibFile, replaceFile, runTool, withApi, withSocketOption, xmlAttr } from './live.js';

interface StonithFlags {
  list?: string;
  listRegistered?: boolean;
  listInstalled?: boolean;
  metadata?: boolean;
  agent?: string;
  fence?: string;
  reboot?: string;
  unfence?: string;
  history?: string;
  cleanup?: boolean;
  confirm?: string;
  registerLevel?: string;
  deregisterLevel?: string;
  index?: string;
  device?: string[];
  verbose: number;
  quiet?: boolean;
  outputAs: string;
  socket?: string;
}

/** What one run prints: text lines, or the XML body inside pacemaker-result. */
interface Printed {
  readonly text: string[];
  readonly xml: string[];
}

/** A list as stonith_admin prints it: one line each, then "N fence devices found" (text), or <list>. */
function deviceList(title: string, names: readonly string[]): Printed {
  const n = names.length;
  return {
    text: [...names, `${n} fence device${n === 1 ? '' : 's'} found`],
    xml: [`  <list name="${xmlAttr(title)}" count="${n}">`, ...names.map((x) => `    <item name="device">${xmlAttr(x)}</item>`), '  </list>'],
  };
}

function installedAgents(): Printed {
  return deviceList('installed fence devices', new AgentCatalog(defaultAgentPaths()).agents('stonith').map((a) => a.type));
}

function agentMetadata(agent: string): string {
  const type = agent.replace(/^stonith:/, '');
  const where = new FsAgentLocator(defaultAgentPaths()).locate({ agentClass: 'stonith', type });
  if (!where) throw new ToolError(CRM_EX.noSuch, `Agent ${agent} not found or does not support meta-data: No such device`);
  const r = spawnSync(where.path, ['-o', 'metadata'], { encoding: 'utf8', timeout: 20_000, input: 'action=metadata\n' });
  if (r.status !== 0 || !r.stdout.trim()) throw new ToolError(CRM_EX.error, `Agent ${agent} failed to give its meta-data (exit ${r.status ?? 'signal'})`);
  try {
    // Pacemaker prints the metadata as libxml2 writes it back: no declaration, two-space indents.
    return writeElement(parseXml(r.stdout).root).trimEnd();
  } catch (e) {
    throw new ToolError(CRM_EX.error, `Agent ${agent} gave meta-data that is not XML: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** "2026-11-22 01:02:03.000000 +01:00": local time with microseconds and the zone, as Pacemaker's history shows it. */
export function historyTime(epochSec: number): string {
  const whole = Math.floor(epochSec);
  const d = new Date(whole * 1000);
  const p = (x: number, n = 2): string => String(x).padStart(n, '0');
  const off = -d.getTimezoneOffset();
  const zone = `${off < 0 ? '-' : '+'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  const usec = Math.round((epochSec - whole) * 1e6);
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(usec, 6)} ${zone}`;
}

/** Pacemaker's words for a fencing action in its history. */
const ACTION_WORD: Readonly<Record<string, string>> = { off: 'turning off', on: 'unfencing' };

/**
 * One history entry as stonith_admin 2.1.5 describes it (stonith__history_description with the
 * technical detail): `full` (--verbose) says "completed", else "last-successful"/"last-failed".
 */
export function historyLine(h: FenceHistoryEntry, full: boolean, laterSucceeded?: string): string {
  const client = h.manual ? 'stonith_admin' : 'pacemaker-controld';
  const when = full ? 'completed' : h.ok ? 'last-successful' : 'last-failed';
  const reason = !h.ok && h.reason ? ` (${h.reason})` : '';
  const later = !h.ok && laterSucceeded !== undefined ? ` (a later attempt from ${laterSucceeded} succeeded)` : '';
  return `${ACTION_WORD[h.action] ?? h.action} of ${h.target} ${h.ok ? 'successful' : 'failed'}${reason}: delegate=${h.by}, client=${client}, origin=${h.by}, ${when}='${historyTime(h.wallSec)}'${later}`;
}

/**
 * The history as stonith_admin --history prints it: the latest successful operation (--verbose:
 * every one, newest first), then "N event(s) found"; --quiet: only the latest one's epoch.
 */
export function historyOut(history: readonly FenceHistoryEntry[], verbose: boolean, quiet: boolean): Printed {
  const entries = [...history].sort((a, b) => b.wallSec - a.wallSec);
  const latest = entries.find((h) => h.ok);
  if (quiet) return { text: latest ? [String(Math.floor(latest.wallSec))] : [], xml: [] };
  const shown = verbose ? entries : latest ? [latest] : [];
  const later = (h: FenceHistoryEntry): string | undefined => entries.find((x) => x.ok && x.target === h.target && x.action === h.action && x.wallSec > h.wallSec)?.by;
  const text = shown.map((h) => historyLine(h, verbose, later(h)));
  const n = shown.length;
  const xml = ['  <fence_history>', ...shown.map((h) => `    <fence_event action="${xmlAttr(h.action)}" target="${xmlAttr(h.target)}" client="stonith_admin" origin="${xmlAttr(h.by)}" status="${h.ok ? 'success' : 'failed'}" delegate="${xmlAttr(h.by)}" completed="${xmlAttr(historyTime(h.wallSec))}"/>`), '  </fence_history>'];
  return { text: [...text, `${n} event${n === 1 ? '' : 's'} found`], xml };
}

// ---- fencing levels (-r / -d) ----

/** What -r / -d change: the level `index` of a target (NAME, @PATTERN or ATTR=VALUE); devices for -r. */
export interface LevelChange {
  readonly target: string;
  readonly index: number;
  /** -r: the devices of the level, in order; undefined: -d. */
  readonly devices?: readonly string[];
}

/** The attributes that name a level's target in the CIB, as stonith_admin reads TARGET. */
export function levelTargetAttrs(target: string): Record<string, string> {
  const eq = target.indexOf('=');
  if (eq >= 0) return { 'target-attribute': target.slice(0, eq), 'target-value': target.slice(eq + 1) };
  if (target.startsWith('@')) return { 'target-pattern': target.slice(1) };
  return { target };
}

const sameTarget = (el: XmlElement, want: Record<string, string>): boolean =>
  ['target', 'target-pattern', 'target-attribute', 'target-value'].every((k) => el.attrs[k] === want[k]);

function allIds(el: XmlElement, into: Set<string>): Set<string> {
  if (el.attrs['id']) into.add(el.attrs['id']);
  for (const c of childElements(el)) allIds(c, into);
  return into;
}

/**
 * The CIB's fencing-topology after registering (devices given) or removing a level, as the
 * fencer's topology table changes (fenced_register_level / fenced_unregister_level): a level
 * already there gets the new devices; removing index 0 removes every level of the target;
 * removing a level that is not there changes nothing. Throws a ToolError (2, CRM_EX_INVALID_PARAM)
 * for a level outside 1-9 (0-9 to remove) or a registration without devices.
 */
export function topologyWith(cib: XmlElement, change: LevelChange): { topology: XmlElement; existed: boolean } {
  const register = change.devices !== undefined;
  if (!Number.isInteger(change.index) || change.index < (register ? 1 : 0) || change.index > 9) {
    throw new ToolError(CRM_EX.invalidParam, `Invalid level number '${change.index}' for topology level ${change.target} (levels are 1-9${register ? '' : ', or 0 for all'})`);
  }
  if (register && change.devices!.length === 0) throw new ToolError(CRM_EX.invalidParam, `Level ${change.index} of ${change.target} needs at least one device (-v DEVICE)`);
  const configuration = firstChild(cib, 'configuration');
  if (!configuration) throw new ToolError(CRM_EX.dataErr, 'the CIB has no configuration section');
  const old = firstChild(configuration, 'fencing-topology');
  const want = levelTargetAttrs(change.target);
  const levels = old ? childElements(old, 'fencing-level') : [];
  const isIt = (l: XmlElement): boolean => sameTarget(l, want) && (change.index === 0 || l.attrs['index'] === String(change.index));
  let kept: XmlElement[];
  if (!register) kept = levels.filter((l) => !isIt(l));
  else {
    const devices = change.devices!.join(',');
    const found = levels.find(isIt);
    if (found) kept = levels.map((l) => (l === found ? { ...l, attrs: { ...l.attrs, devices } } : l));
    else {
      const ids = allIds(cib, new Set());
      const base = `fl-${change.target.replace(/^@/, '').replace(/[^A-Za-z0-9_.-]/g, '_')}-${change.index}`;
      let id = base;
      for (let i = 1; ids.has(id); i++) id = `${base}-${i}`;
      kept = [...levels, { kind: 'element', name: 'fencing-level', attrs: { id, ...want, index: String(change.index), devices }, children: [] }];
    }
  }
  const others = old ? old.children.filter((c) => !(c.kind === 'element' && c.name === 'fencing-level')) : [];
  return { topology: { kind: 'element', name: 'fencing-topology', attrs: old?.attrs ?? {}, children: [...others, ...kept] }, existed: old !== undefined };
}

/**
 * The node_state of `node` as a fencing confirmation leaves it (stonith_admin --confirm, or a
 * fencing that succeeded): down (in_ccm false, crmd offline, join down, expected down), without
 * its operation history and transient attributes; undefined when the CIB has no state for it.
 */
export function confirmedDownState(cib: XmlElement, node: string): { xpath: string; xml: string } | undefined {
  const status = firstChild(cib, 'status');
  const ns = status ? childElements(status, 'node_state').find((n) => n.attrs['uname'] === node) : undefined;
  if (!ns) return undefined;
  const attrs = { ...ns.attrs, in_ccm: 'false', crmd: 'offline', join: 'down', expected: 'down' };
  return { xpath: `/cib/status/node_state[@uname='${node.replace(/'/g, '')}']`, xml: writeElement({ kind: 'element', name: 'node_state', attrs, children: [] }, { indentSpaces: 0 }) };
}

/** -C: the node, verified down by the administrator, is marked down as a fencing would (refused for a member). */
async function confirmLive(api: ApiClient, node: string): Promise<void> {
  const status = await api.request('status', undefined);
  const n = status.nodes.find((x) => x.name === node);
  if (!n) throw new ToolError(CRM_EX.noSuch, `no node named ${node}`);
  if (n.online) throw new ToolError(CRM_EX.unsafe, `${node} is a member of the cluster: only a node verified down can be confirmed fenced`);
  for (let attempt = 0; ; attempt++) {
    const q = await api.request('cib.query', {});
    const down = confirmedDownState(parseXml(q.xml).root, node);
    if (!down) return;
    try {
      await api.request('cib.update', { baseVersion: q.version, op: 'replace', xpath: down.xpath, xml: down.xml });
      return;
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'conflict') || attempt >= 4) throw e;
    }
  }
}

/** -r / -d on the live CIB: one update of the fencing-topology, based on the version read. */
async function changeLevelLive(api: ApiClient, change: LevelChange): Promise<void> {
  const q = await api.request('cib.query', {});
  const { topology, existed } = topologyWith(parseXml(q.xml).root, change);
  const xml = writeElement(topology, { indentSpaces: 0 });
  await api.request('cib.update', existed ? { baseVersion: q.version, op: 'replace', xpath: '/cib/configuration/fencing-topology', xml } : { baseVersion: q.version, op: 'create', scope: 'configuration', xml });
}

/** -r / -d on $CIB_file (or the $CIB_shadow copy): the file replaced atomically. */
function changeLevelOffline(file: string, change: LevelChange): void {
  let cib: XmlElement;
  try {
    cib = parseXml(readFileSync(file, 'utf8')).root;
  } catch (e) {
    throw new ToolError(CRM_EX.noInput, `cannot read the CIB file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { topology, existed } = topologyWith(cib, change);
  // The pure cibadmin: the same change as live, with the version bumped as the CIB manager does.
  const r = cibadmin(cib, existed ? { op: 'replace', xpath: '/cib/configuration/fencing-topology', xml: topology } : { op: 'create', scope: 'configuration', xml: topology });
  if (!r.ok) throw new ToolError(r.error.exitCode, `Call failed: ${r.error.message}`);
  replaceFile(file, `${writeElement(r.value.cib)}\n`);
}

async function live(api: ApiClient, f: StonithFlags, cmd: string): Promise<Printed> {
  switch (cmd) {
    case 'listRegistered': {
      const { devices } = await api.request('fence.devices', {});
      return deviceList('fence devices', devices.map((d) => d.id));
    }
    case 'list': {
      const { devices } = await api.request('fence.devices', { target: f.list! });
      return deviceList(`fence devices for target ${f.list!}`, devices.map((d) => d.id));
    }
    case 'history': {
      const target = f.history!;
      if (f.cleanup) {
        // As stonith_admin: the history of target (or of every node) is forgotten cluster-wide.
        await api.request('fence.cleanup', target === '*' ? {} : { target });
        const line = `cleaning up fencing-history${target === '*' ? '' : ` for node ${target}`}`;
        return { text: f.quiet ? [] : [line], xml: [] };
      }
      const { history } = await api.request('fence.history', target === '*' ? {} : { target });
      return historyOut(history, f.verbose > 0, f.quiet === true);
    }
    default: {
      const action = cmd === 'fence' ? 'off' : cmd === 'reboot' ? 'reboot' : 'on';
      const target = (f[cmd as 'fence' | 'reboot' | 'unfence'])!;
      await api.request('fence.request', { target, action });
      return { text: [`Node ${target} ${action === 'on' ? 'unfenced' : 'fenced'}${action === 'reboot' ? ' (reboot)' : ''}: OK`], xml: [] };
    }
  }
}

async function stonithAdmin(f: StonithFlags, argv: readonly string[]): Promise<number> {
  if (f.outputAs !== 'text' && f.outputAs !== 'xml') throw new ToolError(CRM_EX.error, `Error creating output format ${f.outputAs}: Unknown output format`);
  const cmds = (['listRegistered', 'list', 'listInstalled', 'metadata', 'fence', 'reboot', 'unfence', 'history', 'confirm', 'registerLevel', 'deregisterLevel'] as const).filter((c) => f[c] !== undefined && f[c] !== false);
  if (cmds.length === 0) throw new ToolError(CRM_EX.usage, 'Please specify a valid command (see --help)');
  if (cmds.length > 1) throw new ToolError(CRM_EX.usage, `only one command at a time (got ${cmds.join(', ')})`);
  const cmd = cmds[0]!;
  if (f.cleanup && cmd !== 'history') throw new ToolError(CRM_EX.usage, '--cleanup requires --history');
  let printed: Printed;
  if (cmd === 'registerLevel' || cmd === 'deregisterLevel') {
    const index = Number(f.index ?? '0');
    if (f.index !== undefined && !/^-?\d+$/.test(f.index)) throw new ToolError(CRM_EX.usage, `Cannot parse integer value "${f.index}" for -i`);
    const change: LevelChange = { target: (cmd === 'registerLevel' ? f.registerLevel : f.deregisterLevel)!, index, ...(cmd === 'registerLevel' ? { devices: (f.device ?? []).flatMap((d) => d.split(',')).filter((d) => d !== '') } : {}) };
    const file = offlineCibFile();
    if (file && f.socket === undefined) changeLevelOffline(file, change);
    else await withApi(f.socket, (api) => changeLevelLive(api, change));
    // stonith_admin prints nothing for -r / -d.
    printed = { text: [], xml: [] };
  } else if (cmd === 'confirm') {
    await withApi(f.socket, (api) => confirmLive(api, f.confirm!));
    printed = { text: [], xml: [] };
  } else if (cmd === 'listInstalled') printed = installedAgents();
  else if (cmd === 'metadata') {
    if (f.agent === undefined) throw new ToolError(CRM_EX.usage, 'Please specify an agent to query using -a,--agent [value]');
    const md = agentMetadata(f.agent);
    printed = { text: [md], xml: [md.split('\n').map((l) => `  ${l}`).join('\n')] };
  } else printed = await withApi(f.socket, (api) => live(api, f, cmd));
  if (f.outputAs === 'xml') {
    const head = `<pacemaker-result api-version="2.25" request="${xmlAttr(['stonith_admin', ...argv].join(' '))}">`;
    process.stdout.write(`${[head, ...printed.xml, '  <status code="0" message="OK"/>', '</pacemaker-result>'].join('\n')}\n`);
  } else if (printed.text.length > 0) process.stdout.write(`${printed.text.join('\n')}\n`);
  return CRM_EX.ok;
}

export function registerStonithAdmin(program: Command): void {
  withSocketOption(
    program
      .command('stonith_admin')
      .description('fence devices, fencing and its history, as stonith_admin does (through the node API)')
      .option('-L, --list-registered', 'the configured fence devices')
      .option('-l, --list <HOST>', 'the devices that can fence HOST')
      .option('-I, --list-installed', 'the installed fence agents')
      .option('-M, --metadata', 'the metadata of the agent (-a)')
      .option('-a, --agent <AGENT>', 'the fence agent (for -M)')
      .option('-F, --fence <HOST>', 'fence HOST (off)')
      .option('-B, --reboot <HOST>', 'reboot HOST')
      .option('-U, --unfence <HOST>', 'unfence HOST (on)')
      .option('-C, --confirm <HOST>', 'tell the cluster HOST is safely down (verified by you): its state is cleared as a fencing would')
      .option('-H, --history <HOST>', "the fencing history of HOST ('*': all nodes)")
      .option('-c, --cleanup', 'with --history: forget that history on every node')
      .option('-r, --register-level <TARGET>', 'register a fencing level for TARGET (NAME, @PATTERN or ATTR=VALUE): needs --index and --device; written to the CIB\'s fencing-topology')
      .option('-d, --deregister-level <TARGET>', 'remove the fencing level --index of TARGET (index 0: every level of it)')
      .option('-i, --index <LEVEL>', 'the fencing level (1-9)')
      .option('-v, --device <DEVICE>', 'a device of the level (repeat for several, in order)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
      .option('-t, --timeout <SECONDS>', 'operation timeout (accepted; the node applies its own)')
      .option('-T, --tag <TAG>', 'tag for the logs (accepted)')
      .option('-V, --verbose', 'more details (--history: every operation)', (_v: string, prev: number) => prev + 1, 0)
      .option('-q, --quiet', 'less output (--history: the epoch of the latest fencing only)')
      .option('--output-as <FORMAT>', 'text or xml', 'text'),
  ).action(async (f: StonithFlags) => {
    const argv = process.argv.slice(process.argv.indexOf('stonith_admin') + 1);
    await runTool('stonith_admin', () => stonithAdmin(f, argv));
  });
}
