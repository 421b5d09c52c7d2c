/**
 * `paceline crm_verify`: check a CIB as crm_verify 2.1.5 does: -x FILE, -X STRING, -p (stdin),
 * -L (the live CIB through the node API), -V/-VV verbosity, --output-as=text|xml.
 *
 * The check has crm_verify's two stages. First the schema stage (the errors @paceline/cib's
 * validation classes as schema violations: duplicate ids, missing attributes, dangling IDREFs,
 * bad enum values...), printed whatever the verbosity as libxml2 prints them
 * (`FILE:LINE: element TAG: Relax-NG validity error : ...`); a CIB failing it is not scheduled.
 * Then the scheduler stage: a full scheduler run, with Pacemaker's configuration errors (no
 * fencing device, duplicate operations, invalid cluster option values, target-role of a
 * non-promotable resource...) and the processing warnings that make crm_verify say "Warnings
 * found" (nodes scheduled for fencing, unclean nodes, recorded failures, deprecated features).
 *
 * Output (stderr) and exit codes are crm_verify's: errors at -V, warnings at -VV, then
 * "crm_verify: Errors found during check: config not valid" or "crm_verify: Warnings found during
 * check: config may not be valid" (with "-V may provide more details" without -V) and exit 78
 * (CRM_EX_CONFIG); nothing and 0 for a clean CIB; 1 for input that cannot be read; 64 for usage.
 * The schema messages are paceline's own wording in libxml2's shape, not libxml2's exact text.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiError } from '@paceline/controller';
import { childElements, firstChild, parseXml, readCib, validateCib, XmlSyntaxError, type Diagnostic, type XmlElement } from '@paceline/cib';
import { schedule } from '@paceline/scheduler';
import { CRM_EX, ToolError, apiSocket, withApi } from './live.js';

/** One line crm_verify prints, with the verbosity it needs (0: always). */
export interface VerifyLine {
  readonly level: 0 | 1 | 2 | 3;
  readonly text: string;
}

/** What checking one CIB found. */
export interface VerifyResult {
  /** Every line, in order; `linesAt` keeps those a verbosity shows. */
  readonly lines: readonly VerifyLine[];
  /** A configuration error (schema or scheduler): "Errors found". */
  readonly errors: boolean;
  /** A processing or configuration warning: "Warnings found" (when there is no error). */
  readonly warnings: boolean;
}

/** Validation codes that are schema violations in Pacemaker (libxml2 reports them, the CIB is not scheduled). */
const SCHEMA_CODES = new Set(['cib-root', 'cib-no-configuration', 'id-duplicate', 'attribute-missing', 'ref-unknown-id', 'score-invalid', 'value-invalid', 'group-empty', 'clone-empty', 'ref-unknown-resource', 'location-no-target']);

/** The line of the first `<tag ... id="id"` in `text` (1-based), 0 when not found (libxml2 prints 0 then too). */
function lineOf(text: string, tag: string, id: string | undefined): number {
  const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(id === undefined ? `<${esc(tag)}[\\s/>]` : `<${esc(tag)}\\s[^>]*\\bid=["']${esc(id)}["']`);
  const m = re.exec(text);
  if (!m) return 0;
  let line = 1;
  for (let i = 0; i < m.index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** A schema diagnostic as libxml2 shapes it: IDREFs as DTD-style validity errors, the rest as Relax-NG ones. */
function schemaLine(d: Diagnostic, text: string, source: string | undefined): string {
  const line = lineOf(text, d.element, d.id);
  const where = source === undefined ? `Entity: line ${line}` : `${source}:${line}`;
  const idref = /^(\S+)="([^"]*)"/.exec(d.message);
  if (d.code === 'ref-unknown-resource' && idref) return `${where}: element ${d.element}: validity error : IDREF attribute ${idref[1]} references an unknown ID "${idref[2]}"`;
  return `${where}: element ${d.element}: Relax-NG validity error : ${d.message}`;
}

