/**
 * The real CrmHost (files, $EDITOR, filter commands), the offline CibBackend (a CIB file,
 * replaced atomically, version-checked), and the shadow CIB files the `cib` level shares with
 * crm_shadow, for `paceline configure`, `paceline -f` and the interactive shell.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseXml, readVersion } from '@paceline/cib';
import { AgentCatalog, defaultAgentPaths, formatAgent, parseAgentRef } from '@paceline/executor';
import type { AgentLookup, AgentSource } from '../crm/check.js';
import type { CibBackend, CibReplaceResult, CibVersionTag, CrmHost } from '../crm/host.js';

/** Hooks the interactive shell sets so the editor gets the terminal (readline paused, raw mode off). */
export interface TerminalHandOff {
  readonly release: () => void;
  readonly reclaim: () => void;
}

/** Files relative to `cwd` (default: the working directory); $VISUAL/$EDITOR (default vi); `sh -c` for filters (run in `cwd`). */
export function nodeCrmHost(term?: TerminalHandOff, cwd?: string): CrmHost {
  const at = (p: string): string => (cwd === undefined ? p : resolve(cwd, p));
  return {
    readFile: (path) => readFileSync(path === '-' ? 0 : at(path), 'utf8'),
    writeFile: (path, text) => writeFileSync(at(path), text),
    editText: (text, suffix) => {
      const dir = mkdtempSync(join(tmpdir(), 'paceline-edit-'));
      const file = join(dir, `cib.${suffix}`);
      try {
        writeFileSync(file, text);
        const editor = process.env.VISUAL || process.env.EDITOR || 'vi';
        term?.release();
        let r;
        try {
          r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'sh', file], { stdio: 'inherit', ...(cwd ? { cwd } : {}) });
        } finally {
          term?.reclaim();
        }
        if (r.status !== 0) return undefined;
        return readFileSync(file, 'utf8');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    filterText: (command, text) => {
      const r = spawnSync('/bin/sh', ['-c', command], { input: text, encoding: 'utf8', maxBuffer: 64 << 20, ...(cwd ? { cwd } : {}) });
      // A command that exits without reading all its input breaks the pipe: its exit status still tells.
      if (r.error && !((r.error as NodeJS.ErrnoException).code === 'EPIPE' && r.status !== null)) throw r.error;
      if (r.status !== 0) throw new Error(`exited ${r.status}${r.stderr ? `: ${r.stderr.trim()}` : ''}`);
      return r.stdout;
    },
  };
}

function versionOf(text: string): CibVersionTag {
  const v = readVersion(parseXml(text).root);
  return { adminEpoch: v.adminEpoch, epoch: v.epoch, numUpdates: v.numUpdates };
}

/** The CIB in a file (CIB_file): read whole, replaced by rename when its version is still the one read. */
export function fileCibBackend(file: string): CibBackend {
  return {
    name: file,
    read: async () => readFileSync(file, 'utf8'),
    replace: async (cibText: string, basedOn: CibVersionTag): Promise<CibReplaceResult> => {
      const now = versionOf(readFileSync(file, 'utf8'));
      if (now.adminEpoch !== basedOn.adminEpoch || now.epoch !== basedOn.epoch || now.numUpdates !== basedOn.numUpdates) {
        return { ok: false, conflict: true, message: `the CIB in ${file} changed since it was read (now ${now.adminEpoch}.${now.epoch}.${now.numUpdates}, read ${basedOn.adminEpoch}.${basedOn.epoch}.${basedOn.numUpdates}): nothing written; refresh and redo the changes` };
      }
      const tmp = `${file}.paceline-tmp`;
      writeFileSync(tmp, cibText);
      renameSync(tmp, file);
      return { ok: true, cibText };
    },
  };
}

export { versionOf as cibVersionOfText };

/** The file of shadow `name` in `dir` (crm_shadow: shadow.NAME). */
export function shadowPath(dir: string, name: string): string {
  return join(dir, `shadow.${name}`);
}

/** Where crm_shadow records the CIB version shadow `name` was copied from (`.shadow.NAME.base`). */
export function shadowBasePath(dir: string, name: string): string {
  return join(dir, `.shadow.${name}.base`);
}

/** The shadow CIBs in `dir`, by name, sorted. */
export function listShadows(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith('shadow.') && !f.endsWith('.paceline-tmp'))
      .map((f) => f.slice('shadow.'.length))
      .sort();
  } catch {
    return [];
  }
}

/** Where cluster-glue keeps its stonith plugins (`stonith:ssh`, `stonith:external/ipmi`). */
export const CLUSTER_GLUE_PLUGINS = '/usr/lib/stonith/plugins';

/** The installed cluster-glue plugin a `stonith:` name means, if any: `stonith:ssh` is stonith2/ssh.so, `stonith:external/ssh` external/ssh. */
function legacyStonithPlugin(agent: string, dir = CLUSTER_GLUE_PLUGINS): string | undefined {
  const m = /^stonith:([a-zA-Z0-9_.-]+(?:\/[a-zA-Z0-9_.-]+)?)$/.exec(agent);
  if (!m || m[1]!.startsWith('fence_')) return undefined;
  const path = m[1]!.includes('/') ? join(dir, m[1]!) : join(dir, 'stonith2', `${m[1]!}.so`);
  return existsSync(path) ? path : undefined;
}

/**
 * The installed agents as the crm shell's checks see them (`../crm/check.ts`): meta-data read
 * once per agent, synchronously (the shell waits for the answer anyway), and the list of agents
 * for suggestions read once.
 */
export function catalogAgentSource(catalog: AgentCatalog = new AgentCatalog(defaultAgentPaths())): AgentSource {
  const cache = new Map<string, AgentLookup>();
  let names: string[] | undefined;
  return {
    lookup(agent) {
      let found = cache.get(agent);
      if (found) return found;
      const legacy = legacyStonithPlugin(agent);
      const ref = parseAgentRef(agent);
      if (legacy) found = { ok: true, note: `${agent} is a cluster-glue stonith plugin (${legacy}): Pacemaker runs it through fence_legacy, paceline's fencer runs fence_* agents only` };
      else if (!ref.ok) found = { ok: false, missing: false, message: ref.message };
      else {
        const md = catalog.metadataSync(ref.agent);
        if (md.ok) found = { ok: true, params: md.metadata.parameters.map((p) => ({ name: p.name, required: p.required })) };
        else found = { ok: false, missing: md.error.code === 'agent-not-found', message: md.error.message };
      }
      cache.set(agent, found);
      return found;
    },
    names() {
      if (!names) {
        names = [];
        for (const cls of catalog.classes()) {
          try {
            names.push(...catalog.agents(cls).map(formatAgent));
          } catch {
            // a class whose directories cannot be read offers no names
          }
        }
      }
      return names;
    },
  };
}
