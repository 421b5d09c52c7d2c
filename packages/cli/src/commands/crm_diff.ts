/**
 * `paceline crm_diff`: compare two CIBs and print the patch between them, or apply a patch, as
 * crm_diff 2.1.5 does, in Pacemaker's v2 patchset format (@paceline/cib's diffCib/applyPatch).
 *
 *   -o FILE / -O STRING   the original
 *   -n FILE / -N STRING   the new one: print the patch; exit 1 when they differ, 0 when the same
 *   -p FILE               apply the patch to the original and print the result (exit 0)
 *   -c, --cib             as CIBs: the patch gets the target's digest; applying checks the version
 *   -u, --no-version      leave out the version block
 *
 * Errors: unreadable or unparsable input exits 65 ("Could not parse the first/second XML
 * fragment"), a patch that does not apply prints "Could not apply patch: REASON" and exits with
 * the CIB error's code (103 for an older version, 1 when a change fails). Only CIBs (documents
 * with the same root) are compared: Pacemaker's format 1 for other XML is not written.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { applyPatch, diffCib, parseXml, patchChanges, withPatchDigest, writeElement, type XmlElement, type XmlNode } from '@paceline/cib';
import { CRM_EX } from './live.js';

/** What crm_diff was asked for (one original, and new XML or a patch). */
export interface CrmDiffRequest {
  readonly original: { readonly file?: string; readonly text?: string };
  readonly next?: { readonly file?: string; readonly text?: string };
  readonly patchFile?: string;
  readonly asCib?: boolean;
  readonly noVersion?: boolean;
}

/** What crm_diff prints and how it ends. */
export interface CrmDiffOutcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

function load(src: { readonly file?: string; readonly text?: string }): XmlElement | undefined {
  try {
    const text = src.text ?? readFileSync(src.file!, 'utf8');
    return parseXml(text).root;
  } catch {
    return undefined;
  }
}

function olderThan308(featureSet: string | undefined): boolean {
  const [a = 0, b = 0, c = 0] = (featureSet ?? '0').split('.').map((x) => Number.parseInt(x, 10) || 0);
  return a < 3 || (a === 3 && b === 0 && c < 8);
}

const fail = (exitCode: number, stderr: string): CrmDiffOutcome => ({ exitCode, stdout: '', stderr: `${stderr}\n` });

const VERSION_ATTRS = new Set(['admin_epoch', 'epoch', 'num_updates']);

/** A change without its version-attribute updates of the root (crm_diff --no-version); none left: dropped. */
function withoutVersionChange(change: XmlElement, rootName: string): XmlElement[] {
  if (change.attrs['operation'] !== 'modify' || change.attrs['path'] !== `/${rootName}`) return [change];
  const list = change.children.find((c): c is XmlElement => c.kind === 'element' && c.name === 'change-list');
  if (!list) return [change];
  const kept = list.children.filter((c) => !(c.kind === 'element' && VERSION_ATTRS.has(c.attrs['name'] ?? '')));
  if (!kept.some((c) => c.kind === 'element')) return [];
  return [{ ...change, children: change.children.map((c) => (c === list ? { ...list, children: kept } : c)) }];
}

/** The patch `a` → `b` as crm_diff prints it (undefined when there is no change). */
export function crmDiffPatch(a: XmlElement, b: XmlElement, opts: { asCib?: boolean; noVersion?: boolean } = {}): XmlElement | undefined {
  let patch = diffCib(a, b);
  if (patchChanges(patch).length === 0) return undefined;
  if (opts.noVersion) {
    patch = { ...patch, children: patch.children.filter((c) => !(c.kind === 'element' && c.name === 'version')).flatMap((c): XmlNode[] => (c.kind === 'element' ? withoutVersionChange(c, a.name) : [c])) };
    if (patchChanges(patch).length === 0) return undefined;
  }
  else if (opts.asCib) patch = withPatchDigest(patch, b);
  return patch;
}