const err = (fn: string, text: string): VerifyLine => ({ level: 1, text: `(${fn}) \terror: ${text}` });
const warn = (fn: string, text: string): VerifyLine => ({ level: 2, text: `(${fn}) \twarning: ${text}` });

/** The scheduler stage's configuration errors, in Pacemaker's words, from the validation's findings. */
function configErrors(diags: readonly Diagnostic[], cib: XmlElement): VerifyLine[] {
  const out: VerifyLine[] = [];
  for (const d of diags) {
    if (d.severity !== 'error' || SCHEMA_CODES.has(d.code)) continue;
    switch (d.code) {
      case 'fencing-no-device':
        out.push(
          err('unpack_resources', 'Resource start-up disabled since no STONITH resources have been defined'),
          err('unpack_resources', 'Either configure some or disable STONITH with the stonith-enabled option'),
          err('unpack_resources', 'NOTE: Clusters with shared data need STONITH to ensure data integrity'),
        );
        break;
      case 'op-duplicate': {
        const m = /^operation (\S*) duplicates (\S*)/.exec(d.message);
        const line = err('is_op_dup', `Operation ${m?.[1] ?? d.id ?? ''} is duplicate of ${m?.[2] ?? ''} (do not use same name and interval combination more than once per resource)`);
        out.push(line, line); // Pacemaker checks the operations twice (unpacking and creating actions).
        break;
      }
      case 'target-role-not-promotable': {
        const m = /^target-role "([^"]*)" of (\S+)/.exec(d.message);
        out.push(err('get_target_role', `Ignoring 'target-role' for ${m?.[2] ?? ''} because '${m?.[1] ?? ''}' only makes sense for promotable clones`));
        break;
      }
      case 'option-value-invalid': {
        const name = /^([^:]+):/.exec(d.message)?.[1] ?? '';
        const value = d.id !== undefined ? (findById(cib, d.id)?.attrs['value'] ?? '') : '';
        out.push(err('cluster_option_value', `Using default value for cluster option '${name}' because '${value}' is invalid`));
        break;
      }
      case 'op-on-fail-stop': {
        const rsc = /actions of (\S+) \(/.exec(d.message)?.[1] ?? '';
        out.push(err('unpack_operation_on_fail', `Resetting 'on-fail' for ${rsc} stop action to default value because 'stop' is not allowed for stop`));
        break;
      }
      default:
        out.push(err('pcmk__config_err', `${d.id !== undefined ? `${d.element} ${d.id}: ` : ''}${d.message}`));
    }
  }
  return out;
}

function findById(el: XmlElement, id: string): XmlElement | undefined {
  if (el.attrs['id'] === id) return el;
  for (const c of childElements(el)) {
    const f = findById(c, id);
    if (f) return f;
  }
  return undefined;
}

function* walk(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of childElements(el)) yield* walk(c);
}

