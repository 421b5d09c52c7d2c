/**
 * `paceline stonith_admin`: fencing devices, fencing and its history, as stonith_admin 2.1.5
 * does, through the local node's API (`fence.devices`, `fence.request`, `fence.history`):
 *
 *   -L  the configured devices                  -l HOST  the devices that can fence HOST
 *   -F HOST  fence (off)   -B HOST  reboot      -U HOST  unfence (on)
 *   -H HOST  the fencing history of HOST ('*': every node)
 *   -I  the installed fence agents (local)      -M -a AGENT  an agent's metadata (local)
 *   --output-as=text|xml
 *
 * Exit codes are stonith_admin's: 0; 64 usage; 102 no connection; 105 no such node or no device
 * that can fence it; 1 when the device failed.
 */
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import type { ApiClient, FenceHistoryEntry } from '@paceline/controller';
import { parseXml, writeElement } from '@paceline/cib';
import { AgentCatalog, FsAgentLocator, defaultAgentPaths } from '@paceline/executor';
import { CRM_EX, ToolError, runTool, withApi, withSocketOption, xmlAttr } from './live.js';

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

/** "Nov 22 01:02:03 2026"-style local time, as stonith_admin's history prints it. */
function historyTime(epochSec: number): string {
  const d = new Date(epochSec * 1000);
  const p = (x: number): string => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const ACTION_WORD: Readonly<Record<string, string>> = { off: 'turn off', on: 'turn on', reboot: 'reboot' };

/** The history, newest first, as stonith_admin --history prints it (text), or <fence_history>. */
function historyOut(history: readonly FenceHistoryEntry[], target: string): Printed {
  const entries = [...history].reverse();
  if (entries.length === 0) return { text: target === '*' ? [] : [`No fencing operations recorded for ${target}`], xml: ['  <fence_history/>'] };
  const text = entries.map((h) => `  * ${ACTION_WORD[h.action] ?? h.action} of ${h.target} ${h.ok ? 'successful' : 'failed'}: delegate=${h.by}, client=stonith_admin, origin=${h.by}, ${h.ok ? 'completed' : 'last-failed'}='${historyTime(h.wallSec)}'${h.device ? ` (device ${h.device})` : ''}`);
  const xml = ['  <fence_history>', ...entries.map((h) => `    <fence_event action="${xmlAttr(h.action)}" target="${xmlAttr(h.target)}" client="stonith_admin" origin="${xmlAttr(h.by)}" status="${h.ok ? 'success' : 'failed'}" delegate="${xmlAttr(h.by)}" completed="${xmlAttr(historyTime(h.wallSec))}"${h.device ? ` device="${xmlAttr(h.device)}"` : ''}/>`), '  </fence_history>'];
  return { text: [`Fencing History:`, ...text], xml };
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
      const { history } = await api.request('fence.history', target === '*' ? {} : { target });
      return historyOut(history, target);
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
  const cmds = (['listRegistered', 'list', 'listInstalled', 'metadata', 'fence', 'reboot', 'unfence', 'history'] as const).filter((c) => f[c] !== undefined && f[c] !== false);
  if (cmds.length === 0) throw new ToolError(CRM_EX.usage, 'Please specify a valid command (see --help)');
  if (cmds.length > 1) throw new ToolError(CRM_EX.usage, `only one command at a time (got ${cmds.join(', ')})`);
  const cmd = cmds[0]!;
  let printed: Printed;
  if (cmd === 'listInstalled') printed = installedAgents();
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
      .option('-H, --history <HOST>', "the fencing history of HOST ('*': all nodes)")
      .option('--output-as <FORMAT>', 'text or xml', 'text'),
  ).action(async (f: StonithFlags) => {
    const argv = process.argv.slice(process.argv.indexOf('stonith_admin') + 1);
    await runTool('stonith_admin', () => stonithAdmin(f, argv));
  });
}
