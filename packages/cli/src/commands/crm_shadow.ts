/**
 * `paceline crm_shadow`: shadow copies of the CIB to change offline, then commit, as crm_shadow
 * 2.1.5 does. A shadow copy is the file `shadow.NAME` in the shadow directory ($CIB_shadow_dir,
 * see `shadowDir`); the offline tools (cibadmin, crm_mon) work on it when $CIB_shadow=NAME.
 *
 *   -c NAME  copy of the live CIB (through the node API)      -e NAME  an empty CIB
 *   -r NAME  copy the live CIB again                           -D NAME  delete (needs --force)
 *   -C NAME  replace the live configuration with it (needs --force; --all: the whole CIB)
 *   -w the active copy ($CIB_shadow)   -F its file   -p its contents   -d its changes (a v2 patch)
 *   -E  edit the active copy: $EDITOR runs in place of crm_shadow, on the copy's file (exit: the
 *       editor's; 6 without $EDITOR; 72 when it cannot be run)
 *   -s NAME  how to switch to NAME    --batch: print how to use it instead of starting a shell
 *
 * A copy taken from the live CIB records the version it was taken from (the file
 * `.shadow.NAME.base`): --commit replaces the live CIB only if it is still at that version, so a
 * change made on the cluster meanwhile is not overwritten silently (exit 103, "the CIB changed").
 * Exit codes are crm_shadow's: 0; 64 a dangerous command without --force; 73 a copy that already
 * exists (without --force); 105 no active or no such copy; 102 no connection to the cluster;
 * 6 (CRM_EX_NOT_CONFIGURED) no $EDITOR; 72 (CRM_EX_OSFILE) an editor that cannot be run.
 */
import { spawnSync } from 'node:child_process';
import { constants } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { ApiError, type ApiClient } from '@paceline/controller';
import { firstChild, parseXml, writeElement, type XmlElement } from '@paceline/cib';
import { crmDiffPatch } from './crm_diff.js';
import { CRM_EX, ToolError, replaceFile, runTool, shadowFile, withApi } from './live.js';

const osSignals: Readonly<Record<string, number>> = constants.signals;

/** crm_shadow's exit code for a copy that already exists (CRM_EX_CANTCREAT). */
const EX_CANTCREAT = 73;
/** No $EDITOR for --edit (CRM_EX_NOT_CONFIGURED). */
const EX_NOT_CONFIGURED = 6;
/** The editor could not be run (CRM_EX_OSFILE). */
const EX_OSFILE = 72;

const DANGEROUS = 'The supplied command is considered dangerous.  To prevent accidental destruction of the cluster, the --force flag is required in order to proceed.';

/** The empty CIB crm_shadow --create-empty writes (schema pacemaker-3.9, version 0.0.0). */
export function emptyShadowCib(validateWith = 'pacemaker-3.9'): string {
  return `<cib crm_feature_set="3.16.1" validate-with="${validateWith}" epoch="0" num_updates="0" admin_epoch="0">\n  <configuration>\n    <crm_config/>\n    <nodes/>\n    <resources/>\n    <constraints/>\n  </configuration>\n  <status/>\n</cib>\n`;
}

const baseFile = (name: string): string => {
  const f = shadowFile(name);
  return `${dirname(f)}/.shadow.${name}.base`;
};

function writeAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o750 });
  replaceFile(file, text, 0o640);
}