const RESOURCE_TAGS = new Set(['primitive', 'group', 'clone', 'master', 'bundle']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off', 'n']);

/** Deprecated features Pacemaker 2.1.5 warns about while unpacking (pe_warn_once: they count as warnings). */
function deprecations(cib: XmlElement): VerifyLine[] {
  const out: VerifyLine[] = [];
  const configuration = firstChild(cib, 'configuration');
  if (!configuration) return out;
  let warnedGroup = false;
  let warnedRestart = false;
  // Meta-attributes of a clone reach the group inside it, as Pacemaker unpacks children.
  const visit = (el: XmlElement, inherited: ReadonlyMap<string, string>): void => {
    if (!RESOURCE_TAGS.has(el.name)) return;
    const meta = new Map(inherited);
    for (const set of childElements(el, 'meta_attributes')) for (const p of childElements(set, 'nvpair')) if (p.attrs['name'] && p.attrs['value'] !== undefined) meta.set(p.attrs['name'], p.attrs['value']);
    if (el.name === 'group' && !warnedGroup) {
      for (const flag of ['ordered', 'collocated']) {
        // Only turning the flag off is deprecated (set_group_flag).
        if (!warnedGroup && FALSE_WORDS.has((meta.get(flag) ?? 'true').toLowerCase())) {
          warnedGroup = true;
          out.push(warn('set_group_flag', `Support for the '${flag}' group meta-attribute is deprecated and will be removed in a future release (use a resource set instead)`));
        }
      }
    }
    if (!warnedRestart && meta.has('restart-type')) {
      warnedRestart = true;
      out.push(warn('pe__unpack_resource', 'Support for restart-type is deprecated and will be removed in a future release'));
    }
    for (const c of childElements(el)) visit(c, meta);
  };
  for (const top of childElements(firstChild(configuration, 'resources') ?? configuration)) visit(top, new Map());
  for (const set of childElements(firstChild(configuration, 'crm_config') ?? configuration, 'cluster_property_set')) {
    for (const p of childElements(set, 'nvpair')) {
      if (p.attrs['name'] === 'stonith-action' && p.attrs['value'] === 'poweroff') {
        out.push(warn('unpack_config', "Support for stonith-action of 'poweroff' is deprecated and will be removed in a future release (use 'off' instead)"));
      }
    }
  }
  return out;
}

/**
 * A resource's `priority` meta-attribute with characters after its integer ("1.0"): Pacemaker
 * parses it with scan_ll while unpacking the resources and warns, once per resource.
 */
function priorityLeftovers(cib: XmlElement): VerifyLine[] {
  const out: VerifyLine[] = [];
  const resources = firstChild(firstChild(cib, 'configuration') ?? cib, 'resources');
  const visit = (el: XmlElement): void => {
    if (!RESOURCE_TAGS.has(el.name)) return;
    for (const set of childElements(el, 'meta_attributes')) {
      for (const p of childElements(set, 'nvpair')) {
        const m = p.attrs['name'] === 'priority' ? /^\s*[+-]?\d+(.+)$/s.exec(p.attrs['value'] ?? '') : null;
        if (m) out.push(warn('scan_ll', `Characters left over after parsing '${p.attrs['value']}': '${m[1]}'`));
      }
    }
    for (const c of childElements(el)) visit(c);
  };
  for (const top of resources ? childElements(resources) : []) visit(top);
  return out;
}

/**
 * Whether an ordering with require-all=false has a clone first: Pacemaker warns that this is
 * deprecated (get_minimum_first_instances, only reached for clones).
 */
function requireAllFalseOnClone(cib: XmlElement): boolean {
  const configuration = firstChild(cib, 'configuration');
  const clones = new Set<string>();
  for (const el of configuration ? walk(configuration) : []) if ((el.name === 'clone' || el.name === 'master') && el.attrs['id']) clones.add(el.attrs['id']);
  const constraints = configuration ? firstChild(configuration, 'constraints') : undefined;
  for (const c of constraints ? childElements(constraints, 'rsc_order') : []) {
    const v = c.attrs['require-all'];
    if (v !== undefined && FALSE_WORDS.has(v.toLowerCase()) && clones.has(c.attrs['first'] ?? '')) return true;
  }
  return false;
}

/** Pacemaker's "Mon DD HH:MM:SS YYYY"-less-weekday date of a failure (pcmk__epoch2str), UTC offsets as local time. */
function failureTime(epoch: string | undefined): string {
  const n = Number.parseInt(epoch ?? '', 10);
  if (!Number.isFinite(n) || n <= 0) return 'unknown time';
  const d = new Date(n * 1000);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (x: number): string => String(x).padStart(2, '0');
  return `${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

/** An OCF exit code in words (services_ocf_exitcode_str of Pacemaker 2.1.5). */
const OCF_RC_WORDS: Readonly<Record<string, string>> = {
  '0': 'ok',
  '1': 'error',
  '2': 'invalid parameter',
  '3': 'unimplemented feature',
  '4': 'insufficient privileges',
  '5': 'not installed',
  '6': 'not configured',
  '7': 'not running',
  '8': 'promoted',
  '9': 'promoted (failed)',
  '190': 'degraded',
  '191': 'promoted (degraded)',
};

/** The scheduler stage: Pacemaker's messages for what a run over the CIB finds. */
function schedulerStage(root: XmlElement, diags: readonly Diagnostic[]): { lines: VerifyLine[]; errors: boolean; warnings: boolean } {
  const all = configErrors(diags, root);
  // Cluster options are read first (unpack_config): their errors come before everything else.
  const lines: VerifyLine[] = all.filter((l) => l.text.startsWith('(cluster_option_value)'));
  const cfgErrors = all.filter((l) => !l.text.startsWith('(cluster_option_value)'));
  let warnings = false;
  const cib = readCib(root);
  const result = schedule(cib);
  const state = result.state;
  const opts = state.options;
  if (!state.stonithEnabled || opts.get('startup-fencing') === 'false') lines.push(warn('unpack_config', 'Blind faith: not fencing unseen nodes'));
  const dep = deprecations(root);
  if (dep.length) warnings = true;
  lines.push(...dep.filter((l) => l.text.startsWith('(unpack_config)')));
  if (!state.haveQuorum && (opts.get('no-quorum-policy') ?? 'stop') !== 'ignore') lines.push(warn('cluster_status', 'Fencing and resource management disabled due to lack of quorum'));
  lines.push(...priorityLeftovers(root));
  for (const n of state.nodes) if (n.unclean) lines.push(warn('determine_online_status', `${n.name} is unclean`));
  lines.push(...dep.filter((l) => !l.text.startsWith('(unpack_config)')));
  for (const r of state.resources) {
    if (!r.orphan || r.variant !== 'primitive') continue;
    for (const n of r.runningOn) {
      warnings = true;
      lines.push(warn('process_rsc_state', `Detected active orphan ${r.id} running on ${n}`));
    }
  }
  if (requireAllFalseOnClone(root)) {
    warnings = true;
    lines.push(warn('get_minimum_first_instances', 'Support for require-all in ordering constraints is deprecated and will be removed in a future release (use clone-min clone meta-attribute instead)'));
  }
  for (const ns of cib.status?.nodeStates ?? []) {
    for (const lr of ns.lrm?.resources ?? []) {
      for (const op of lr.ops) {
        // A plain warning in Pacemaker: it does not make crm_verify report "Warnings found".
        if (op.id !== `${lr.id}_last_failure_0`) continue;
        const probe = op.operation === 'monitor' && (op.interval ?? '0') === '0';
        // The result expected (the transition key's target rc), or a probe finding the resource
        // stopped, running or promoted: not a failure when unpacked, no warning.
        const target = (op.transitionKey ?? '').split(':')[2];
        if (op.rcCode === target || (probe && ['0', '7', '8'].includes(op.rcCode ?? ''))) continue;
        const rc = `${OCF_RC_WORDS[op.rcCode ?? ''] ?? 'unknown'}${op.exitReason ? `: ${op.exitReason}` : ''}`;
        const task = probe ? 'probe' : (op.operation ?? '?');
        lines.push(warn('unpack_rsc_op_failure', `Unexpected result (${rc}) was recorded for ${task} of ${lr.id} on ${ns.uname ?? ns.id} at ${failureTime(op.lastRcChange)} | rc=${op.rcCode ?? '?'} id=${op.id}`));
      }
    }
  }
  for (const d of result.diagnostics) {
    if (d.severity === 'error') cfgErrors.push(err('pcmk__config_err', d.message));
    else if (d.severity === 'warning') {
      warnings = true;
      lines.push(warn('pcmk__config_warn', d.message));
    }
  }
  lines.push(...cfgErrors);
  const fenced = new Set(result.transition.summary.filter((x) => x.change === 'Fence').map((x) => x.to));
  for (const n of state.nodes) {
    if (!n.unclean || fenced.has(n.name) || n.kind === 'guest') continue;
    warnings = true;
    lines.push(warn('schedule_fencing_and_shutdowns', `Node ${n.name} is unclean but cannot be fenced`));
  }
  for (const s of result.transition.summary) {
    // Guests are "fenced" by recovering their guest resource: no fencing scheduled for them.
    if (s.change !== 'Fence' || s.to === undefined || s.fenceResource !== undefined || state.nodeByName.get(s.to)?.kind === 'guest') continue;
    warnings = true;
    lines.push(warn('schedule_fencing', `Scheduling node ${s.to} for fencing`));
  }
  return { lines, errors: all.length > 0 || cfgErrors.length > 0, warnings };
}

/**
 * Checks CIB text as crm_verify does. `source` is the file name libxml2 puts before schema errors
 * (undefined for a string or stdin: "Entity: line N"). Never throws for a bad CIB; unparsable XML
 * is an error found (Pacemaker then checks what it could parse, paceline stops there).
 */
export function verifyCibText(text: string, source?: string): VerifyResult {
  let root: XmlElement;
  try {
    root = parseXml(text).root;
  } catch (e) {
    const what = e instanceof XmlSyntaxError ? `${e.message} (line ${e.line}, column ${e.column})` : e instanceof Error ? e.message : String(e);
    return { lines: [err('filename2xml', `Couldn't fully parse ${source ?? 'the input'}: ${what}`)], errors: true, warnings: false };
  }
  const diags = validateCib(root);
  const schema = diags.filter((d) => d.severity === 'error' && SCHEMA_CODES.has(d.code));
  if (schema.length > 0) {
    return { lines: [...schema.map((d): VerifyLine => ({ level: 0, text: schemaLine(d, text, source) })), err('main', 'CIB did not pass schema validation')], errors: true, warnings: false };
  }
  try {
    return schedulerStage(root, diags);
  } catch (e) {
    return { lines: [err('cluster_status', `the CIB could not be unpacked: ${e instanceof Error ? e.message : String(e)}`)], errors: true, warnings: false };
  }
}

