/**
 * `paceline cibadmin`: read and change the CIB as cibadmin does. Live, through the local node's
 * API (`cib.query`, `cib.update`); offline on the file named by $CIB_file, or the shadow copy
 * named by $CIB_shadow (the pure cibadmin of
 * @paceline/cib, the file replaced whole).
 *
 *   -Q query   -R replace   -M modify   -C create   -D delete   -E erase (needs --force)
 *   -o SCOPE, --xpath XPATH, -X XML or --xml-file FILE (- for stdin)
 *
 * Exit codes are cibadmin's: 0, 64 usage, 105 no such object, 103 the CIB changed meanwhile,
 * 106 no quorum, 107 erase without --force, 102 no connection, others from the CIB error table.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ApiClient, CibUpdateParams } from '@paceline/controller';
import { cibadmin, childElements, parseXml, writeElement, type CibadminRequest, type XmlElement } from '@paceline/cib';
import { CRM_EX, ToolError, offlineCibFile, replaceFile, runTool, withApi, withSocketOption } from './live.js';

type Op = 'query' | 'replace' | 'modify' | 'create' | 'delete' | 'erase';

interface CibadminFlags {
  query?: boolean;
  replace?: boolean;
  modify?: boolean;
  create?: boolean;
  delete?: boolean;
  erase?: boolean;
  force?: boolean;
  scope?: string;
  xpath?: string;
  xmlText?: string;
  xmlFile?: string;
  socket?: string;
}

/** The one operation the flags name; a usage error for none or several. */
function opOf(f: CibadminFlags): Op {
  const ops = (['query', 'replace', 'modify', 'create', 'delete', 'erase'] as const).filter((o) => f[o] === true);
  if (ops.length === 0) throw new ToolError(CRM_EX.usage, 'one of -Q, -R, -M, -C, -D, -E is required (see --help)');
  if (ops.length > 1) throw new ToolError(CRM_EX.usage, `only one operation at a time (got ${ops.map((o) => `--${o}`).join(', ')})`);
  return ops[0]!;
}

/** The -X / --xml-file input, checked to be XML; undefined when none was given. */
function inputXml(f: CibadminFlags): string | undefined {
  if (f.xmlText !== undefined && f.xmlFile !== undefined) throw new ToolError(CRM_EX.usage, 'give the XML with -X or --xml-file, not both');
  let text = f.xmlText;
  if (f.xmlFile !== undefined) {
    try {
      text = readFileSync(f.xmlFile === '-' ? 0 : f.xmlFile, 'utf8');
    } catch (e) {
      throw new ToolError(CRM_EX.noInput, `cannot read ${f.xmlFile}: ${(e as Error).message}`);
    }
  }
  if (text === undefined) return undefined;
  try {
    parseXml(text);
  } catch (e) {
    throw new ToolError(CRM_EX.dataErr, `Couldn't parse input string: ${e instanceof Error ? e.message : String(e)}`);
  }
  return text.trim();
}

/** The CIB of an erase: the configuration's sections emptied (the node list kept), as createEmptyCib leaves it. */
function erasedConfiguration(current: XmlElement): string {
  const nodes = childElements(current, 'nodes')[0];
  return `<configuration><crm_config/>${nodes ? writeElement(nodes, { indentSpaces: 0 }) : '<nodes/>'}<resources/><constraints/></configuration>`;
}

/** The live run: one API request. */
async function live(api: ApiClient, op: Op, f: CibadminFlags, xml: string | undefined): Promise<number> {
  if (op === 'query') {
    const q = await api.request('cib.query', { ...(f.scope ? { scope: f.scope } : {}), ...(f.xpath ? { xpath: f.xpath } : {}) });
    process.stdout.write(`${q.xml.trimEnd()}\n`);
    return CRM_EX.ok;
  }
  if (op === 'erase') {
    const q = await api.request('cib.query', { scope: 'configuration' });
    await api.request('cib.update', { baseVersion: q.version, op: 'replace', scope: 'configuration', xml: erasedConfiguration(parseXml(q.xml).root) });
    return CRM_EX.ok;
  }
  const params: CibUpdateParams = { op, ...(f.scope ? { scope: f.scope } : {}), ...(f.xpath ? { xpath: f.xpath } : {}), ...(xml !== undefined ? { xml } : {}) };
  await api.request('cib.update', params);
  return CRM_EX.ok;
}

