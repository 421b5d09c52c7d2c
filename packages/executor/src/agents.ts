/**
 * Where agents live, and what is installed: the real AgentLocator (searches directories) and the
 * catalogue behind `paceline ra` (classes, providers, agents, meta-data).
 *
 * Search order, first match wins:
 *   ocf:     $PACELINE_OCF_RESOURCE_DIRS (colon-separated dirs holding PROVIDER/TYPE), the
 *            repository's agents/ocf (paceline's own agents, provider `paceline`, found relative
 *            to this package so a checkout works uninstalled), $OCF_ROOT/resource.d,
 *            /usr/lib/ocf/resource.d.
 *   lsb:     $PACELINE_LSB_DIRS, the repository's agents/lsb, /etc/init.d.
 *   stonith: $PACELINE_STONITH_DIRS, the repository's agents/stonith, /usr/sbin, /sbin (fence_* only).
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { buildSpawnSpec, type AgentLocation, type AgentLocator } from './command.js';
import { DEFAULT_METADATA_TIMEOUT_MS, DEFAULT_OCF_ROOT } from './defaults.js';
import type { Executor } from './executor.js';
import { lsbMetadata, parseAgentMetadata, type AgentMetadata } from './metadata.js';
import { AGENT_CLASSES, formatAgent, isSafeAgentName, parseAgentRef, type AgentClass, type AgentRef } from './types.js';

export interface AgentPaths {
  /** Directories holding PROVIDER/TYPE (a `resource.d`, or the repository's agents/ocf). */
  readonly ocfResourceDirs: readonly string[];
  readonly lsbDirs: readonly string[];
  readonly stonithDirs: readonly string[];
}

/** The repository's `agents/` directory (src/ and dist/ are both one level below the package). */
export function repoAgentsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../../agents');
}

const splitDirs = (v: string | undefined): string[] => (v ?? '').split(':').filter((d) => d !== '');

/** The search path from the environment and the standard locations. */
export function defaultAgentPaths(env: Readonly<Record<string, string | undefined>> = process.env): AgentPaths {
  const repo = repoAgentsDir();
  const ocfRoots = [env.OCF_ROOT, DEFAULT_OCF_ROOT].filter((r): r is string => !!r).map((r) => join(r, 'resource.d'));
  return {
    ocfResourceDirs: unique([...splitDirs(env.PACELINE_OCF_RESOURCE_DIRS), join(repo, 'ocf'), ...ocfRoots]),
    lsbDirs: unique([...splitDirs(env.PACELINE_LSB_DIRS), join(repo, 'lsb'), '/etc/init.d']),
    stonithDirs: unique([...splitDirs(env.PACELINE_STONITH_DIRS), join(repo, 'stonith'), '/usr/sbin', '/sbin']),
  };
}

