/**
 * The checks a commit passes (crmsh's `_verify`: crm_verify on the whole CIB, then the semantic
 * check of the changed objects), with a suggestion wherever a name was not found:
 *
 * - the CIB as a whole (`validateCib`, what crm_verify and the scheduler reject or warn about):
 *   only the problems the commit brings are reported (those already in the configuration that was
 *   read are not the user's doing now); errors refuse the commit, warnings are printed;
 * - each changed primitive (or template) against its agent's meta-data, as crmsh's
 *   `sanity_check_params`: the agent must exist (`ERROR: d: no such resource agent
 *   ocf:pacemaker:Dumy (did you mean "ocf:pacemaker:Dummy"?)`), every parameter must be one the
 *   agent knows, every required one must be there (fence agents' `action` and `port` aside, as
 *   the fencer supplies them); errors in crmsh's default `check-mode strict`, warnings in
 *   `relaxed`;
 * - meta attributes of changed resources that neither Pacemaker nor crmsh knows: a warning
 *   (`WARNING: d: unknown attribute 'target_role' (did you mean "target-role"?)`).
 *
 * Pure: agents' meta-data comes from an `AgentSource` (the command-line tools read it from the
 * installed agents); without one, the agent checks are skipped.
 */
import { childElements, didYouMean, findOption, suggestionText, firstChild, nearestNames, optionsFor, validateCib, type Diagnostic, type XmlElement } from '@paceline/cib';

export interface AgentParamInfo {
  readonly name: string;
  readonly required: boolean;
}

export type AgentLookup =
  /** `params` undefined: the agent exists but its parameters cannot be told; `note`: a warning to give about it. */
  | { readonly ok: true; readonly params?: readonly AgentParamInfo[]; readonly note?: string }
  /** `missing`: the agent is not installed; otherwise its meta-data could not be read (`message` says why). */
  | { readonly ok: false; readonly missing: boolean; readonly message: string };

/** Resource agents as the checks see them. */
export interface AgentSource {
  /** An agent by its CIB name: `ocf:heartbeat:IPaddr2`, `stonith:fence_xvm`, `lsb:httpd`. */
  lookup(agent: string): AgentLookup;
  /** Every installed agent by its CIB name (for suggestions). */
  names(): readonly string[];
}

export interface CheckMessage {
  readonly severity: 'error' | 'warning';
  readonly text: string;
}

export interface CheckOptions {
  readonly agents?: AgentSource;
  /** crmsh `check-mode`: strict (agent problems are errors, the default) or relaxed (warnings). */
  readonly mode?: 'strict' | 'relaxed';
}

/** True when the CIB has a primitive anywhere (crmsh checks nothing before there is one: has_no_primitives). */
export function hasPrimitives(cib: XmlElement): boolean {
  const configuration = firstChild(cib, 'configuration');
  const resources = configuration ? firstChild(configuration, 'resources') : undefined;
  const any = (el: XmlElement): boolean => childElements(el).some((c) => c.name === 'primitive' || (RESOURCE_TAGS.has(c.name) && any(c)));
  return resources !== undefined && any(resources);
}

/**
 * validateCib's problems, but for the missing fencing device while there is no primitive: crmsh
 * runs crm_verify only once the configuration has one (has_no_primitives), and an empty
 * configuration is where a cluster starts.
 */
function cibProblems(cib: XmlElement): Diagnostic[] {
  const all = validateCib(cib);
  return hasPrimitives(cib) ? all : all.filter((d) => d.code !== 'fencing-no-device');
}

/** The whole-CIB problems `after` has and `before` had not (each as `ID: message`). */
export function newCibProblems(before: XmlElement, after: XmlElement): CheckMessage[] {
  const key = (d: Diagnostic) => `${d.code}\0${d.element}\0${d.id ?? ''}\0${d.message.replace(/ \(did you mean [^)]*\)/, '')}`;
  const old = new Set(cibProblems(before).map(key));
  const out: CheckMessage[] = [];
  for (const d of cibProblems(after)) {
    if (old.has(key(d))) continue;
    out.push({ severity: d.severity, text: `${d.id ?? `<${d.element}>`}: ${d.message}` });
  }
  return out;
}