/** The offline run on $CIB_file: the pure cibadmin, the file replaced atomically on a change. */
function offline(file: string, op: Op, f: CibadminFlags, xml: string | undefined): number {
  let root: XmlElement;
  try {
    root = parseXml(readFileSync(file, 'utf8')).root;
  } catch (e) {
    throw new ToolError(CRM_EX.noInput, `cannot read the CIB file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const el = xml !== undefined ? parseXml(xml).root : undefined;
  const where = { ...(f.scope ? { scope: f.scope } : {}), ...(f.xpath ? { xpath: f.xpath } : {}) };
  let req: CibadminRequest;
  if (op === 'query') req = { op, ...where };
  else if (op === 'erase') req = { op, force: true };
  else if (op === 'delete') req = { op, ...where, ...(el ? { xml: el } : {}) };
  else req = { op, ...where, xml: el! };
  const r = cibadmin(root, req);
  if (!r.ok) throw new ToolError(r.error.exitCode, `Call failed: ${r.error.message}${r.error.detail ? ` (${r.error.detail})` : ''}`);
  if (op === 'query') {
    process.stdout.write(`${writeElement(r.value.output ?? r.value.cib).trimEnd()}\n`);
    return CRM_EX.ok;
  }
  if (r.value.change !== 'none') {
    replaceFile(file, `${writeElement(r.value.cib)}\n`);
  }
  return CRM_EX.ok;
}

export function registerCibadmin(program: Command): void {
  withSocketOption(
    program
      .command('cibadmin')
      .description('query and change the CIB as cibadmin does (live through the API; offline on $CIB_file)')
      .option('-Q, --query', 'print the CIB (or the scope / xpath)')
      .option('-R, --replace', 'replace the scope (or the matched element) with the XML')
      .option('-M, --modify', 'merge the XML into the matching element')
      .option('-C, --create', 'add the XML to the scope')
      .option('-D, --delete', 'delete the element matching the XML (or the xpath)')
      .option('-E, --erase', 'erase the configuration (needs --force)')
      .option('--force', 'allow dangerous operations (erase)')
      .option('-o, --scope <SCOPE>', 'the CIB section: configuration, nodes, resources, constraints, crm_config, rsc_defaults, op_defaults, status...')
      .option('-A, --xpath <XPATH>', 'the element(s) to act on')
      .option('-X, --xml-text <XML>', 'the XML of the change')
      .option('-x, --xml-file <FILE>', 'read the XML of the change from FILE (- for stdin)'),
  ).action(async (f: CibadminFlags) => {
    await runTool('cibadmin', async () => {
      const op = opOf(f);
      if (op === 'erase' && !f.force) {
        throw new ToolError(CRM_EX.unsafe, 'The supplied command is considered dangerous. To prevent accidental destruction of the cluster, the --force flag is required in order to proceed.');
      }
      const xml = inputXml(f);
      if ((op === 'replace' || op === 'modify' || op === 'create') && xml === undefined) throw new ToolError(CRM_EX.usage, `--${op} needs the XML (-X or --xml-file)`);
      if (op === 'delete' && xml === undefined && f.xpath === undefined) throw new ToolError(CRM_EX.usage, '--delete needs the XML of the element (-X) or --xpath');
      const file = offlineCibFile();
      if (file && f.socket === undefined) return offline(file, op, f, xml);
      return withApi(f.socket, (api) => live(api, op, f, xml));
    });
  });
}