/** The exit code and the closing lines of a check, as crm_verify ends. */
export function verifyOutcome(r: VerifyResult, verbosity: number): { exitCode: number; lines: string[] } {
  const lines = r.lines.filter((l) => l.level <= verbosity).map((l) => l.text);
  if (!r.errors && !r.warnings) return { exitCode: CRM_EX.ok, lines };
  lines.push(r.errors ? 'crm_verify: Errors found during check: config not valid' : 'crm_verify: Warnings found during check: config may not be valid');
  if (verbosity === 0) lines.push('-V may provide more details');
  return { exitCode: CRM_EX.config, lines };
}

const STATUS_MESSAGE: Readonly<Record<number, string>> = { 0: 'OK', 1: 'Error occurred', 64: 'Incorrect usage', 66: 'Input file not available', 78: 'Invalid configuration', 102: 'Not connected' };

interface VerifyFlags {
  xmlFile?: string;
  xmlText?: string;
  xmlPipe?: boolean;
  liveCheck?: boolean;
  verbose: number;
  outputAs: string;
  socket?: string;
}

/** Where the CIB comes from, and its text: a ToolError with crm_verify's message when it cannot be read. */
async function readSource(f: VerifyFlags): Promise<{ text: string; source: string | undefined }> {
  const given = [f.xmlFile !== undefined, f.xmlText !== undefined, f.xmlPipe === true, f.liveCheck === true].filter(Boolean).length;
  if (given === 0) throw new ToolError(CRM_EX.error, 'No configuration source specified.  Use --help for usage information.');
  if (given > 1) throw new ToolError(CRM_EX.usage, 'give one configuration source (-x, -X, -p or -L)');
  if (f.xmlText !== undefined) return { text: f.xmlText, source: undefined };
  if (f.xmlFile !== undefined || f.xmlPipe) {
    try {
      return { text: readFileSync(f.xmlPipe ? 0 : f.xmlFile!, 'utf8'), source: f.xmlPipe ? undefined : f.xmlFile };
    } catch {
      throw new ToolError(CRM_EX.error, `Couldn't parse input file: ${f.xmlPipe ? '-' : f.xmlFile}`);
    }
  }
  try {
    const q = await withApi(f.socket, (api) => api.request('cib.query', {}));
    return { text: q.xml, source: undefined };
  } catch (e) {
    if (e instanceof ToolError || e instanceof ApiError) throw new ToolError(CRM_EX.noInput, `CIB query failed: ${e instanceof ApiError ? `${e.message} (${e.code})` : `Input file not available (${apiSocket(f.socket)})`}`);
    throw e;
  }
}