function unique(dirs: string[]): string[] {
  return [...new Set(dirs.map((d) => resolve(d)))];
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** LSB directories hold more than init scripts; these are not agents. */
const LSB_SKIP = /^(README|skeleton|rc|rcS|functions)$|\.(dpkg-[a-z]+|sh|orig|bak|rpmnew|rpmsave)$|~$/;

/** Finds agents on the file system along AgentPaths. */
export class FsAgentLocator implements AgentLocator {
  constructor(readonly paths: AgentPaths = defaultAgentPaths()) {}

  locate(agent: AgentRef): AgentLocation | undefined {
    if (!isSafeAgentName(agent.type)) return undefined;
    switch (agent.agentClass) {
      case 'ocf': {
        if (!agent.provider || !isSafeAgentName(agent.provider)) return undefined;
        for (const dir of this.paths.ocfResourceDirs) {
          const path = join(dir, agent.provider, agent.type);
          if (isExecutableFile(path)) return basename(dir) === 'resource.d' ? { path, ocfRoot: dirname(dir) } : { path };
        }
        return undefined;
      }
      case 'lsb':
        return this.first(this.paths.lsbDirs, agent.type);
      case 'stonith':
        return agent.type.startsWith('fence_') ? this.first(this.paths.stonithDirs, agent.type) : undefined;
      default: {
        const never: never = agent.agentClass;
        throw new Error(`unhandled class ${String(never)}`);
      }
    }
  }

  private first(dirs: readonly string[], name: string): AgentLocation | undefined {
    for (const dir of dirs) {
      const path = join(dir, name);
      if (isExecutableFile(path)) return { path };
    }
    return undefined;
  }
}

export type CatalogError = { code: 'bad-agent-name' | 'agent-not-found' | 'agent-ambiguous' | 'metadata-failed' | 'metadata-syntax' | 'metadata-shape'; message: string };

/** What is installed, and what each agent says about itself. */
export class AgentCatalog {
  constructor(readonly paths: AgentPaths = defaultAgentPaths()) {}

  classes(): AgentClass[] {
    return AGENT_CLASSES.map((c) => c.name);
  }

  /** OCF providers, optionally only those that have agent `type`. */
  providers(type?: string): string[] {
    const out = new Set<string>();
    for (const dir of this.paths.ocfResourceDirs) {
      for (const p of listDir(dir)) {
        if (!isSafeAgentName(p)) continue;
        if (type === undefined ? this.agentsIn(join(dir, p)).length > 0 : isExecutableFile(join(dir, p, type))) out.add(p);
      }
    }
    return [...out].sort();
  }

  /** Agents of a class (ocf: of every provider, or of one), as AgentRefs, sorted and unique. */
  agents(agentClass: AgentClass, provider?: string): AgentRef[] {
    const seen = new Map<string, AgentRef>();
    const add = (a: AgentRef) => seen.has(formatAgent(a)) || seen.set(formatAgent(a), a);
    switch (agentClass) {
      case 'ocf':
        for (const dir of this.paths.ocfResourceDirs) {
          for (const p of provider !== undefined ? [provider] : listDir(dir)) {
            if (!isSafeAgentName(p)) continue;
            for (const type of this.agentsIn(join(dir, p))) add({ agentClass: 'ocf', provider: p, type });
          }
        }
        break;
      case 'lsb':
        for (const dir of this.paths.lsbDirs) for (const type of this.agentsIn(dir, (n) => !LSB_SKIP.test(n))) add({ agentClass: 'lsb', type });
        break;
      case 'stonith':
        for (const dir of this.paths.stonithDirs) for (const type of this.agentsIn(dir, (n) => n.startsWith('fence_'))) add({ agentClass: 'stonith', type });
        break;
      default: {
        const never: never = agentClass;
        throw new Error(`unhandled class ${String(never)}`);
      }
    }
    return [...seen.values()].sort((a, b) => formatAgent(a).localeCompare(formatAgent(b)));
  }

  /**
   * An agent from `ocf:heartbeat:Dummy`, `lsb:NAME`, `stonith:fence_x`, or a bare name searched
   * like crmsh does: OCF providers (heartbeat first, then paceline, then the rest), then LSB,
   * then fence agents. A bare name found under several OCF providers is taken from the first.
   */
  resolve(name: string): { ok: true; agent: AgentRef } | { ok: false; error: CatalogError } {
    if (name.includes(':')) {
      const r = parseAgentRef(name);
      return r.ok ? r : { ok: false, error: { code: r.code, message: r.message } };
    }
    if (!isSafeAgentName(name)) return { ok: false, error: { code: 'bad-agent-name', message: `bad agent name "${name}"` } };
    const providers = this.providers(name).sort((a, b) => providerRank(a) - providerRank(b) || a.localeCompare(b));
    const first = providers[0];
    if (first !== undefined) return { ok: true, agent: { agentClass: 'ocf', provider: first, type: name } };
    const locator = new FsAgentLocator(this.paths);
    for (const cls of ['lsb', 'stonith'] as const) {
      if (locator.locate({ agentClass: cls, type: name })) return { ok: true, agent: { agentClass: cls, type: name } };
    }
    return { ok: false, error: { code: 'agent-not-found', message: `no agent named ${name}` } };
  }

  /** The agent's meta-data: run through the executor (ocf, stonith), or from the header (lsb). */
  async metadata(executor: Executor, agent: AgentRef): Promise<{ ok: true; metadata: AgentMetadata } | { ok: false; error: CatalogError }> {
    const loc = new FsAgentLocator(this.paths).locate(agent);
    if (!loc) return { ok: false, error: { code: 'agent-not-found', message: `agent ${formatAgent(agent)} is not installed` } };
    if (agent.agentClass === 'lsb') return { ok: true, metadata: lsbMetadata(agent.type, readFileSync(loc.path, 'utf8')) };
    const r = await executor.run({ rscId: `metadata:${formatAgent(agent)}`, agent, action: 'meta-data', timeoutMs: DEFAULT_METADATA_TIMEOUT_MS });
    if (r.execStatus !== 'done' || r.rc !== 0) {
      return { ok: false, error: { code: 'metadata-failed', message: `${formatAgent(agent)} meta-data: ${r.execStatus} rc=${r.rc} ${r.exitReason ?? r.stderr.trim().split('\n').pop() ?? ''}`.trim() } };
    }
    const parsed = parseAgentMetadata(r.stdout);
    return parsed.ok ? parsed : { ok: false, error: { code: parsed.code, message: `${formatAgent(agent)}: ${parsed.message}` } };
  }

  /**
   * The agent's meta-data, run synchronously (a command-line tool checking what a user typed
   * waits for it anyway): the same program, arguments and environment the executor would use,
   * killed after the meta-data timeout.
   */
  metadataSync(agent: AgentRef, baseEnv: Readonly<Record<string, string | undefined>> = process.env): { ok: true; metadata: AgentMetadata } | { ok: false; error: CatalogError } {
    const loc = new FsAgentLocator(this.paths).locate(agent);
    if (!loc) return { ok: false, error: { code: 'agent-not-found', message: `agent ${formatAgent(agent)} is not installed` } };
    if (agent.agentClass === 'lsb') return { ok: true, metadata: lsbMetadata(agent.type, readFileSync(loc.path, 'utf8')) };
    const req = { rscId: `metadata:${formatAgent(agent)}`, agent, action: 'meta-data' };
    const spec = buildSpawnSpec(req, loc, { timeoutMs: DEFAULT_METADATA_TIMEOUT_MS, intervalMs: 0 }, { baseEnv });
    const r = spawnSync(spec.command, [...spec.args], { env: spec.env, input: spec.stdin ?? '', encoding: 'utf8', timeout: DEFAULT_METADATA_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 });
    if (r.error || r.status !== 0) {
      const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status} ${(r.stderr ?? '').trim().split('\n').pop() ?? ''}`.trim();
      return { ok: false, error: { code: 'metadata-failed', message: `${formatAgent(agent)} meta-data: ${why}` } };
    }
    const parsed = parseAgentMetadata(r.stdout);
    return parsed.ok ? parsed : { ok: false, error: { code: parsed.code, message: `${formatAgent(agent)}: ${parsed.message}` } };
  }

  private agentsIn(dir: string, keep: (name: string) => boolean = () => true): string[] {
    return listDir(dir).filter((n) => isSafeAgentName(n) && keep(n) && isExecutableFile(join(dir, n)));
  }
}

function providerRank(p: string): number {
  return p === 'heartbeat' ? 0 : p === 'paceline' ? 1 : 2;
}

/** True where systemd is the running init (the `systemd` class would be usable). */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}