/** Runs one crm_diff request (reads the files it names; writes nothing). */
export function runCrmDiff(req: CrmDiffRequest): CrmDiffOutcome {
  const a = load(req.original);
  if (!a) return fail(CRM_EX.dataErr, 'Could not parse the first XML fragment');
  if (req.patchFile !== undefined) {
    const patch = load({ file: req.patchFile });
    if (!patch) return fail(CRM_EX.dataErr, 'Could not parse the second XML fragment');
    const r = applyPatch(a, patch, { checkVersion: req.asCib === true });
    if (!r.ok) return fail(r.error.exitCode, `Could not apply patch: ${r.error.message}`);
    return { exitCode: CRM_EX.ok, stdout: `${writeElement(r.value).trimEnd()}\n`, stderr: '' };
  }
  const b = req.next ? load(req.next) : undefined;
  if (!b) return fail(CRM_EX.dataErr, 'Could not parse the second XML fragment');
  if (a.name !== b.name || a.attrs['id'] !== b.attrs['id']) {
    return fail(CRM_EX.dataErr, `crm_diff: the documents have different roots (<${a.name}> and <${b.name}>): only CIBs are compared (format 2)`);
  }
  const patch = crmDiffPatch(a, b, req);
  if (!patch) return { exitCode: CRM_EX.ok, stdout: '', stderr: '' };
  // Pacemaker writes format 1 when the original is older than feature set 3.0.8; paceline only format 2.
  const old = olderThan308(a.attrs['crm_feature_set']) ? `crm_diff: the original's crm_feature_set (${a.attrs['crm_feature_set'] ?? 'none'}) is older than 3.0.8: Pacemaker would write a format 1 patch, this is format 2\n` : '';
  return { exitCode: CRM_EX.error, stdout: `${writeElement(patch).trimEnd()}\n`, stderr: old };
}

interface DiffFlags {
  original?: string;
  originalString?: string;
  new?: string;
  newString?: string;
  patch?: string;
  cib?: boolean;
  noVersion?: boolean;
}

export function registerCrmDiff(program: Command): void {
  program
    .command('crm_diff')
    .description('compare two CIBs (the v2 patch between them) or apply a patch, as crm_diff does')
    .exitOverride()
    .option('-o, --original <FILE>', 'the original XML, from FILE')
    .option('-O, --original-string <STRING>', 'the original XML, given as a string')
    .option('-n, --new <FILE>', 'compare the original with the XML in FILE')
    .option('-N, --new-string <STRING>', 'compare the original with the XML given as a string')
    .option('-p, --patch <FILE>', 'apply the patch in FILE to the original')
    .option('-c, --cib', 'compare/patch the inputs as a CIB (digest, version check)')
    .option('-u, --no-version', 'leave the version details out of the patch')
    .action((raw: DiffFlags & { version?: boolean }) => {
      const f: DiffFlags = { ...raw, noVersion: raw.version === false };
      const die = (msg: string): void => {
        process.stderr.write(`crm_diff: ${msg}\n`);
        process.exitCode = CRM_EX.usage;
      };
      if ((f.original === undefined) === (f.originalString === undefined)) return die('give the original XML with -o FILE or -O STRING');
      const ops = [f.new !== undefined, f.newString !== undefined, f.patch !== undefined].filter(Boolean).length;
      if (ops !== 1) return die('give one of -n FILE, -N STRING or -p PATCH');
      const out = runCrmDiff({
        original: f.original !== undefined ? { file: f.original } : { text: f.originalString! },
        ...(f.new !== undefined ? { next: { file: f.new } } : f.newString !== undefined ? { next: { text: f.newString } } : {}),
        ...(f.patch !== undefined ? { patchFile: f.patch } : {}),
        asCib: f.cib === true,
        noVersion: f.noVersion === true,
      });
      process.stdout.write(out.stdout);
      process.stderr.write(out.stderr);
      process.exitCode = out.exitCode;
    });
}