/** crm_verify's XML result: only the status (crm_verify 2.1.5 prints its messages on stderr). */
function xmlResult(argv: readonly string[], code: number): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<pacemaker-result api-version="2.25" request="${esc(['crm_verify', ...argv].join(' '))}">\n  <status code="${code}" message="${esc(STATUS_MESSAGE[code] ?? 'Error occurred')}"/>\n</pacemaker-result>\n`;
}

/** Runs crm_verify with parsed flags; returns the exit code (output written to stdout/stderr). */
export async function runCrmVerify(f: VerifyFlags, argv: readonly string[]): Promise<number> {
  if (f.outputAs !== 'text' && f.outputAs !== 'xml') {
    process.stderr.write(`crm_verify: Error creating output format ${f.outputAs}: Unknown output format\n`);
    return CRM_EX.error;
  }
  let code: number;
  try {
    const { text, source } = await readSource(f);
    const outcome = verifyOutcome(verifyCibText(text, source), f.verbose);
    if (outcome.lines.length) process.stderr.write(`${outcome.lines.join('\n')}\n`);
    code = outcome.exitCode;
  } catch (e) {
    if (!(e instanceof ToolError)) throw e;
    process.stderr.write(`crm_verify: ${e.message}\n`);
    code = e.exitCode;
  }
  if (f.outputAs === 'xml') process.stdout.write(xmlResult(argv, code));
  return code;
}

export function registerCrmVerify(program: Command): void {
  program
    .command('crm_verify')
    .description('check a CIB for configuration problems, as crm_verify does')
    .exitOverride()
    .option('-x, --xml-file <FILE>', 'check the CIB in FILE')
    .option('-X, --xml-text <XML>', 'check the CIB given as a string')
    .option('-p, --xml-pipe', 'check the CIB read from stdin')
    .option('-L, --live-check', 'check the running cluster\'s CIB (through the node API)')
    .option('-V, --verbose', 'more details (-VV: warnings too)', (_v: string, prev: number) => prev + 1, 0)
    .option('--output-as <FORMAT>', 'text or xml', 'text')
    .option('--socket <PATH>', 'the node API socket (with -L)')
    .action(async (raw: Record<string, unknown>, cmd: Command) => {
      const f: VerifyFlags = {
        verbose: Number(raw['verbose'] ?? 0),
        outputAs: String(raw['outputAs']),
        ...(typeof raw['xmlFile'] === 'string' ? { xmlFile: raw['xmlFile'] } : {}),
        ...(typeof raw['xmlText'] === 'string' ? { xmlText: raw['xmlText'] } : {}),
        ...(raw['xmlPipe'] === true ? { xmlPipe: true } : {}),
        ...(raw['liveCheck'] === true ? { liveCheck: true } : {}),
        ...(typeof raw['socket'] === 'string' ? { socket: raw['socket'] } : {}),
      };
      process.exitCode = await runCrmVerify(f, cmd.parent ? process.argv.slice(process.argv.indexOf('crm_verify') + 1) : []);
    });
}