function readShadow(name: string): string {
  try {
    return readFileSync(shadowFile(name), 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message;
    throw new ToolError(CRM_EX.noSuch, `Could not access shadow instance '${name}': ${why}`);
  }
}

function activeName(): string {
  const name = process.env.CIB_shadow;
  if (!name) throw new ToolError(CRM_EX.noSuch, 'No active shadow configuration defined');
  return name;
}

/** Writes shadow `name` (refusing to overwrite without --force) and its base version (none: removed). */
function createShadow(name: string, text: string, base: string | undefined, force: boolean): void {
  const file = shadowFile(name);
  if (existsSync(file) && !force) {
    throw new ToolError(EX_CANTCREAT, `A shadow instance '${name}' already exists.\n  To prevent accidental destruction of the cluster, the --force flag is required in order to proceed.`);
  }
  writeAtomic(file, text);
  if (base !== undefined) writeAtomic(baseFile(name), `${base}\n`);
  else rmSync(baseFile(name), { force: true });
}

/** Prints how to use the new copy (--batch), or starts $SHELL with CIB_shadow set, as crm_shadow does. */
function useShadow(name: string, batch: boolean): number {
  const out = (s: string): void => void process.stdout.write(s);
  out('Setting up shadow instance\n');
  if (batch || !process.stdin.isTTY) {
    out(`A new shadow instance was created.  To begin using it paste the following into your shell:\n  CIB_shadow=${name} ; export CIB_shadow\n`);
    return CRM_EX.ok;
  }
  out('Type Ctrl-D to exit the crm_shadow shell\n');
  const shell = process.env.SHELL || '/bin/sh';
  const r = spawnSync(shell, [], { stdio: 'inherit', env: { ...process.env, CIB_shadow: name, PS1: `shadow[${name}] ${process.env.PS1 ?? '# '}` } });
  return r.status ?? CRM_EX.ok;
}

async function liveCibText(api: ApiClient): Promise<{ text: string; version: string }> {
  const q = await api.request('cib.query', {});
  return { text: `${q.xml.trimEnd()}\n`, version: q.version };
}

interface ShadowFlags {
  edit?: boolean;
  create?: string;
  createEmpty?: string;
  reset?: string;
  delete?: string;
  commit?: string;
  switch?: string;
  which?: boolean;
  display?: boolean;
  diff?: boolean;
  file?: boolean;
  force?: boolean;
  batch?: boolean;
  all?: boolean;
  validateWith?: string;
  socket?: string;
}

/** --commit: the live configuration (or whole CIB) replaced by the copy, based on the version it was taken from. */
async function commit(api: ApiClient, name: string, all: boolean): Promise<number> {
  const root = parseXml(readShadow(name)).root;
  const base = existsSync(baseFile(name)) ? readFileSync(baseFile(name), 'utf8').trim() : undefined;
  const section = all ? root : firstChild(root, 'configuration');
  if (!section) throw new ToolError(CRM_EX.dataErr, `shadow instance '${name}' has no configuration section`);
  try {
    const r = await api.request('cib.update', { op: 'replace', ...(all ? {} : { scope: 'configuration' }), xml: writeElement(section, { indentSpaces: 0 }), ...(base ? { baseVersion: base } : {}) });
    // The copy now matches the live CIB at the new version: later commits are based on it.
    writeAtomic(baseFile(name), `${r.version}\n`);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'conflict') {
      throw new ToolError(CRM_EX.old, `Could not commit shadow instance '${name}' to the CIB: the cluster's CIB changed since the copy was taken (at ${base ?? '?'}); run crm_shadow --reset ${name} and make the changes again`);
    }
    throw e;
  }
  return CRM_EX.ok;
}

/** --diff: the changes of the active copy against the live CIB, as a v2 patch; exit 1 when it differs. */
async function diff(api: ApiClient, name: string): Promise<number> {
  const shadow = parseXml(readShadow(name)).root;
  const live: XmlElement = parseXml((await liveCibText(api)).text).root;
  const patch = crmDiffPatch(live, shadow);
  if (!patch) return CRM_EX.ok;
  process.stdout.write(`${writeElement(patch).trimEnd()}\n`);
  return CRM_EX.error;
}

/**
 * --edit: $EDITOR on the copy's file, as crm_shadow's execlp(EDITOR, "--", FILE) (the whole
 * value is the program: no arguments are split off); its exit code is the tool's.
 */
