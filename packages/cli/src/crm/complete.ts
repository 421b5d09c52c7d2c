/**
 * Tab completion and help for the interactive crm shell: commands of the current level, levels,
 * object ids and node names from the working CIB, agent names, agent parameters (from
 * meta-data) and cluster options. Pure: agents and their parameters come from `CompletionSources`.
 */
import type { ConfigSession } from './session.js';
import { crmLevels, type CrmLevel } from './script.js';
import { showObjects } from './show.js';

/** What completion needs from outside the CIB. */
export interface CompletionSources {
  /** Agent names as written in a primitive (`ocf:heartbeat:IPaddr2`, `stonith:fence_xvm`). */
  agents(): readonly string[];
  /** Parameter names of an agent from its meta-data; undefined when not (yet) known. */
  agentParams(agent: string): readonly string[] | undefined;
  /** Cluster option names (crm_config). */
  clusterOptions(): readonly string[];
}

/** Commands available at every level. */
const globalCommands = ['cd', 'up', 'end', 'help', 'quit', 'bye', 'exit', 'ls'];

/** Each level's commands with a one-line description (`help`). */
export const levelHelp: Record<CrmLevel, Record<string, string>> = {
  top: {
    configure: 'CIB configuration (objects, constraints, properties)',
    resource: 'resource management (needs a live cluster, except start/stop on a CIB file)',
    node: 'node management (needs a live cluster)',
    cib: 'shadow CIBs (needs a live cluster)',
    ra: 'resource agents (classes, list, info)',
    options: 'shell options (sort_elements)',
    cluster: 'cluster start/stop/status (needs a live cluster)',
    maintenance: 'maintenance mode (needs a live cluster)',
    status: 'the cluster status, as crm_mon -1 (status [inactive|bynode|ops|failcounts|attributes|full|xml])',
    history: 'transitions the local node ran as DC (history [transitions [N]], transition ID, log [N], peinputs [DIR], peinput N [DIR])',
  },
  configure: {
    node: 'define a node', primitive: 'define a resource', group: 'define a group', clone: 'define a clone', ms: 'define a promotable clone (deprecated: clone with promotable=true)',
    rsc_template: 'define a resource template', bundle: 'define a bundle', location: 'a location constraint', colocation: 'a colocation constraint', order: 'an order constraint',
    rsc_ticket: 'a ticket dependency', property: 'set cluster properties', rsc_defaults: 'set resource defaults', op_defaults: 'set operation defaults',
    fencing_topology: 'fencing levels', tag: 'a tag of resources', alert: 'an alert agent', role: 'an ACL role', acl_target: 'an ACL target', acl_group: 'an ACL group',
    monitor: 'add a monitor op to a primitive', show: 'show the configuration (show [xml|changed] [ids])', edit: 'edit objects in $EDITOR', filter: 'pipe objects through a command',
    delete: 'delete objects', rename: 'rename an object', modgroup: 'add a member to a group or remove one', load: 'load replace|update|push FILE', save: 'save [xml] [ids] FILE',
    erase: 'remove all resources and constraints (erase nodes: nodes too)', set: 'set ID.PARAM VALUE', commit: 'commit the changes', undo: 'undo the last uncommitted change',
    refresh: 'drop uncommitted changes and re-read the CIB', verify: 'check the configuration', upgrade: 'upgrade the CIB schema (upgrade [force])',
  },
  resource: {
    status: 'resource status (status [rsc...]; also show, list)', locate: 'where a resource runs', start: 'start resources (target-role Started)', stop: 'stop resources (target-role Stopped)',
    restart: 'stop, wait until stopped, start, wait until started', promote: 'promote a promotable clone', demote: 'demote a promotable clone',
    move: 'move RSC [NODE] [LIFETIME] [force] (also migrate): a cli-prefer constraint, or cli-ban without a node', ban: 'ban RSC [NODE] [LIFETIME] [force]: keep it off a node',
    clear: 'remove move/ban constraints (also unmigrate, unmove, unban)', cleanup: 'cleanup [RSC] [NODE]: forget failures', refresh: 'refresh [RSC] [NODE]: forget the history, probe again',
    failcount: 'failcount RSC set|delete|show NODE [VALUE]', param: 'param RSC set|delete|show NAME [VALUE]', meta: 'meta RSC set|delete|show NAME [VALUE]',
    utilization: 'utilization RSC set|delete|show NAME [VALUE]', manage: 'manage a resource (is-managed=true)', unmanage: 'unmanage a resource (is-managed=false)',
    maintenance: 'maintenance RSC [on|off]', why: 'why a resource is where it is, or stopped (the scheduler explains)',
  },
  node: {
    status: 'node status (status [NODE]; also show)', list: 'list nodes', standby: 'standby [NODE] [reboot|forever]', online: 'bring a node back from standby',
    maintenance: 'put a node in maintenance', ready: 'take a node out of maintenance', attribute: 'attribute NODE set|delete|show NAME [VALUE] (permanent)',
    'status-attr': 'status-attr NODE set|delete|show NAME [VALUE] (until reboot)', utilization: 'utilization NODE set|delete|show NAME [VALUE]',
    fence: 'fence (reboot) a node with its fence device', clearstate: 'confirm a node is down (its state cleared; an online node: resource cleanup, as crmsh)', delete: 'delete an offline node from the configuration',
  },
  cib: { new: 'new NAME [empty] [force]: a shadow copy of the CIB, then use it', use: 'use NAME (or live): configure works on it', diff: 'diff [NAME]: the shadow against the CIB, in crm syntax', commit: 'commit [NAME]: the shadow replaces the configuration', reset: 'reset NAME: copy the CIB into the shadow again', list: 'list shadow CIBs', delete: 'delete NAME: remove a shadow CIB' },
  ra: { classes: 'agent classes', list: 'agents of a class', info: 'agent meta-data', providers: 'OCF providers of an agent' },
  options: { sort_elements: 'show objects sorted by id (yes|no)' },
  cluster: { status: 'the cluster as the local node sees it (members, quorum, DC)', start: 'start the node service (systemctl, not from the shell)', stop: 'stop the node service (systemctl, not from the shell)', init: 'init -n NAME -N NAME=IP ... [--no-start]: configure this node as the first of a new cluster and print the join line', join: 'join -c IP:PORT --token TOKEN: join the cluster init made', token: 'a new join token and service on a configured node' },
  maintenance: { on: 'on [RSC|NODE]: maintenance mode for the cluster, a resource or a node', off: 'off [RSC|NODE]: maintenance mode off' },
};

