/**
 * Agent meta-data: the XML an OCF agent prints for `meta-data` (and a fence agent for
 * `action=metadata`), parsed into parameters and actions. Pure. LSB scripts have none; one is
 * made from their `### BEGIN INIT INFO` header, as Pacemaker does.
 */
import { parseXml, type XmlElement } from '@paceline/cib';
import { parseDurationMs } from './duration.js';

export interface AgentParameter {
  readonly name: string;
  readonly required: boolean;
  /** OCF 1.0 `unique="1"`, or OCF 1.1 `unique-group` (named in uniqueGroup). */
  readonly unique: boolean;
  readonly uniqueGroup?: string;
  /** OCF 1.1: a change is applied by `reload-agent` instead of a restart. */
  readonly reloadable: boolean;
  readonly deprecated: boolean;
  /** string, integer, boolean, select, second, ... as the agent declares it. */
  readonly type: string;
  readonly default?: string;
  /** For `select`: the allowed values. */
  readonly options?: readonly string[];
  readonly shortdesc: string;
  readonly longdesc: string;
}

export interface AgentActionSpec {
  readonly name: string;
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** OCF_CHECK_LEVEL this monitor asks for. */
  readonly depth?: number;
  readonly role?: string;
  readonly startDelayMs?: number;
}

export interface AgentMetadata {
  readonly name: string;
  /** The agent's own version (attribute `version`). */
  readonly version?: string;
  /** The OCF version it follows (element `<version>`). */
  readonly ocfVersion?: string;
  readonly shortdesc: string;
  readonly longdesc: string;
  readonly parameters: readonly AgentParameter[];
  readonly actions: readonly AgentActionSpec[];
}

export type MetadataResult = { ok: true; metadata: AgentMetadata } | { ok: false; code: 'metadata-syntax' | 'metadata-shape'; message: string };

function textOf(el: XmlElement | undefined): string {
  if (!el) return '';
  const parts: string[] = [];
  for (const c of el.children) {
    if (c.kind === 'text') parts.push(c.text);
    else if (c.kind === 'element') parts.push(textOf(c));
  }
  return parts.join(' ').trim();
}

function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c): c is XmlElement => c.kind === 'element' && c.name === name);
}

/** The English description (lang="en" or no lang), else the first one. */
function desc(el: XmlElement, name: 'shortdesc' | 'longdesc'): string {
  const all = children(el, name);
  const en = all.find((d) => d.attrs.lang === undefined || d.attrs.lang === 'en') ?? all[0];
  return en ? textOf(en) : (el.attrs[name] ?? '');
}

const truthy = (v: string | undefined): boolean => v === '1' || v === 'true' || v === 'yes';

function parameter(p: XmlElement): AgentParameter {
  const content = children(p, 'content')[0];
  const options = content ? children(content, 'option').map((o) => o.attrs.value ?? '') : [];
  const uniqueGroup = p.attrs['unique-group'];
  return {
    name: p.attrs.name ?? '',
    required: truthy(p.attrs.required),
    unique: truthy(p.attrs.unique) || uniqueGroup !== undefined,
    ...(uniqueGroup !== undefined ? { uniqueGroup } : {}),
    reloadable: truthy(p.attrs.reloadable),
    deprecated: children(p, 'deprecated').length > 0 || truthy(p.attrs.deprecated),
    type: content?.attrs.type ?? 'string',
    ...(content?.attrs.default !== undefined ? { default: content.attrs.default } : {}),
    ...(options.length > 0 ? { options } : {}),
    shortdesc: desc(p, 'shortdesc'),
    longdesc: desc(p, 'longdesc'),
  };
}

function action(a: XmlElement): AgentActionSpec {
  const ms = (v: string | undefined) => (v === undefined ? undefined : parseDurationMs(v));
  const timeoutMs = ms(a.attrs.timeout);
  const intervalMs = ms(a.attrs.interval);
  const startDelayMs = ms(a.attrs['start-delay']);
  const depth = a.attrs.depth !== undefined && /^\d+$/.test(a.attrs.depth) ? Number(a.attrs.depth) : undefined;
  const role = a.attrs.role;
  return {
    name: a.attrs.name ?? '',
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    ...(depth !== undefined ? { depth } : {}),
    ...(role !== undefined ? { role } : {}),
    ...(startDelayMs !== undefined ? { startDelayMs } : {}),
  };
}

/** Parses `<resource-agent>` meta-data. Errors are values with a stable code. */
export function parseAgentMetadata(xml: string): MetadataResult {
  const start = xml.indexOf('<');
  if (start === -1) return { ok: false, code: 'metadata-syntax', message: 'no XML in the meta-data output' };
  let root: XmlElement;
  try {
    root = parseXml(xml.slice(start)).root;
  } catch (err) {
    return { ok: false, code: 'metadata-syntax', message: (err as Error).message };
  }
  if (root.name !== 'resource-agent') return { ok: false, code: 'metadata-shape', message: `root element is <${root.name}>, not <resource-agent>` };
  const params = children(root, 'parameters')[0];
  const actions = children(root, 'actions')[0];
  const version = root.attrs.version;
  const ocfVersion = textOf(children(root, 'version')[0]);
  return {
    ok: true,
    metadata: {
      name: root.attrs.name ?? '',
      ...(version !== undefined ? { version } : {}),
      ...(ocfVersion !== '' ? { ocfVersion } : {}),
      shortdesc: desc(root, 'shortdesc'),
      longdesc: desc(root, 'longdesc'),
      parameters: params ? children(params, 'parameter').map(parameter) : [],
      actions: actions ? children(actions, 'action').map(action) : [],
    },
  };
}

/** Pacemaker's default timeout for LSB actions (it has no meta-data to say otherwise). */
const LSB_ACTION_TIMEOUT_MS = 15_000;

/** Meta-data for an LSB init script, from its `### BEGIN INIT INFO` block. */
export function lsbMetadata(name: string, script: string): AgentMetadata {
  const header = /### BEGIN INIT INFO([\s\S]*?)### END INIT INFO/.exec(script)?.[1] ?? '';
  const fields = new Map<string, string>();
  let last: string | undefined;
  for (const raw of header.split('\n')) {
    const line = raw.replace(/^#/, '');
    const m = /^\s*([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m && !/^\s{2,}|^\t/.test(line)) {
      last = m[1] as string;
      fields.set(last, (m[2] ?? '').trim());
    } else if (last === 'Description' && line.trim() !== '') {
      fields.set(last, `${fields.get(last) ?? ''} ${line.trim()}`.trim());
    }
  }
  const actions = ['start', 'stop', 'status', 'restart', 'force-reload', 'monitor', 'meta-data'].map((n) => ({
    name: n,
    timeoutMs: LSB_ACTION_TIMEOUT_MS,
    ...(n === 'monitor' ? { intervalMs: 15_000 } : {}),
  }));
  return {
    name,
    version: '0.1',
    ocfVersion: '1.1',
    shortdesc: fields.get('Short-Description') ?? name,
    longdesc: fields.get('Description') ?? '',
    parameters: [],
    actions,
  };
}