export function editShadow(file: string): number {
  const editor = process.env.EDITOR;
  if (editor === undefined) throw new ToolError(EX_NOT_CONFIGURED, 'No value for EDITOR defined');
  if (editor === '') throw new ToolError(EX_OSFILE, `Could not invoke EDITOR ( ${file}): No such file or directory`);
  const r = spawnSync(editor, [file], { stdio: 'inherit', argv0: '--' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : r.error.message;
    throw new ToolError(EX_OSFILE, `Could not invoke EDITOR (${editor} ${file}): ${why}`);
  }
  // A signal ends the editor as it would have ended crm_shadow (the shell's 128+N).
  return r.status ?? 128 + (r.signal ? (osSignals[r.signal] ?? 0) : 0);
}

async function crmShadow(f: ShadowFlags): Promise<number> {
  const commands = (['create', 'createEmpty', 'reset', 'delete', 'commit', 'switch', 'which', 'display', 'edit', 'diff', 'file'] as const).filter((c) => f[c] !== undefined && f[c] !== false);
  if (commands.length === 0) throw new ToolError(CRM_EX.usage, 'give a query or a command (see --help)');
  if (commands.length > 1) throw new ToolError(CRM_EX.usage, `only one query or command at a time (got ${commands.join(', ')})`);
  const out = (s: string): void => void process.stdout.write(s);
  switch (commands[0]!) {
    case 'which':
      out(`${activeName()}\n`);
      return CRM_EX.ok;
    case 'file':
      out(`${shadowFile(activeName())}\n`);
      return CRM_EX.ok;
    case 'display':
      out(readShadow(activeName()));
      return CRM_EX.ok;
    case 'edit': {
      const name = activeName();
      readShadow(name);
      return editShadow(shadowFile(name));
    }
    case 'switch':
      readShadow(f.switch!);
      out(`To switch to the named shadow instance, paste the following into your shell:\n  CIB_shadow=${f.switch!} ; export CIB_shadow\n`);
      return CRM_EX.ok;
    case 'createEmpty': {
      const schema = f.validateWith ?? 'pacemaker-3.9';
      createShadow(f.createEmpty!, emptyShadowCib(schema), undefined, f.force === true);
      out(`Created new ${schema} configuration\n`);
      return useShadow(f.createEmpty!, f.batch === true);
    }
    case 'create': {
      const name = f.create!;
      if (existsSync(shadowFile(name)) && !f.force) createShadow(name, '', undefined, false);
      const live = await withApi(f.socket, liveCibText);
      createShadow(name, live.text, live.version, true);
      return useShadow(name, f.batch === true);
    }
    case 'reset': {
      const name = f.reset!;
      readShadow(name);
      const live = await withApi(f.socket, liveCibText);
      createShadow(name, live.text, live.version, true);
      return CRM_EX.ok;
    }
    case 'delete':
      if (!f.force) throw new ToolError(CRM_EX.usage, DANGEROUS);
      rmSync(shadowFile(f.delete!), { force: true });
      rmSync(baseFile(f.delete!), { force: true });
      out('Please remember to unset the CIB_shadow variable by pasting the following into your shell:\n  unset CIB_shadow\n');
      return CRM_EX.ok;
    case 'commit':
      if (!f.force) throw new ToolError(CRM_EX.usage, DANGEROUS);
      readShadow(f.commit!);
      return withApi(f.socket, (api) => commit(api, f.commit!, f.all === true));
    case 'diff': {
      const name = activeName();
      return withApi(f.socket, (api) => diff(api, name));
    }
  }
}

export function registerCrmShadow(program: Command): void {
  program
    .command('crm_shadow')
    .description('shadow copies of the CIB to change offline and commit, as crm_shadow does')
    .exitOverride()
    .option('-w, --which', 'the active shadow copy ($CIB_shadow)')
    .option('-p, --display', 'the contents of the active shadow copy')
    .option('-E, --edit', 'edit the active shadow copy with $EDITOR')
    .option('-d, --diff', 'the changes in the active shadow copy (against the live CIB)')
    .option('-F, --file', 'the file of the active shadow copy')
    .option('-c, --create <NAME>', 'a shadow copy of the live CIB')
    .option('-e, --create-empty <NAME>', 'a shadow copy with an empty configuration')
    .option('-C, --commit <NAME>', 'upload the shadow copy to the cluster (needs --force)')
    .option('-D, --delete <NAME>', 'delete the shadow copy (needs --force)')
    .option('-r, --reset <NAME>', 'copy the live CIB into the shadow copy again')
    .option('-s, --switch <NAME>', 'how to switch to the shadow copy')
    .option('-f, --force', 'allow dangerous commands, overwrite an existing copy')
    .option('-b, --batch', 'print how to use the new copy instead of starting a shell')
    .option('-a, --all', 'commit the whole CIB, status included')
    .option('-v, --validate-with <SCHEMA>', 'the schema of an empty copy (default pacemaker-3.9)')
    .option('-V, --verbose', 'more debug output (accepted; crm_shadow logs it)')
    .option('--socket <PATH>', 'the node API socket')
    .action(async (f: ShadowFlags) => {
      // crm_shadow prints its messages without the tool's name in front.
      try {
        process.exitCode = await crmShadow(f);
      } catch (e) {
        if (e instanceof ToolError && e.exitCode !== CRM_EX.disconnect) {
          process.stderr.write(`${e.message}\n`);
          process.exitCode = e.exitCode;
        } else await runTool('crm_shadow', () => Promise.reject(e));
      }
    });
}