/** `help [topic]` at a level: the level's commands, or one command's line. */
export function helpText(level: CrmLevel, topic?: string): string {
  const cmds = levelHelp[level];
  if (topic) {
    const line = cmds[topic] ?? levelHelp.configure[topic] ?? levelHelp.top[topic];
    if (line) return `${topic}: ${line}`;
    if (globalCommands.includes(topic)) return `${topic}: ${{ cd: 'change level (cd LEVEL, cd ..)', up: 'go up one level', end: 'go up one level', help: 'help [topic]', quit: 'leave the shell', bye: 'leave the shell', exit: 'leave the shell', ls: 'list the commands of this level' }[topic] ?? ''}`;
    return `no help for '${topic}' at ${level === 'top' ? 'the top level' : `level ${level}`}`;
  }
  const width = Math.max(...Object.keys(cmds).map((k) => k.length));
  const lines = Object.entries(cmds).map(([k, v]) => `  ${k.padEnd(width)}  ${v}`);
  return `${level === 'top' ? 'levels' : `${level} commands`}:\n${lines.join('\n')}\nalso: ${globalCommands.join(', ')}; help TOPIC for one command`;
}

/** Commands to complete as the first word at `level`. */
export function levelCommands(level: CrmLevel): string[] {
  const own = Object.keys(levelHelp[level]);
  return [...new Set([...own, ...globalCommands, ...(level === 'top' ? [...crmLevels, 'status'] : [])])].sort();
}

const resourceKinds = new Set(['primitive', 'group', 'clone', 'master', 'bundle', 'template']);
const idCommands = new Set(['show', 'edit', 'delete', 'rm', 'rename', 'filter', 'save']);

function ids(session: ConfigSession, which: 'all' | 'resources' | 'primitives'): string[] {
  const objs = showObjects(session);
  const pick = objs.filter((o) => (which === 'all' ? true : which === 'primitives' ? o.kind === 'primitive' : resourceKinds.has(o.kind)));
  return [...new Set(pick.map((o) => o.id))].sort();
}

/**
 * Candidates for the last (partial) word of `line` at `level`. Returns the full candidates;
 * the caller filters nothing (they all start with the partial word).
 */