/**
 * The semantic check of the objects with ids `changed` in `cib` (a `<cib>`): agents and their
 * parameters, meta attribute names. Objects are primitives, templates, groups, clones, masters.
 */
export function checkObjects(cib: XmlElement, changed: Iterable<string>, opts: CheckOptions = {}): CheckMessage[] {
  const configuration = firstChild(cib, 'configuration');
  const resources = configuration ? firstChild(configuration, 'resources') : undefined;
  if (!resources) return [];
  const byId = new Map<string, XmlElement>();
  const visit = (el: XmlElement): void => {
    if (el.attrs.id !== undefined && RESOURCE_TAGS.has(el.name)) byId.set(el.attrs.id, el);
    for (const c of childElements(el)) if (RESOURCE_TAGS.has(c.name)) visit(c);
  };
  for (const el of childElements(resources)) visit(el);
  const out: CheckMessage[] = [];
  const agentSeverity = opts.mode === 'relaxed' ? 'warning' : 'error';
  for (const id of [...new Set(changed)].sort()) {
    const el = byId.get(id);
    if (!el) continue;
    if (opts.agents && (el.name === 'primitive' || el.name === 'template')) {
      for (const text of checkAgent(el, byId, opts.agents)) out.push({ severity: agentSeverity, text });
    }
    for (const text of checkMetaNames(el)) out.push({ severity: 'warning', text });
    const note = opts.agents && el.name === 'primitive' ? agentNote(el, byId, opts.agents) : undefined;
    if (note !== undefined) out.push({ severity: 'warning', text: note });
  }
  return out;
}

const RESOURCE_TAGS = new Set(['primitive', 'template', 'group', 'clone', 'master', 'bundle']);

/** The CIB name of a primitive's or template's agent (a template's when the primitive uses one). */
function agentName(el: XmlElement): string | undefined {
  const { class: cls, provider, type } = el.attrs;
  if (cls === undefined || type === undefined) return undefined;
  return cls === 'ocf' ? `${cls}:${provider ?? ''}:${type}` : `${cls}:${type}`;
}

function paramNames(el: XmlElement): string[] {
  const out: string[] = [];
  for (const set of childElements(el, 'instance_attributes')) {
    for (const p of childElements(set, 'nvpair')) if (p.attrs.name !== undefined) out.push(p.attrs.name);
  }
  return out;
}

/** What the agent source says to warn about the primitive's agent, if anything. */
function agentNote(el: XmlElement, byId: ReadonlyMap<string, XmlElement>, agents: AgentSource): string | undefined {
  const tpl = el.attrs.template !== undefined ? byId.get(el.attrs.template) : undefined;
  const agent = agentName(tpl ?? el);
  const found = agent === undefined ? undefined : agents.lookup(agent);
  return found?.ok && found.note !== undefined ? `${el.attrs.id ?? ''}: ${found.note}` : undefined;
}

/** crmsh's check_sanity for a primitive (reduced with its template) or a template. */
function checkAgent(el: XmlElement, byId: ReadonlyMap<string, XmlElement>, agents: AgentSource): string[] {
  const id = el.attrs.id ?? '';
  const tpl = el.name === 'primitive' && el.attrs.template !== undefined ? byId.get(el.attrs.template) : undefined;
  if (el.name === 'primitive' && el.attrs.template !== undefined && tpl?.name !== 'template') return []; // reported by the CIB check
  const agent = agentName(tpl ?? el);
  if (agent === undefined) return [];
  const found = agents.lookup(agent);
  if (!found.ok) {
    if (!found.missing) return [`${id}: ${agent}: got no meta-data (${found.message})`];
    return [`${id}: no such resource agent ${agent}${suggestionText(nearAgents(agent, agents.names()))}`];
  }
  if (found.params === undefined) return [];
  const known = new Set(found.params.map((p) => p.name));
  const cls = agent.split(':')[0];
  // Pacemaker's own fencing parameters (pcmk_host_list, pcmk_delay_max, ...) go with every fence agent.
  if (cls === 'stonith') for (const o of optionsFor('fencing')) known.add(o.name);
  const given = [...(tpl ? paramNames(tpl) : []), ...paramNames(el)];
  const out: string[] = [];
  if (el.name === 'primitive') {
    const have = new Set(given);
    for (const p of found.params) {
      if (!p.required || have.has(p.name)) continue;
      if (cls === 'stonith' && (p.name === 'action' || p.name === 'port')) continue;
      out.push(`${id}: required parameter "${p.name}" not defined`);
    }
  }
  for (const name of new Set(paramNames(el))) {
    if (name.startsWith('$') || known.has(name)) continue;
    out.push(`${id}: parameter "${name}" is not known${didYouMean(name, known)}`);
  }
  return out;
}

