/**
 * The crmsh 4.4 `configure` grammar: one command's words into its syntax tree.
 *
 * The tree is the same intermediate crmsh's parser builds: CIB-shaped elements without
 * generated ids (`crmsh-ref` marks a child resource to move in, `op` carries `rsc` for the
 * `monitor` command). Ids are filled in afterwards by `ids.ts`, as crmsh's fix_node_ids does.
 * The matching rules (terminators, implicit `params`, tail attributes of constraints, resource
 * sets) follow crmsh/parse.py; errors name the word's line and column and what was expected.
 */
import type { Token } from './lexer.js';
import { parseXml, type XmlElement } from '@paceline/cib';
import { cnode, addChild, elementsOf, fromXml, isComment, type CNode } from './tree.js';

function withoutComments(n: CNode): CNode {
  return { ...n, children: n.children.filter((c) => !isComment(c)).map(withoutComments) };
}

/** True when `validate-with` is the schema pacemaker-MAJOR.MINOR or later (unknown names count as new). */
export function schemaAtLeast(validateWith: string | undefined, [major, minor]: readonly [number, number]): boolean {
  const m = /^pacemaker-(\d+)\.(\d+)$/.exec(validateWith ?? '');
  if (!m) return validateWith === undefined || !/^pacemaker-\d/.test(validateWith);
  const ma = Number(m[1]);
  return ma > major || (ma === major && Number(m[2]) >= minor);
}

/** OCF 1.1 role names (Promoted/Unpromoted) are native from schema pacemaker-3.7 on. */
export function schemaIsOcf11(validateWith: string | undefined): boolean {
  if (validateWith === 'pacemaker-next') return true;
  return /^pacemaker-\d+\.\d+$/.test(validateWith ?? '') && schemaAtLeast(validateWith, [3, 7]);
}

export interface ParseContext {
  /** The CIB's schema supports OCF 1.1 role names (validate-with pacemaker-3.7 or later). */
  readonly ocf11: boolean;
  /** crmsh's resolve_id_ref: an object id given where an attribute list id is meant. */
  readonly resolveIdRef?: (listType: string, id: string) => string;
  /** Node names, for `fencing_topology` without targets. */
  readonly nodeNames?: () => string[];
}

export interface ParseFailure {
  readonly ok: false;
  readonly code: 'syntax';
  readonly message: string;
  readonly line: number;
  readonly column: number;
}
export type ParseResult = { readonly ok: true; readonly node: CNode; readonly warnings: string[] } | ParseFailure;

class Abort extends Error {
  constructor(
    readonly msg: string,
    readonly token: Token | undefined,
  ) {
    super(msg);
  }
}

/** Names and values that come from the Pacemaker schema crmsh reads (pacemaker-2.0 .. 3.x). */
const schema = {
  roles: ['Stopped', 'Started', 'Master', 'Slave', 'Promoted', 'Unpromoted'],
  actions: ['start', 'promote', 'demote', 'stop'],
  orderKinds: ['Mandatory', 'Optional', 'Serialize'],
  expressionTypes: ['string', 'number', 'version', 'integer'],
  dateOps: ['lt', 'gt', 'in_range', 'date_spec', 'spec', 'in'],
  opAttributes: ['id', 'name', 'interval', 'description', 'start-delay', 'interval-origin', 'timeout', 'enabled', 'record-pending', 'role', 'requires', 'on-fail'],
} as const;

const binaryOps = ['lt', 'gt', 'lte', 'gte', 'eq', 'ne'];
const unaryOps = ['defined', 'not_defined'];
const dateSpecNames = ['hours', 'monthdays', 'weekdays', 'yearsdays', 'months', 'weeks', 'years', 'weekyears', 'moon'];
const inRangeAttrs = ['start', 'end'];
const scoreTypes: Record<string, string> = { advisory: '0', mandatory: 'INFINITY' };
const TERMINATORS = ['params', 'meta', 'utilization', 'operations', 'op', 'op_params', 'op_meta', 'rule', 'attributes'];