export function completeLine(line: string, level: CrmLevel, session: ConfigSession, src: CompletionSources): { candidates: string[]; partial: string } {
  const words = line.trimStart().split(/\s+/);
  const partial = /\s$/.test(line) || line.trim() === '' ? '' : words[words.length - 1]!;
  const before = /\s$/.test(line) ? words.filter((w) => w !== '') : words.slice(0, -1);
  const pick = (list: Iterable<string>): { candidates: string[]; partial: string } => ({ candidates: [...new Set(list)].filter((c) => c.startsWith(partial)).sort(), partial });
  if (before.length === 0) return pick(levelCommands(level));
  const cmd = before[0]!;
  if (cmd === 'cd') return pick([...crmLevels, '..']);
  if (cmd === 'help') return pick(levelCommands(level));
  let lvl = level;
  let args = before;
  if (level === 'top' && (crmLevels as readonly string[]).includes(cmd)) {
    lvl = cmd as CrmLevel;
    args = before.slice(1);
    if (args.length === 0) return pick(levelCommands(lvl));
  }
  const sub = args[0]!;
  const nodes = session.nodeNames();
  if (lvl === 'resource') return pick(ids(session, 'resources'));
  if (lvl === 'node') return pick(nodes);
  if (lvl === 'ra') return sub === 'info' || sub === 'meta' ? pick(src.agents()) : pick([]);
  if (lvl !== 'configure') return pick([]);
  const n = args.length; // words before the partial one, command included
  if (sub === 'primitive') {
    if (n === 1) return pick([]);
    if (n === 2) return pick([...src.agents(), ...ids(session, 'all').filter((i) => showObjects(session).some((o) => o.id === i && o.kind === 'template')).map((t) => `@${t}`)]);
    const agent = args[2]!;
    const section = [...args].reverse().find((w) => ['params', 'meta', 'op', 'utilization'].includes(w));
    if (section === 'params') {
      const params = src.agentParams(agent);
      const given = new Set(args.map((w) => w.split('=')[0]));
      if (partial.includes('=')) return pick([]);
      return pick([...(params ?? []).filter((p) => !given.has(p)).map((p) => `${p}=`), 'meta', 'op', 'utilization']);
    }
    if (section === 'op' && args[args.length - 1] === 'op') return pick(['monitor', 'start', 'stop', 'promote', 'demote', 'notify', 'migrate_to', 'migrate_from', 'reload', 'reload-agent']);
    if (section === 'meta') return pick([...['target-role=', 'is-managed=', 'resource-stickiness=', 'migration-threshold=', 'failure-timeout=', 'priority=', 'allow-migrate='], 'params', 'op']);
    return pick(['params', 'meta', 'op', 'utilization']);
  }
  if (sub === 'property') return pick(partial.includes('=') ? [] : src.clusterOptions().map((o) => `${o}=`));
  if (sub === 'group') return n === 1 ? pick([]) : pick([...ids(session, 'primitives'), 'meta', 'params']);
  if (sub === 'clone' || sub === 'ms') return n === 1 ? pick([]) : n === 2 ? pick(ids(session, 'resources')) : pick(['meta', 'params']);
  if (sub === 'location') {
    if (n === 2) return pick(ids(session, 'resources'));
    if (n >= 3 && /:$/.test(args[n - 1]!)) return pick(nodes);
    return pick(n === 1 ? [] : ['rule', 'inf:', '-inf:', 'resource-discovery=', 'role=']);
  }
  if (sub === 'colocation' || sub === 'order' || sub === 'rsc_ticket') return n <= 2 ? pick([]) : pick(ids(session, 'resources'));
  if (sub === 'modgroup') return n === 1 ? pick(showObjects(session).filter((o) => o.kind === 'group').map((o) => o.id)) : n === 2 ? pick(['add', 'remove']) : n === 4 ? pick(['after', 'before']) : pick(ids(session, 'primitives'));
  if (sub === 'node') return pick(nodes);
  if (sub === 'load') return pick(n === 1 ? ['xml', 'replace', 'update', 'push'] : n === 2 && args[1] === 'xml' ? ['replace', 'update', 'push'] : []);
  if (sub === 'show') return pick([...ids(session, 'all'), ...(n === 1 ? ['xml', 'changed'] : [])]);
  if (idCommands.has(sub)) return pick(ids(session, 'all'));
  if (sub === 'erase') return pick(n === 1 ? ['nodes'] : []);
  return pick([...ids(session, 'all'), ...nodes]);
}