/** Installed agents near `agent`: by the whole name, else by the type alone (another provider or class). */
function nearAgents(agent: string, names: readonly string[]): string[] {
  const whole = nearestNames(agent, names);
  if (whole.length > 0) return whole;
  const type = agent.slice(agent.lastIndexOf(':') + 1);
  const byType = new Map<string, string[]>();
  for (const n of names) {
    const t = n.slice(n.lastIndexOf(':') + 1);
    byType.set(t, [...(byType.get(t) ?? []), n]);
  }
  const sameType = byType.get(type) ?? [];
  const types = sameType.length > 0 ? [type] : nearestNames(type, byType.keys());
  return types.flatMap((t) => byType.get(t) ?? []).slice(0, 3);
}

/** Meta attributes crmsh knows beyond Pacemaker's table (constants.py rsc/clone/ms/group lists, `resource trace`). */
const CRMSH_META = ['restart-type', 'description', 'provides', 'clone-state', 'container', 'interval-origin', 'trace_ra', 'trace_dir', 'trace_file'];
const META_NAMES: ReadonlySet<string> = new Set([...optionsFor('resource').flatMap((o) => [o.name, ...(o.aliases ?? [])]), ...CRMSH_META]);

function checkMetaNames(el: XmlElement): string[] {
  const out: string[] = [];
  const id = el.attrs.id ?? '';
  for (const set of childElements(el, 'meta_attributes')) {
    for (const p of childElements(set, 'nvpair')) {
      const name = p.attrs.name;
      if (name === undefined || META_NAMES.has(name) || findOption('resource', name)) continue;
      out.push(`${id}: unknown attribute '${name}'${didYouMean(name, META_NAMES)}`);
    }
  }
  return out;
}

/** `verify`: every problem of the CIB, and the semantic check of every resource. */
export function verifyAll(cib: XmlElement, opts: CheckOptions = {}): CheckMessage[] {
  const out: CheckMessage[] = cibProblems(cib).map((d) => ({ severity: d.severity, text: `${d.id ?? `<${d.element}>`}: ${d.message}` }));
  return [...out, ...checkAllObjects(cib, opts)];
}

/** The semantic check of every resource of the CIB. */
export function checkAllObjects(cib: XmlElement, opts: CheckOptions = {}): CheckMessage[] {
  const ids: string[] = [];
  const configuration = firstChild(cib, 'configuration');
  const resources = configuration ? firstChild(configuration, 'resources') : undefined;
  const visit = (el: XmlElement): void => {
    if (el.attrs.id !== undefined) ids.push(el.attrs.id);
    for (const c of childElements(el)) if (RESOURCE_TAGS.has(c.name)) visit(c);
  };
  for (const el of resources ? childElements(resources) : []) if (RESOURCE_TAGS.has(el.name)) visit(el);
  return checkObjects(cib, ids, opts);
}

/** Messages as the shell prints them: `ERROR: ...` / `WARNING: ...`. */
export function formatChecks(messages: readonly CheckMessage[]): string[] {
  return messages.map((m) => `${m.severity === 'error' ? 'ERROR' : 'WARNING'}: ${m.text}`);
}