const re = {
  nvpair: /^([^=@$][^=]*)=(.*)$/s,
  nvpairId: /^\$([^:=]+)(?::(.+))?=(.*)$/s,
  nvpairRef: /^@([^:]+)(?::(.+))?$/s,
  nvpairKey: /^([^:=]+)$/is,
  ident: /^([a-z0-9_#$-][^=]*)$/is,
  dispatch: /^[a-z0-9_]+$/i,
  desc: /^description=(.+)$/is,
  attr: /^\$?([^=]+)=(.*)$/s,
  resource: /^([a-z_#$][^=]*)$/is,
  idspec: /^(\$id-ref|\$id)=(.*)$/is,
  id: /^\$id=(.*)$/is,
  idNew: /^([\w-]+):$/i,
  score: /^([^:]+):$/s,
  role: /^\$?role=(.+)$/is,
  role2: /^role=(.+)$/is,
  boolop: /^(or|and)$/i,
  unaryop: /^(defined|not_defined)$/i,
  aclRight: /^(read|write|deny)$/i,
  roleRef: /^role:(.+)$/is,
  perm: /^([^:]+)(?::(.+))?$/is,
  uname: /^([^:]+)(:(normal|member|ping|remote))?$/is,
  template: /^@(.+)$/s,
  raType: /^[^\s:]+(:[^\s:]+){0,2}$/,
  tag: /^([a-zA-Z_][^\s:]*):?$/,
  target: /^([^:]+):$/,
  targetAttr: /^attr:([\w-]+)=([\w-]+)$/i,
  targetPattern: /^pattern:(.+)$/is,
  binop: new RegExp(`^((string|number|version|integer):)?(${binaryOps.join('|')})$`, 'i'),
  valueSource: /^(?<src>[^\s{}]+)(\{(?<val>\S+)\})?$/,
};

function canonize(value: string, list: readonly string[]): string | undefined {
  const v = value.toLowerCase();
  return list.find((x) => x.toLowerCase() === v);
}

function keywordEq(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

function canonicalBoolean(v: string): string {
  return ['true', 'yes', 'on', '1'].includes(v.toLowerCase()) ? 'true' : 'false';
}

function isBooleanWord(v: string): boolean {
  return ['true', 'yes', 'on', '1', 'false', 'no', 'off', '0'].includes(v.toLowerCase());
}

/**
 * [class:[provider:]]type, as crmsh's disambiguate_ra_type and ra_type_validate take it: at most
 * three parts, the type any non-empty word (`lsb:/usr/lib/x`, `stonith:external/ssh`,
 * `service:name@1`), a provider required for ocf (a bare type is ocf:heartbeat's); crmsh lets a
 * provider through for other classes too, with a warning.
 */
export function splitRaType(s: string): [string, string | undefined, string] | undefined {
  if (!re.raType.test(s)) return undefined;
  const parts = s.split(':');
  if (parts.some((p) => p === '')) return undefined;
  if (parts.length === 1) return ['ocf', 'heartbeat', parts[0]!];
  if (parts.length === 2) {
    if (parts[0] === 'ocf') return undefined;
    return [parts[0]!, undefined, parts[1]!];
  }
  if (parts.length === 3) return [parts[0]!, parts[1], parts[2]!];
  return undefined;
}

/** Parses one command's words (the first is the command name) into its syntax tree. */
export function parseCommand(tokens: readonly Token[], ctx: ParseContext): ParseResult {
  const words = [...tokens];
  // ui_configure's object commands take `id=NAME` for the object id as well.
  if (words.length > 1 && words[1]!.text.startsWith('id=')) words[1] = { ...words[1]!, text: words[1]!.text.slice(3), column: words[1]!.column + 3 };
  const p = new Parser(words, ctx);
  try {
    const node = p.parseTop();
    if (p.hasTokens()) p.err(`Unknown arguments: ${p.rest().join(' ')}`);
    return { ok: true, node, warnings: p.warnings };
  } catch (e) {
    if (!(e instanceof Abort)) throw e;
    const tok = e.token ?? tokens[tokens.length - 1];
    const atEnd = e.token === undefined && tok !== undefined;
    return {
      ok: false,
      code: 'syntax',
      message: e.msg + (e.token ? ` (at '${e.token.text}')` : atEnd ? ' (at end of line)' : ''),
      line: tok?.line ?? 0,
      column: atEnd ? tok.column + tok.text.length : (tok?.column ?? 0),
    };
  }
}

/** The command names the configure grammar knows, with the deprecated aliases crmsh accepts. */
export const configureObjectCommands = [
  'node', 'primitive', 'group', 'clone', 'ms', 'master', 'rsc_template', 'bundle',
  'location', 'colocation', 'collocation', 'order', 'rsc_ticket', 'monitor',
  'property', 'rsc_defaults', 'op_defaults', 'fencing_topology', 'fencing-topology',
  'tag', 'user', 'role', 'acl_target', 'acl_group', 'alert', 'xml',
] as const;

/** Objects `show` checks and may print as `xml <element>` (crmsh cib_cli_map; property and defaults sets are checked apart). */
export const xmlObjectTags: ReadonlySet<string> = new Set([
  'node', 'primitive', 'template', 'group', 'clone', 'master', 'bundle', 'rsc_location', 'rsc_colocation', 'rsc_order', 'rsc_ticket', 'tag', 'alert',
  'acl_role', 'acl_target', 'acl_group', 'acl_user', 'fencing-topology',
]);

/**
 * Elements an `xml` command may give (crmsh's cib_cli_map). crmsh prints a property set it cannot
 * write in crm syntax as `xml <cluster_property_set>`, which reads back; a defaults set it prints
 * as `xml <meta_attributes>`, which neither crmsh nor this parser takes (it cannot tell
 * rsc_defaults from op_defaults), so paceline's show prints it in its section,
 * `xml <rsc_defaults><meta_attributes ...>...</rsc_defaults>`, which both read back.
 */
const xmlCommandTags: ReadonlySet<string> = new Set([...xmlObjectTags, 'cluster_property_set', 'rsc_defaults', 'op_defaults']);

class Parser {
  private cur = 0;
  private last: RegExpMatchArray | null = null;
  readonly warnings: string[] = [];

  constructor(
    private cmd: Token[],
    private readonly ctx: ParseContext,
  ) {}

  err(msg: string, token?: Token): never {
    throw new Abort(msg, token ?? this.cmd[this.cur]);
  }
  hasTokens(): boolean {
    return this.cur < this.cmd.length;
  }
  current(): string | undefined {
    return this.cmd[this.cur]?.text;
  }
  rest(): string[] {
    return this.cmd.slice(this.cur).map((t) => t.text);
  }
  private toRe(rx: RegExp | string): RegExp {
    return typeof rx === 'string' ? new RegExp(`^(?:${rx})${rx.endsWith('$') ? '' : '$'}`, 'is') : rx;
  }
  tryMatch(rx: RegExp | string): RegExpMatchArray | null {
    const tok = this.current();
    if (tok === undefined || tok === '') return (this.last = null);
    this.last = this.toRe(rx).exec(tok);
    if (this.last) this.cur++;
    return this.last;
  }
  match(rx: RegExp | string, errmsg?: string): string {
    if (!this.tryMatch(rx)) {
      if (errmsg) this.err(errmsg);
      this.err(`Expected ${typeof rx === 'string' ? rx : rx.source.replace(/^\^|\$$/g, '')}`);
    }
    return this.m(0)!;
  }
  m(i: number): string | undefined {
    return this.last?.[i];
  }
  matchAny(): string {
    if (!this.hasTokens()) this.err('Unexpected end of line');
    return this.cmd[this.cur++]!.text;
  }
  matchIdentifier(): string {
    return this.match(re.ident, 'Expected identifier');
  }
  matchResource(): string {
    return this.match(re.resource, 'Expected resource');
  }
  tryMatchIdspec(): RegExpMatchArray | null {
    return this.tryMatch(re.idspec);
  }
  tryMatchInitialId(): RegExpMatchArray | null {
    return this.tryMatch(re.id) ?? this.tryMatch(re.idNew);
  }
  tryMatchDescription(): string | undefined {
    return this.tryMatch(re.desc) ? this.m(1) : undefined;
  }
  matchSplit(): [string, string | undefined] {
    const t = this.current();
    if (t === undefined) this.err('Expected value[:value]');
    const sp = t.split(':');
    if (sp.length > 2) this.err('Expected value[:value]');
    this.matchAny();
    return [sp[0]!, sp[1]];
  }
  resolveIdRef(listType: string, id: string): string {
    return this.ctx.resolveIdRef ? this.ctx.resolveIdRef(listType, id) : id;
  }

  /** crmsh's handle_role_for_ocf_1_1: role names follow the CIB's schema. */
  role(value: string, name = 'role'): string {
    if (name !== 'role' && name !== 'target-role') return value;
    const down: Record<string, string> = { Promoted: 'Master', Unpromoted: 'Slave' };
    if (!this.ctx.ocf11 && down[value]) {
      this.warnings.push(`Convert "${value}" to "${down[value]}" since the current schema version is old and not upgraded yet.`);
      return down[value];
    }
    return value;
  }

  nvpair(name: string, value: string): CNode {
    return cnode('nvpair', { name, value: this.role(value, name) });
  }

  parseTop(): CNode {
    const head = this.current()?.toLowerCase();
    if (head === 'fencing_topology' || head === 'fencing-topology') return this.parseFencing();
    if (head === 'xml') return this.parseXmlObject();
    const kw = this.match(re.dispatch, 'Unknown command').toLowerCase();
    this.cmd[this.cur - 1] = { ...this.cmd[this.cur - 1]!, text: kw };
    switch (kw) {
      case 'node':
        return this.parseNode();
      case 'primitive':
      case 'rsc_template':
        return this.primitiveOrTemplate(kw);
      case 'clone':
      case 'ms':
      case 'master':
        return this.cloneOrMaster(kw);
      case 'group':
        return this.parseGroup();
      case 'bundle':
        return this.parseBundle();
      case 'location':
        return this.parseLocation();
      case 'colocation':
      case 'collocation':
        return this.parseColocation();
      case 'order':
        return this.parseOrder();
      case 'rsc_ticket':
        return this.parseRscTicket();
      case 'monitor':
        return this.parseMonitor();
      case 'property':
      case 'rsc_defaults':
      case 'op_defaults':
        return this.parseProperty(kw);
      case 'fencing_topology':
        return this.parseFencing();
      case 'tag':
        return this.parseTag();
      case 'user':
        return this.parseUser();
      case 'role':
        return this.parseRole();
      case 'acl_target':
      case 'acl_group':
        return this.parseAclTarget(kw);
      case 'alert':
        return this.parseAlert();
      default:
        if (this.cmd[0]?.text === 'fencing-topology') return this.parseFencing();
        this.cur = 0;
        return this.err('Unknown command');
    }
  }

  minArgs(n: number): void {
    if (this.cmd.length < n + 1) this.err(`Expected at least ${n} arguments`, this.cmd[0]);
  }

  // --- attribute lists -------------------------------------------------------------------

  matchNvpairs(terminator: readonly string[] = TERMINATORS, minpairs = 1, allowEmpty = true): CNode[] {
    const ret: CNode[] = [];
    for (;;) {
      const tok = this.current();
      if (tok !== undefined && terminator.includes(tok.toLowerCase())) break;
      if (this.tryMatch(re.nvpairRef)) {
        const n = cnode('nvpair');
        n.attrs.set('id-ref', this.m(1)!);
        if (this.m(2) !== undefined) n.attrs.set('name', this.m(2)!);
        ret.push(n);
      } else if (this.tryMatch(re.nvpairId)) {
        ret.push(cnode('nvpair', { id: this.m(1)!, name: this.m(2) ?? this.m(1)!, value: this.m(3)! }));
      } else if (this.tryMatch(re.nvpair)) {
        if (!allowEmpty && !this.m(2)) this.err(`Empty value for ${this.m(1)} is not allowed`);
        ret.push(this.nvpair(this.m(1)!, this.m(2)!));
      } else if (terminator.length > 0 && this.tryMatch(re.nvpairKey)) {
        ret.push(cnode('nvpair', { name: this.m(1)! }));
      } else break;
    }
    if (ret.length < minpairs) this.err(minpairs === 1 ? 'Expected at least one name-value pair' : `Expected at least ${minpairs} name-value pairs`);
    return ret;
  }

  matchNvpairsByKey(validKeys: readonly string[], minpairs: number): CNode[] {
    const keyRe = new RegExp(`^(${validKeys.join('|')})=(.+)$`, 's');
    const novalRe = new RegExp(`^(${validKeys.join('|')})$`);
    const ret: CNode[] = [];
    for (;;) {
      if (this.tryMatch(keyRe)) ret.push(this.nvpair(this.m(1)!, this.m(2)!));
      else if (this.tryMatch(novalRe)) ret.push(this.nvpair(this.m(1)!, ''));
      else break;
    }
    if (ret.length < minpairs) this.err(minpairs === 1 ? 'Expected at least one name-value pair' : `Expected at least ${minpairs} name-value pairs`);
    return ret;
  }

  matchAttrList(name: string, tag: string, allowEmpty = true, terminator?: readonly string[]): CNode | undefined {
    let xmlid: string | undefined;
    if (this.tryMatchIdspec()) {
      if (this.m(1)!.toLowerCase() === '$id-ref') {
        const r = cnode(tag);
        r.attrs.set('id-ref', this.resolveIdRef(name, this.m(2)!));
        return r;
      }
      xmlid = this.m(2);
    }
    let score: string | undefined;
    if (this.tryMatch(re.score)) score = this.m(1);
    const rules = this.matchRules();
    const values = this.matchNvpairs(terminator, 0);
    if (!allowEmpty && xmlid === undefined && score === undefined && rules.length === 0 && values.length === 0) return undefined;
    const e = cnode(tag);
    if (xmlid) e.attrs.set('id', xmlid);
    if (score) e.attrs.set('score', score);
    e.children.push(...rules, ...values);
    return e;
  }

  *matchAttrLists(nameMap: Record<string, string>, implicitInitial?: string, terminator?: readonly string[]): Generator<CNode | undefined> {
    const toMatch = Object.keys(nameMap).join('|');
    if (this.tryMatch(toMatch)) {
      const name = this.m(0)!.toLowerCase();
      yield this.matchAttrList(name, nameMap[name]!, true, terminator);
    } else if (implicitInitial !== undefined) {
      const attrs = this.matchAttrList(implicitInitial, nameMap[implicitInitial]!, false, terminator);
      if (attrs) yield attrs;
    }
    while (this.tryMatch(toMatch)) {
      const name = this.m(0)!.toLowerCase();
      yield this.matchAttrList(name, nameMap[name]!, true, terminator);
    }
  }

  matchArguments(out: CNode, nameMapIn: Record<string, string>, implicitInitial?: string, terminatorIn?: readonly string[]): void {
    const names = Object.keys(nameMapIn).map((n) => n.toLowerCase());
    const nameMap = { ...nameMapIn };
    const oplist: string[] = names.filter((n) => n === "operations" || n === "op");
    for (const op of oplist) delete nameMap[op];
    const bundleList: string[] = names.filter((n) => ['docker', 'rkt', 'network', 'port-mapping', 'storage', 'primitive'].includes(n));
    for (const b of bundleList) delete nameMap[b];
    let terminator = terminatorIn;
    let initial = true;
    while (this.hasTokens()) {
      const t = this.current()!.toLowerCase();
      if (names.includes(t)) {
        initial = false;
        if (oplist.includes(t)) this.matchOperations(out, t === 'operations');
        if (bundleList.includes(t)) this.matchContainer(out, t);
        else {
          if (bundleList.length > 0) terminator = ['network', 'storage', 'primitive'];
          for (const al of this.matchAttrLists(nameMap, undefined, terminator)) if (al) out.children.push(al);
        }
      } else if (initial) {
        initial = false;
        for (const al of this.matchAttrLists(nameMap, implicitInitial, terminator)) if (al) out.children.push(al);
      } else break;
    }
  }

  matchContainer(out: CNode, type: string): void {
    this.match(type);
    const all = this.matchNvpairs(['network', 'storage', 'meta', 'primitive'], 0);
    if (type !== 'primitive') {
      let container = out.children.find((c) => c.tag === type);
      if (!container) container = cnode(type);
      let inst: CNode | undefined;
      let childFlag = false;
      for (const nvp of all) {
        const name = nvp.attrs.get('name') ?? '';
        if (name === 'port-mapping' || name === 'storage-mapping') {
          inst = addChild(container, name);
          childFlag = true;
          continue;
        }
        const target = childFlag && inst ? inst : container;
        const v = nvp.attrs.get('value');
        if (v !== undefined) target.attrs.set(name, v);
      }
      out.children.push(container);
    } else {
      if (all.length !== 1 || all[0]!.attrs.get('value')) {
        this.err(`Expected primitive reference, got ${all.map((n) => `${n.attrs.get('name')}=${n.attrs.get('value') ?? ''}`).join(', ')}`);
      }
      addChild(out, 'crmsh-ref', { id: all[0]!.attrs.get('name')! });
    }
  }

  matchOp(out: CNode): void {
    this.match('op');
    const opType = this.matchIdentifier();
    const all = this.matchNvpairs(TERMINATORS, 0);
    const node = cnode('op', { name: opType });
    if (!all.some((n) => n.attrs.get('name') === 'interval')) all.push(this.nvpair('interval', '0'));
    let inst: CNode | undefined;
    for (const nvp of all) {
      const name = nvp.attrs.get('name');
      if (name !== undefined && (schema.opAttributes as readonly string[]).includes(name)) {
        if (inst) this.err(`Attribute order error: ${name} must appear before any instance attribute`);
        const v = nvp.attrs.get('value');
        if (v === undefined) node.attrs.delete(name);
        else node.attrs.set(name, v);
      } else {
        if (!inst) inst = cnode('instance_attributes');
        inst.children.push(nvp);
      }
    }
    if (inst) node.children.push(inst);
    for (const al of this.matchAttrLists({ op_params: 'instance_attributes', op_meta: 'meta_attributes' }, 'op_params')) if (al) node.children.push(al);
    out.children.push(node);
  }

  matchOperations(out: CNode, matchId: boolean): void {
    if (matchId) this.match('operations');
    let node = out.children.find((c) => c.tag === 'operations');
    if (!node) node = addChild(out, 'operations');
    if (matchId) {
      this.match(re.idspec, 'Expected $id-ref=<id> or $id=<id>');
      const kind = this.m(1)!.slice(1).toLowerCase();
      let val = this.m(2)!;
      if (kind === 'id-ref') val = this.resolveIdRef('operations', val);
      node.attrs.set(kind, val);
    }
    while (this.hasTokens() && this.current()!.toLowerCase() === 'op') this.matchOp(node);
  }

  // --- rules -------------------------------------------------------------------------------

  validateScore(score: string, noattr = false, toKind = false): [string, string] {
    const lower = score.toLowerCase();
    if (!noattr && scoreTypes[lower] !== undefined) return ['score', scoreTypes[lower]];
    if (/^[+-]?(inf(inity)?|INF(INITY)?|[0-9]+)$/.test(score)) {
      const s = score.replace(/inf(inity)?|INF(INITY)?/, 'INFINITY');
      if (toKind) return ['kind', s === '0' ? 'Optional' : 'Mandatory'];
      return ['score', s];
    }
    if (noattr) {
      const kind = canonize(score, schema.orderKinds);
      if (!kind) this.err(`Invalid kind: ${score}`);
      return ['kind', kind];
    }
    return ['score-attribute', score];
  }

  matchRules(): CNode[] {
    const rules: CNode[] = [];
    while (this.tryMatch('rule')) {
      const rule = cnode('rule');
      rules.push(rule);
      let idref = false;
      if (this.tryMatchIdspec()) {
        const typ = this.m(1)!.slice(1).toLowerCase();
        let val = this.m(2)!;
        if (typ === 'id-ref') {
          val = this.resolveIdRef('rule', val);
          idref = true;
        }
        rule.attrs.set(typ, val);
      }
      if (this.tryMatch(re.role)) rule.attrs.set('role', this.role(this.m(1)!));
      if (idref) continue;
      if (this.tryMatch(re.score)) {
        const [k, v] = this.validateScore(this.m(1)!);
        rule.attrs.set(k, v);
      } else rule.attrs.set('score', 'INFINITY');
      const [boolop, exprs] = this.matchRuleExpression();
      if (boolop && !keywordEq(boolop, 'and')) rule.attrs.set('boolean-op', boolop);
      rule.children.push(...exprs);
    }
    return rules;
  }

  matchRuleExpression(): [string | undefined, CNode[]] {
    let boolop: string | undefined;
    const exprs = [this.matchSimpleExp()];
    while (this.tryMatch(re.boolop)) {
      if (boolop && this.m(1) !== boolop) this.err(`Mixing bool ops not allowed: ${boolop} != ${this.m(1)}`);
      boolop = this.m(1);
      exprs.push(this.matchSimpleExp());
    }
    return [boolop, exprs];
  }

  matchSimpleExp(): CNode {
    if (this.tryMatch('date')) return this.matchDate();
    if (this.tryMatch(re.unaryop)) {
      const op = this.m(1)!;
      const attr = this.matchIdentifier();
      return cnode('expression', { operation: op, attribute: attr });
    }
    const attr = this.matchIdentifier();
    this.match(re.binop, `Expected ${binaryOps.join('|')} (optionally typed as string:, number:, version:)`);
    const optype = this.m(2);
    const binop = this.m(3)!;
    const node = cnode('expression', { operation: binop, attribute: attr });
    if (optype) node.attrs.set('type', optype);
    const val = this.matchAny();
    const vs = re.valueSource.exec(val);
    if (vs?.groups?.val === undefined) node.attrs.set('value', val);
    else {
      node.attrs.set('value', vs.groups.val);
      node.attrs.set('value-source', vs.groups.src!);
    }
    return node;
  }

  matchDate(): CNode {
    const node = cnode('date_expression');
    this.match(`(${schema.dateOps.join('|')})`, `Expected date operation (${schema.dateOps.join('|')})`);
    const op = this.m(1)!;
    const opmap: Record<string, string> = { in: 'in_range', spec: 'date_spec' };
    node.attrs.set('operation', opmap[op] ?? op);
    if (keywordEq(op, 'lt') || keywordEq(op, 'gt')) {
      const val = this.matchAny();
      node.attrs.set(keywordEq(op, 'lt') ? 'end' : 'start', val);
      return node;
    }
    if (op === 'in_range' || op === 'in') {
      return this.setDateExpression(node, 'duration', this.matchNvpairsByKey([...inRangeAttrs, ...dateSpecNames], 2));
    }
    if (op === 'date_spec' || op === 'spec') {
      return this.setDateExpression(node, 'date_spec', this.matchNvpairsByKey(dateSpecNames, 1));
    }
    return this.err(`Unknown date operation '${op}'`);
  }

  setDateExpression(expr: CNode, tag: string, values: CNode[]): CNode {
    const names = new Set(values.map((v) => v.attrs.get('name')!));
    if (names.size === inRangeAttrs.length && inRangeAttrs.every((a) => names.has(a))) {
      for (const v of values) expr.attrs.set(v.attrs.get('name')!, v.attrs.get('value') ?? '');
      return expr;
    }
    const sub = addChild(expr, tag);
    for (const v of values) {
      const n = v.attrs.get('name')!;
      if (inRangeAttrs.includes(n)) expr.attrs.set(n, v.attrs.get('value') ?? '');
      else sub.attrs.set(n, v.attrs.get('value') ?? '');
    }
    return expr;
  }

  // --- commands ----------------------------------------------------------------------------

  /** crmsh parse_xml: `xml <element ...>`, an object given as CIB XML (its ids as written). */
  parseXmlObject(): CNode {
    this.matchAny();
    if (!this.hasTokens()) this.err('Expected XML data');
    const first = this.cur;
    const data = this.rest().join(' ');
    let root: XmlElement;
    try {
      root = parseXml(data).root;
    } catch (e) {
      this.cur = first;
      this.err(`Cannot parse XML data: ${(e as Error).message}`);
    }
    if (!xmlCommandTags.has(root.name)) {
      this.cur = first;
      // crmsh prints a defaults set it cannot write in crm syntax so; say how to give it.
      const hint = root.name === 'meta_attributes' ? ' (a defaults set is given in its section: xml <rsc_defaults><meta_attributes ...>...</meta_attributes></rsc_defaults>, or op_defaults)' : '';
      this.err(`Element ${root.name} not recognized${hint}`);
    }
    const node = withoutComments(fromXml(root));
    if (node.tag === 'rsc_defaults' || node.tag === 'op_defaults') {
      // crmsh takes the section's first child; one meta_attributes set is one object.
      const sets = elementsOf(node);
      if (sets.length !== 1 || sets[0]!.tag !== 'meta_attributes') {
        this.cur = first;
        this.err(`Element ${node.tag} must hold exactly one meta_attributes set`);
      }
    }
    this.cur = this.cmd.length;
    return node;
  }

  parseNode(): CNode {
    this.minArgs(1);
    const out = cnode('node');
    if (this.tryMatchInitialId()) out.attrs.set('id', this.m(1)!);
    this.match(re.uname, 'Expected uname[:type]');
    out.attrs.set('uname', this.m(1)!);
    if (this.m(3)) out.attrs.set('type', this.m(3)!);
    const d = this.tryMatchDescription();
    if (d !== undefined) out.attrs.set('description', d);
    this.matchArguments(out, { attributes: 'instance_attributes', utilization: 'utilization' }, 'attributes');
    return out;
  }

  matchRaType(out: CNode): void {
    const t = this.current();
    if (t === undefined) this.err('Expected resource type');
    const cpt = splitRaType(t);
    if (!cpt) this.err('Unknown resource type');
    if (cpt[0] !== 'ocf' && cpt[1] !== undefined) this.warnings.push(`ra class ${cpt[0]} does not support providers`);
    this.matchAny();
    out.attrs.set('class', cpt[0]);
    if (cpt[1] !== undefined) out.attrs.set('provider', cpt[1]);
    out.attrs.set('type', cpt[2]);
  }

  primitiveOrTemplate(kw: string): CNode {
    this.minArgs(2);
    const out = cnode(kw === 'primitive' ? 'primitive' : 'template');
    out.attrs.set('id', this.matchIdentifier());
    if (kw === 'primitive' && this.tryMatch(re.template)) out.attrs.set('template', this.m(1)!);
    else this.matchRaType(out);
    const d = this.tryMatchDescription();
    if (d !== undefined) out.attrs.set('description', d);
    this.matchArguments(
      out,
      { params: 'instance_attributes', meta: 'meta_attributes', utilization: 'utilization', operations: 'operations', op: 'op' },
      'params',
    );
    return out;
  }

  cloneOrMaster(kw: string): CNode {
    this.minArgs(2);
    const out = cnode(kw === 'clone' ? 'clone' : 'master');
    if (kw === 'master') this.warnings.push(`This command 'master' is deprecated, please use 'ms'`);
    out.attrs.set('id', this.matchIdentifier());
    const child = cnode('crmsh-ref', { id: this.matchResource() });
    const d = this.tryMatchDescription();
    if (d !== undefined) out.attrs.set('description', d);
    this.matchArguments(out, { params: 'instance_attributes', meta: 'meta_attributes' }, 'params');
    out.children.push(child);
    return out;
  }

  parseGroup(): CNode {
    this.minArgs(2);
    const out = cnode('group');
    out.attrs.set('id', this.matchIdentifier());
    const children: string[] = [];
    for (;;) {
      const t = this.current();
      if (t === undefined || t.includes('=') || ['params', 'meta'].includes(t.toLowerCase())) break;
      const child = this.matchAny();
      if (children.includes(child)) this.err(`child ${child} listed more than once in group ${out.attrs.get('id')}`, this.cmd[this.cur - 1]);
      children.push(child);
    }
    const d = this.tryMatchDescription();
    if (d !== undefined) out.attrs.set('description', d);
    this.matchArguments(out, { params: 'instance_attributes', meta: 'meta_attributes' }, 'params');
    for (const c of children) addChild(out, 'crmsh-ref', { id: c });
    return out;
  }

  parseBundle(): CNode {
    this.minArgs(2);
    const out = cnode('bundle');
    out.attrs.set('id', this.matchIdentifier());
    const d = this.tryMatchDescription();
    if (d !== undefined) out.attrs.set('description', d);
    this.matchArguments(out, {
      docker: 'docker', rkt: 'rkt', network: 'network', 'port-mapping': 'port-mapping', storage: 'storage', meta: 'meta_attributes', primitive: 'primitive',
    });
    return out;
  }

  parseLocation(): CNode {
    this.minArgs(2);
    const out = cnode('rsc_location', { id: this.matchIdentifier() });
    if (this.tryMatch(/^\/(.+)\/$/s)) out.attrs.set('rsc-pattern', this.m(1)!);
    else if (this.tryMatch('\\{')) {
      const toks: Token[] = [];
      while (this.hasTokens() && this.current() !== '}') toks.push(this.cmd[this.cur++]!);
      this.match('\\}', 'Expected }');
      if (toks.length === 0) this.err('Empty resource set');
      out.children.push(...new ResourceSet('role', toks, this).parse());
    } else out.attrs.set('rsc', this.matchResource());
    while (this.tryMatch(re.attr)) {
      const name = this.m(1)!;
      out.attrs.set(name, this.role(this.m(2)!, name));
    }
    if (this.tryMatch(re.role) || this.tryMatch(re.role2)) out.attrs.set('role', this.role(this.m(1)!));
    let score = false;
    if (this.tryMatch(re.score)) {
      score = true;
      const [k, v] = this.validateScore(this.m(1)!);
      out.attrs.set(k, v);
      out.attrs.set('node', this.matchIdentifier());
      if (!out.attrs.has('role') && (this.tryMatch(re.role) || this.tryMatch(re.role2))) out.attrs.set('role', this.role(this.m(1)!));
    }
    if (!score) {
      const rules = this.matchRules();
      out.children.push(...rules);
      if (rules.length === 0) this.err('Expected <score>: <node> or <rule> [<rule> ...]');
    }
    return out;
  }

  tryMatchTail(rx: RegExp): RegExpMatchArray | null {
    const pos = this.cur;
    this.cur = this.cmd.length - 1;
    const ret = this.tryMatch(rx);
    if (ret) this.cmd = this.cmd.slice(0, -1);
    this.cur = pos;
    return ret;
  }

  parseColocation(): CNode {
    this.minArgs(2);
    if (this.cmd[0]!.text === 'collocation') this.warnings.push(`This command 'collocation' is deprecated, please use 'colocation'`);
    const out = cnode('rsc_colocation', { id: this.matchIdentifier() });
    this.match(re.score, 'Expected <score>:');
    const [k, v] = this.validateScore(this.m(1)!);
    out.attrs.set(k, v);
    if (this.tryMatchTail(/^node-attribute=(.+)$/s)) out.attrs.set('node-attribute', this.m(1)!.toLowerCase());
    this.tryMatchRscset(out, 'role');
    return out;
  }

  parseOrder(): CNode {
    this.minArgs(2);
    const out = cnode('rsc_order', { id: this.matchIdentifier() });
    if (this.tryMatch(`(${schema.orderKinds.join('|')}):`)) out.attrs.set('kind', canonize(this.m(1)!, schema.orderKinds)!);
    else if (this.tryMatch(re.score)) {
      const [k, v] = this.validateScore(this.m(1)!, true, true);
      out.attrs.set(k, v);
    }
    if (this.tryMatchTail(/^symmetrical=(true|false|yes|no|on|off)$/i)) out.attrs.set('symmetrical', canonicalBoolean(this.m(1)!));
    this.tryMatchRscset(out, 'action');
    return out;
  }

  parseRscTicket(): CNode {
    this.minArgs(2);
    const out = cnode('rsc_ticket', { id: this.matchIdentifier() });
    this.match(re.score, 'Expected <ticket-id>:');
    out.attrs.set('ticket', this.m(1)!);
    if (this.tryMatchTail(/^loss-policy=(stop|demote|fence|freeze)$/i)) out.attrs.set('loss-policy', this.m(1)!);
    this.tryMatchRscset(out, 'role', 1);
    return out;
  }

  tryMatchRscset(out: CNode, suffixType: 'role' | 'action', simpleCount = 2): void {
    if (this.cmd.length - this.cur === simpleCount) {
      const pairs = suffixType === 'role' ? this.matchSimpleRoleSet(simpleCount) : this.matchSimpleActionSet();
      for (const [n, v] of pairs) out.attrs.set(n, v);
      return;
    }
    const toks = this.cmd.slice(this.cur);
    this.cur = this.cmd.length;
    const sets = new ResourceSet(suffixType, toks, this).parse();
    if (sets.length === 0) {
      const one = `<rsc>[:<${suffixType}>]`;
      this.err(`Expected ${Array(simpleCount).fill(one).join(' ')} | resource_sets`);
    }
    out.children.push(...sets);
  }

  fmt(info: [string, string | undefined, string | undefined], name: string): Array<[string, string]> {
    if (info[1]) return [[name, info[0]], [`${name}-${info[2]}`, info[1]]];
    return [[name, info[0]]];
  }

  splitSetref(typename: 'role' | 'action'): [string, string | undefined, string | undefined] {
    const tok = this.cmd[this.cur];
    const [rsc, typRaw] = this.matchSplit();
    if (!typRaw) return [rsc, typRaw, undefined];
    const typ = this.role(typRaw, typename);
    const list = typename === 'role' ? schema.roles : schema.actions;
    const canon = canonize(typ, list);
    if (canon) return [rsc, canon, typename];
    if (/^\d+$/.test(typ)) return [rsc, typ, 'instance'];
    return this.err(`Invalid ${typename} '${typ}' for '${rsc}'`, tok);
  }

  matchSimpleRoleSet(count: number): Array<[string, string]> {
    let ret = this.fmt(this.splitSetref('role'), 'rsc');
    if (count === 2) ret = ret.concat(this.fmt(this.splitSetref('role'), 'with-rsc'));
    return ret;
  }

  matchSimpleActionSet(): Array<[string, string]> {
    const ret = this.fmt(this.splitSetref('action'), 'first');
    return ret.concat(this.fmt(this.splitSetref('action'), 'then'));
  }

  parseMonitor(): CNode {
    this.minArgs(2);
    const out = cnode('op', { name: 'monitor' });
    const tok = this.cmd[this.cur];
    const [resource, role] = this.matchSplit();
    if (role) {
      const r = canonize(role, schema.roles);
      if (r) out.attrs.set('role', r);
      else if (/^\d+$/.test(role)) out.attrs.set('instance', role);
      else this.err(`Invalid role '${role}' for resource '${resource}'`, tok);
    }
    out.attrs.set('rsc', resource);
    const [interval, timeout] = this.matchSplit();
    if (interval) out.attrs.set('interval', interval);
    if (timeout) out.attrs.set('timeout', timeout);
    return out;
  }

  parseProperty(kw: string): CNode {
    this.minArgs(1);
    let root: CNode;
    let attrs: CNode;
    if (kw === 'rsc_defaults' || kw === 'op_defaults') {
      root = cnode(kw);
      attrs = addChild(root, 'meta_attributes');
    } else {
      root = cnode('cluster_property_set');
      attrs = root;
    }
    if (this.tryMatchInitialId()) attrs.attrs.set('id', this.m(1)!);
    else if (this.tryMatchIdspec()) {
      const key = this.m(1)!.slice(1).toLowerCase();
      let val = this.m(2)!;
      if (key === 'id-ref') val = this.resolveIdRef(attrs.tag, val);
      attrs.attrs.set(key, val);
    }
    attrs.children.push(...this.matchRules());
    attrs.children.push(...this.matchNvpairs(TERMINATORS, 0));
    return root;
  }

  parseFencing(): CNode {
    if (!this.tryMatch('fencing-topology')) this.match('fencing_topology');
    type Target = string | [string | undefined, string];
    let target: Target = '@@';
    const raw: Array<[Target, string]> = [];
    while (this.hasTokens()) {
      if (this.tryMatch(re.targetAttr)) target = [this.m(1)!, this.m(2)!];
      else if (this.tryMatch(re.targetPattern)) target = [undefined, this.m(1)!];
      else if (this.tryMatch(re.target)) target = this.m(1)!;
      else raw.push([target, this.matchAny()]);
    }
    let levels: Array<[Target, string]> = raw;
    if (raw.length > 0 && raw[0]![0] === '@@') {
      levels = [];
      for (const node of this.ctx.nodeNames?.() ?? []) for (const [, devices] of raw) levels.push([node, devices]);
    }
    const out = cnode('fencing-topology');
    const counts = new Map<string, number>();
    const next = (k: string): string => {
      const n = counts.get(k) ?? 1;
      counts.set(k, n + 1);
      return String(n);
    };
    for (const [t, devices] of levels) {
      if (Array.isArray(t)) {
        if (t[0] === undefined) {
          const c = addChild(out, 'fencing-level', { index: next(t[1]), devices });
          c.attrs.set('target-pattern', t[1]);
        } else {
          const c = addChild(out, 'fencing-level', { index: next(t[0]), devices });
          c.attrs.set('target-attribute', t[0]);
          c.attrs.set('target-value', t[1]);
        }
      } else addChild(out, 'fencing-level', { target: t, index: next(t), devices });
    }
    return out;
  }

  parseTag(): CNode {
    this.minArgs(2);
    this.match(re.tag, 'Expected tag name');
    const out = cnode('tag', { id: this.m(1)! });
    while (this.hasTokens()) addChild(out, 'obj_ref', { id: this.matchResource() });
    if (out.children.length === 0) this.err('Expected at least one resource');
    return out;
  }

  parseUser(): CNode {
    this.minArgs(2);
    const out = cnode('acl_user', { id: this.matchIdentifier() });
    while (this.hasTokens()) {
      if (this.tryMatch(re.roleRef)) addChild(out, 'role_ref', { id: this.m(1)! });
      else out.children.push(this.addRule());
    }
    return out;
  }

  parseAclTarget(kw: string): CNode {
    this.minArgs(2);
    const out = cnode(kw, { id: this.matchIdentifier() });
    while (this.hasTokens()) addChild(out, 'role', { id: this.matchIdentifier() });
    return out;
  }

  parseRole(): CNode {
    this.minArgs(2);
    const out = cnode('acl_role', { id: this.matchIdentifier() });
    const d = this.tryMatchDescription();
    if (d !== undefined) out.attrs.set('description', d);
    while (this.hasTokens()) this.addPermission(out);
    return out;
  }

  addPermission(out: CNode): void {
    const rule = cnode('acl_permission', { kind: this.match(re.aclRight, 'Expected read|write|deny').toLowerCase() });
    if (this.tryMatchInitialId()) rule.attrs.set('id', this.m(1)!);
    const d = this.tryMatchDescription();
    if (d !== undefined) rule.attrs.set('description', d);
    const attributes = new Map<string, string>();
    const specMap: Record<string, string> = { xpath: 'xpath', ref: 'reference', reference: 'reference', tag: 'object-type', type: 'object-type', attr: 'attribute', attribute: 'attribute' };
    while (this.hasTokens()) {
      const head = this.current()!.split(':', 1)[0]!;
      if (!(head in specMap) && !(head in aclShortcuts)) break;
      this.match(re.perm, 'Expected <type>:<spec>');
      const typ0 = this.m(1)!;
      let typ = specMap[typ0] ?? typ0;
      let val = this.m(2);
      if (typ0 in aclShortcuts) {
        const exp = expandShortcut(typ0, val);
        if (exp === undefined) this.err(`Missing argument to ACL shortcut ${typ0}`, this.cmd[this.cur - 1]);
        typ = 'xpath';
        val = exp;
      } else if (val === undefined) this.err('Expected <type>:<spec>', this.cmd[this.cur - 1]);
      attributes.set(typ, val!);
    }
    const copy = (k: string, v: string, extra?: [string, string]): void => {
      const r = cnode('acl_permission');
      r.attrs = new Map(rule.attrs);
      r.attrs.set(k, v);
      if (extra) r.attrs.set(extra[0], extra[1]);
      out.children.push(r);
    };
    if (attributes.has('xpath')) copy('xpath', attributes.get('xpath')!);
    if (attributes.has('reference')) copy('reference', attributes.get('reference')!);
    if (attributes.has('object-type')) copy('object-type', attributes.get('object-type')!, attributes.has('attribute') ? ['attribute', attributes.get('attribute')!] : undefined);
    if (attributes.has('attribute') && !attributes.has('object-type')) this.err('attribute is only valid in combination with tag/object-type');
  }

  addRule(): CNode {
    const rule = cnode(this.match(re.aclRight, 'Expected read|write|deny').toLowerCase());
    const eligible = ['xpath', 'ref', 'tag', 'attribute'];
    while (this.hasTokens()) {
      const parts = this.current()!.split(/:(.*)/s).slice(0, 2).filter((x, i) => i === 0 || x !== undefined);
      let key = parts[0]!;
      let val = parts.length > 1 ? parts[1] : undefined;
      if (key in aclShortcuts) {
        val = expandShortcut(key, val);
        key = 'xpath';
        if (val === undefined) break;
      }
      if (val === undefined || !eligible.includes(key)) break;
      this.matchAny();
      rule.attrs.set(key, val);
      eligible.splice(eligible.indexOf(key), 1);
      if (key === 'xpath') {
        for (const k of ['ref', 'tag']) if (eligible.includes(k)) eligible.splice(eligible.indexOf(k), 1);
      } else if (key === 'ref' || key === 'tag') {
        if (eligible.includes('xpath')) eligible.splice(eligible.indexOf('xpath'), 1);
      } else break;
    }
    return rule;
  }

  parseAlert(): CNode {
    this.minArgs(2);
    const alertId = this.matchIdentifier();
    const path = this.match(/^(.*)$/s, 'Expected path');
    const out = cnode('alert', { id: alertId, path });
    const d = this.tryMatchDescription();
    if (d !== undefined) out.attrs.set('description', d);
    let rcount = 1;
    let selector: CNode | undefined;
    while (this.hasTokens()) {
      const t = this.current()!;
      if (t === 'attributes' || t === 'meta') {
        this.matchArguments(out, { attributes: 'instance_attributes', meta: 'meta_attributes' }, undefined, ['attributes', 'meta', 'to', 'select']);
        continue;
      }
      if (t === 'select') {
        this.match('select');
        selector = undefined;
        while (['nodes', 'fencing', 'resources', 'attributes'].includes(this.current() ?? '')) {
          const sel = this.matchIdentifier();
          if (sel === 'attributes' && !this.tryMatch('\\{')) {
            this.cur--;
            break;
          }
          if (!selector) selector = addChild(out, 'select');
          const seltag = addChild(selector, `select_${sel}`);
          if (sel === 'attributes') {
            while (this.hasTokens() && this.current() !== '}') addChild(seltag, 'attribute', { name: this.matchIdentifier() });
            this.match('\\}', 'Expected }');
          }
        }
        continue;
      }
      this.match('to', 'Expected to');
      const rid = `${alertId}-recipient-${rcount++}`;
      const bracer = this.tryMatch('\\{');
      const elem = cnode('recipient', { id: rid, value: this.matchAny() });
      const rd = this.tryMatchDescription();
      if (rd !== undefined) elem.attrs.set('description', rd);
      const terms = ['attributes', 'meta', 'to'];
      if (bracer) terms.push('}');
      this.matchArguments(elem, { attributes: 'instance_attributes', meta: 'meta_attributes' }, undefined, terms);
      if (bracer) this.match('\\}', 'Expected }');
      out.children.push(elem);
    }
    return out;
  }

  // exposed to ResourceSet
  setRole(v: string): string {
    return this.role(v);
  }
}

/** crmsh's ACL xpath shortcuts (constants.acl_shortcuts). */
const aclShortcuts: Record<string, string[]> = {
  meta: ['//primitive\\[@id=\'@@\'\\]/meta_attributes', '/nvpair\\[@name=\'@@\'\\]'],
  params: ['//primitive\\[@id=\'@@\'\\]/instance_attributes', '/nvpair\\[@name=\'@@\'\\]'],
  utilization: ['//primitive\\[@id=\'@@\'\\]/utilization'],
  location: ['//rsc_location\\[@id=\'cli-prefer-@@\' and @rsc=\'@@\'\\]'],
  property: ['//crm_config/cluster_property_set', '/nvpair\\[@name=\'@@\'\\]'],
  nodeattr: ['//nodes/node/instance_attributes', '/nvpair\\[@name=\'@@\'\\]'],
  nodeutil: ['//nodes/node/utilization', '\\[@uname=\'@@\'\\]'],
  node: ['//nodes/node', '\\[@uname=\'@@\'\\]'],
  status: ['/cib/status'],
  cib: ['/cib'],
};

function expandShortcut(typ: string, val: string | undefined): string | undefined {
  const expansion = aclShortcuts[typ]!;
  if (val === undefined) {
    if (expansion[0]!.includes('@@')) return undefined;
    return expansion[0]!.replace(/\\/g, '');
  }
  let xpath = '';
  let i = 0;
  for (const tok of val.split(':')) {
    if (i < expansion.length && !expansion[i]!.includes('@@')) xpath += expansion[i++];
    if (i >= expansion.length) return undefined;
    xpath += expansion[i++]!.replace(/@@/g, tok);
  }
  return xpath.replace(/\\/g, '');
}

/** Resource sets of constraints: `a ( b c:start ) d:Master [ e f ]` (crmsh's ResourceSet). */
class ResourceSet {
  private readonly tokens: Token[];
  private readonly out: CNode[] = [];
  private set = cnode('resource_set');
  private prevQ = '';
  private currAttr = '';
  private opened = '';
  private sequential = true;
  private requireAll = true;

  constructor(
    private readonly qAttr: 'role' | 'action',
    tokens: Token[],
    private readonly parent: Parser,
  ) {
    this.tokens = [];
    for (const t of tokens) {
      const p = t.text;
      if ('(['.includes(p[0]!) && p.length > 1) {
        this.tokens.push({ ...t, text: p[0]! }, { ...t, text: p.slice(1), column: t.column + 1 });
      } else if (')]'.includes(p[p.length - 1]!) && p.length > 1) {
        this.tokens.push({ ...t, text: p.slice(0, -1) }, { ...t, text: p[p.length - 1]!, column: t.column + p.length - 1 });
      } else this.tokens.push(t);
    }
  }

  private reset(): void {
    this.set = cnode('resource_set');
    this.prevQ = '';
    this.currAttr = '';
  }

  private save(): void {
    if (this.set.children.length === 0) return;
    if (!this.requireAll) this.set.attrs.set('require-all', 'false');
    if (!this.sequential) this.set.attrs.set('sequential', 'false');
    if (this.currAttr) this.set.attrs.set(this.currAttr, this.prevQ);
    this.out.push(this.set);
    this.reset();
  }

  private updateAttrs(bracket: string, tok: Token): void {
    if (bracket === '(' || bracket === '[') {
      if (this.opened) this.parent.err('Cannot nest resource sets', tok);
      this.sequential = false;
      if (bracket === '[') this.requireAll = false;
      this.opened = bracket;
    } else {
      if (!this.opened) this.parent.err('Unmatched closing bracket', tok);
      if (bracket !== (this.opened === '(' ? ')' : ']')) this.parent.err('Mismatched closing bracket', tok);
      this.sequential = true;
      this.requireAll = true;
      this.opened = '';
    }
  }

  parse(): CNode[] {
    let last: Token | undefined;
    for (const tok of this.tokens) {
      last = tok;
      const p = tok.text;
      if (p === '_rsc_set_') continue;
      if (p === '(' || p === '[') {
        this.save();
        this.updateAttrs(p, tok);
        continue;
      }
      if (p === ')' || p === ']') {
        if (this.set.children.length === 0) this.parent.err('Empty resource set', tok);
        this.save();
        this.updateAttrs(p, tok);
        continue;
      }
      if (p.includes('=')) {
        const l = p.split('=');
        if (l.length !== 2) this.parent.err(`Extra = in ${p}`, tok);
        const [k, v] = l as [string, string];
        if (k !== 'sequential' && k !== 'require-all') this.parent.err('Unknown attribute', tok);
        if (!isBooleanWord(v)) this.parent.err(`Not a boolean: ${v}`, tok);
        const b = canonicalBoolean(v) === 'true';
        if (k === 'sequential') this.sequential = b;
        else this.requireAll = b;
        continue;
      }
      const l = p.split(':');
      let rsc = p;
      let q = '';
      if (l.length === 2) {
        rsc = l[0]!;
        const list = this.qAttr === 'action' ? schema.actions : schema.roles;
        const c = canonize(this.qAttr === 'role' ? this.parent.setRole(l[1]!) : l[1]!, list);
        if (!c) this.parent.err(`Invalid ${this.qAttr} for ${p}`, tok);
        q = c;
      }
      if (q !== this.prevQ) {
        this.save();
        this.prevQ = q;
      }
      if (q) {
        if (!this.currAttr) this.currAttr = this.qAttr;
      } else this.currAttr = '';
      addChild(this.set, 'resource_ref', { id: rsc });
    }
    if (this.opened) this.parent.err('Unmatched opening bracket', last);
    if (this.set.children.length > 0) this.save();
    return this.out;
  }
}
