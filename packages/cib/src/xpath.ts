/**
 * The XPath subset that cibadmin users write, evaluated over the immutable tree.
 *
 * Supported: absolute (`/cib/configuration`) and relative paths from the document, `//`
 * (descendant), `*`, `.`, `..`, unions with `|`; predicates with `@attr`, `@attr='v'`,
 * `@attr="v"`, `!=`, `<`, `<=`, `>`, `>=` (numeric), `and`, `or`, `not(...)`, parentheses,
 * positions (`[1]`, `[last()]`, `position() < 3`), `contains()`, `starts-with()`, and a relative
 * path as an existence test (`[instance_attributes/nvpair[@name='ip']]`). Anything else
 * (`text()`, other axes and functions) is reported as an error value, never guessed at.
 */
import type { NodePath } from './edit.js';
import type { XmlElement } from './xml.js';

export interface XPathMatch {
  readonly element: XmlElement;
  /** Child indices from the root; `[]` is the root element. */
  readonly path: NodePath;
}

export interface XPathError {
  readonly code: 'xpath-syntax' | 'xpath-unsupported';
  readonly message: string;
  /** Character offset in the expression where the problem was found. */
  readonly offset: number;
}

export type XPathResult =
  | { readonly ok: true; readonly matches: readonly XPathMatch[] }
  | { readonly ok: false; readonly error: XPathError };

type Tok = { readonly t: string; readonly v: string; readonly at: number };

const nameRe = /^[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?/;
const numRe = /^\d+(?:\.\d+)?/;

class ParseError extends Error {
  constructor(
    readonly code: XPathError['code'],
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '//' || two === '!=' || two === '<=' || two === '>=' || two === '..') {
      out.push({ t: two, v: two, at: i });
      i += 2;
      continue;
    }
    if ('/[]()@=<>*.|,'.includes(c)) {
      out.push({ t: c, v: c, at: i });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = src.indexOf(c, i + 1);
      if (end < 0) throw new ParseError('xpath-syntax', 'unterminated string literal', i);
      out.push({ t: 'str', v: src.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const rest = src.slice(i);
    const num = numRe.exec(rest);
    if (num) {
      out.push({ t: 'num', v: num[0], at: i });
      i += num[0].length;
      continue;
    }
    const name = nameRe.exec(rest);
    if (name) {
      out.push({ t: 'name', v: name[0], at: i });
      i += name[0].length;
      continue;
    }
    throw new ParseError('xpath-syntax', `unexpected character '${c}'`, i);
  }
  out.push({ t: 'end', v: '', at: src.length });
  return out;
}

type Axis = 'child' | 'descendant' | 'parent' | 'self';
interface Step {
  readonly axis: Axis;
  readonly test: string;
  readonly preds: readonly Pred[];
}
interface LocPath {
  readonly absolute: boolean;
  readonly steps: readonly Step[];
}
type Operand =
  | { readonly k: 'attr'; readonly name: string }
  | { readonly k: 'str'; readonly v: string }
  | { readonly k: 'num'; readonly v: number }
  | { readonly k: 'position' }
  | { readonly k: 'last' };
type Pred =
  | { readonly k: 'or' | 'and'; readonly a: Pred; readonly b: Pred }
  | { readonly k: 'not'; readonly e: Pred }
  | { readonly k: 'cmp'; readonly op: string; readonly l: Operand; readonly r: Operand }
  | { readonly k: 'value'; readonly v: Operand }
  | { readonly k: 'fn'; readonly name: 'contains' | 'starts-with'; readonly a: Operand; readonly b: Operand }
  | { readonly k: 'path'; readonly path: LocPath };

class Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.i]!;
  }
  private next(): Tok {
    return this.toks[this.i++]!;
  }
  private expect(t: string): Tok {
    const tok = this.next();
    if (tok.t !== t) throw new ParseError('xpath-syntax', `expected '${t}' but found '${tok.v || 'end'}'`, tok.at);
    return tok;
  }

  parseUnion(): LocPath[] {
    const paths = [this.parsePath(true)];
    while (this.peek().t === '|') {
      this.next();
      paths.push(this.parsePath(true));
    }
    const end = this.peek();
    if (end.t !== 'end') throw new ParseError('xpath-syntax', `unexpected '${end.v}'`, end.at);
    return paths;
  }

  private parsePath(top: boolean): LocPath {
    const steps: Step[] = [];
    let absolute = false;
    let axis: Axis = 'child';
    const first = this.peek();
    if (first.t === '/' || first.t === '//') {
      if (!top) throw new ParseError('xpath-unsupported', 'absolute paths inside predicates', first.at);
      absolute = true;
      axis = this.next().t === '//' ? 'descendant' : 'child';
    }
    for (;;) {
      steps.push(this.parseStep(axis));
      const sep = this.peek();
      if (sep.t !== '/' && sep.t !== '//') break;
      this.next();
      axis = sep.t === '//' ? 'descendant' : 'child';
    }
    return { absolute, steps };
  }

  private parseStep(axis: Axis): Step {
    const tok = this.next();
    if (tok.t === '..' || tok.t === '.') {
      if (axis === 'descendant') throw new ParseError('xpath-unsupported', `'//${tok.t}'`, tok.at);
      return { axis: tok.t === '..' ? 'parent' : 'self', test: '*', preds: [] };
    }
    if (tok.t !== 'name' && tok.t !== '*') {
      throw new ParseError('xpath-syntax', `expected an element name but found '${tok.v || 'end'}'`, tok.at);
    }
    if (tok.t === 'name' && this.peek().t === '(') {
      throw new ParseError('xpath-unsupported', `function ${tok.v}() in a path`, tok.at);
    }
    const preds: Pred[] = [];
    while (this.peek().t === '[') {
      this.next();
      preds.push(this.parseOr());
      this.expect(']');
    }
    return { axis, test: tok.v, preds };
  }

  private parseOr(): Pred {
    let a = this.parseAnd();
    while (this.peek().t === 'name' && this.peek().v === 'or') {
      this.next();
      a = { k: 'or', a, b: this.parseAnd() };
    }
    return a;
  }

  private parseAnd(): Pred {
    let a = this.parseUnary();
    while (this.peek().t === 'name' && this.peek().v === 'and') {
      this.next();
      a = { k: 'and', a, b: this.parseUnary() };
    }
    return a;
  }

  private parseUnary(): Pred {
    const tok = this.peek();
    if (tok.t === '(') {
      this.next();
      const e = this.parseOr();
      this.expect(')');
      return e;
    }
    if (tok.t === 'name' && this.toks[this.i + 1]?.t === '(') {
      if (tok.v === 'not') {
        this.next();
        this.next();
        const e = this.parseOr();
        this.expect(')');
        return { k: 'not', e };
      }
      if (tok.v === 'contains' || tok.v === 'starts-with') {
        this.next();
        this.next();
        const a = this.parseOperand();
        this.expect(',');
        const b = this.parseOperand();
        this.expect(')');
        return { k: 'fn', name: tok.v, a, b };
      }
    }
    if (tok.t === 'name' && this.toks[this.i + 1]?.t !== '(') return { k: 'path', path: this.parsePath(false) };
    if (tok.t === '.' || tok.t === '..' || tok.t === '*') return { k: 'path', path: this.parsePath(false) };
    const l = this.parseOperand();
    const op = this.peek();
    if (['=', '!=', '<', '<=', '>', '>='].includes(op.t)) {
      this.next();
      return { k: 'cmp', op: op.t, l, r: this.parseOperand() };
    }
    return { k: 'value', v: l };
  }

  private parseOperand(): Operand {
    const tok = this.next();
    if (tok.t === '@') {
      const name = this.next();
      if (name.t !== 'name') throw new ParseError('xpath-syntax', 'expected an attribute name after @', name.at);
      return { k: 'attr', name: name.v };
    }
    if (tok.t === 'str') return { k: 'str', v: tok.v };
    if (tok.t === 'num') return { k: 'num', v: Number(tok.v) };
    if (tok.t === 'name' && (tok.v === 'position' || tok.v === 'last') && this.peek().t === '(') {
      this.next();
      this.expect(')');
      return tok.v === 'position' ? { k: 'position' } : { k: 'last' };
    }
    if (tok.t === 'name' && this.peek().t === '(') {
      throw new ParseError('xpath-unsupported', `function ${tok.v}()`, tok.at);
    }
    throw new ParseError('xpath-syntax', `unexpected '${tok.v || 'end'}' in a predicate`, tok.at);
  }
}

/** A node in evaluation: an element with its path, or the document node (element undefined). */
interface Ctx {
  readonly el: XmlElement | undefined;
  readonly path: NodePath;
}

function elementByPath(root: XmlElement, path: NodePath): XmlElement {
  let cur = root;
  for (const i of path) cur = cur.children[i] as XmlElement;
  return cur;
}

function operandValue(o: Operand, ctx: Ctx, pos: number, size: number): string | number | undefined {
  switch (o.k) {
    case 'attr':
      return ctx.el?.attrs[o.name];
    case 'str':
      return o.v;
    case 'num':
      return o.v;
    case 'position':
      return pos;
    case 'last':
      return size;
  }
}

function compare(op: string, l: string | number | undefined, r: string | number | undefined): boolean {
  if (l === undefined || r === undefined) return false;
  if (op === '=' || op === '!=') {
    const eq = typeof l === 'number' || typeof r === 'number' ? Number(l) === Number(r) : l === r;
    return op === '=' ? eq : !eq;
  }
  const a = Number(l);
  const b = Number(r);
  if (op === '<') return a < b;
  if (op === '<=') return a <= b;
  if (op === '>') return a > b;
  return a >= b;
}

function evalPred(root: XmlElement, p: Pred, ctx: Ctx, pos: number, size: number): boolean {
  switch (p.k) {
    case 'or':
      return evalPred(root, p.a, ctx, pos, size) || evalPred(root, p.b, ctx, pos, size);
    case 'and':
      return evalPred(root, p.a, ctx, pos, size) && evalPred(root, p.b, ctx, pos, size);
    case 'not':
      return !evalPred(root, p.e, ctx, pos, size);
    case 'cmp':
      return compare(p.op, operandValue(p.l, ctx, pos, size), operandValue(p.r, ctx, pos, size));
    case 'value': {
      const v = operandValue(p.v, ctx, pos, size);
      if (p.v.k === 'num' || p.v.k === 'position' || p.v.k === 'last') return v === pos;
      return v !== undefined && (p.v.k === 'attr' || v !== '');
    }
    case 'fn': {
      const a = operandValue(p.a, ctx, pos, size);
      const b = operandValue(p.b, ctx, pos, size);
      if (a === undefined || b === undefined) return false;
      return p.name === 'contains' ? String(a).includes(String(b)) : String(a).startsWith(String(b));
    }
    case 'path':
      return evalPath(root, p.path, [ctx]).length > 0;
  }
}

/** The child-axis group of `parent` that passes the name test, each with its path. */
function namedChildren(root: XmlElement, parent: Ctx, test: string): Ctx[] {
  if (!parent.el) return test === '*' || root.name === test ? [{ el: root, path: [] }] : [];
  const out: Ctx[] = [];
  const kids = parent.el.children;
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i]!;
    if (c.kind === 'element' && (test === '*' || c.name === test)) out.push({ el: c, path: [...parent.path, i] });
  }
  return out;
}

/**
 * `//test[preds]` from one context: every descendant-or-self element's matching children, each
 * group filtered on its own (so positions count per parent). Paths are built only for elements
 * that pass the name test; the walk itself shares one stack.
 */
function descendantStep(root: XmlElement, step: Step, ctx: Ctx, out: Ctx[]): void {
  const visit = (el: XmlElement, path: number[]): void => {
    const kids = el.children;
    let group: Ctx[] | undefined;
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      if (c.kind === 'element' && (step.test === '*' || c.name === step.test)) (group ??= []).push({ el: c, path: [...path, i] });
    }
    if (group) out.push(...filterPreds(root, step.preds, group));
    for (let i = 0; i < kids.length; i++) {
      const c = kids[i]!;
      if (c.kind !== 'element') continue;
      path.push(i);
      visit(c, path);
      path.pop();
    }
  };
  if (!ctx.el) {
    out.push(...filterPreds(root, step.preds, namedChildren(root, ctx, step.test)));
    visit(root, []);
  } else visit(ctx.el, [...ctx.path]);
}

function applyStep(root: XmlElement, step: Step, contexts: readonly Ctx[]): Ctx[] {
  const out: Ctx[] = [];
  for (const ctx of contexts) {
    if (step.axis === 'descendant') descendantStep(root, step, ctx, out);
    else if (step.axis === 'child') out.push(...filterPreds(root, step.preds, namedChildren(root, ctx, step.test)));
    else if (step.axis === 'self') out.push(...filterPreds(root, step.preds, [ctx]));
    else if (ctx.el) {
      const parent: Ctx = ctx.path.length > 0 ? { el: elementByPath(root, ctx.path.slice(0, -1)), path: ctx.path.slice(0, -1) } : { el: undefined, path: [] };
      out.push(...filterPreds(root, step.preds, [parent]));
    }
  }
  return contexts.length > 1 || step.axis === 'descendant' ? dedupe(out) : out;
}

function filterPreds(root: XmlElement, preds: readonly Pred[], group: Ctx[]): Ctx[] {
  let cur = group;
  for (const p of preds) {
    const size = cur.length;
    cur = cur.filter((c, i) => evalPred(root, p, c, i + 1, size));
  }
  return cur;
}

function comparePaths(a: NodePath, b: NodePath): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function dedupe(nodes: Ctx[]): Ctx[] {
  const seen = new Set<string>();
  const out: Ctx[] = [];
  for (const n of nodes) {
    const key = (n.el ? 'e' : 'd') + n.path.join('.');
    if (!seen.has(key)) {
      seen.add(key);
      out.push(n);
    }
  }
  return out.sort((x, y) => comparePaths(x.path, y.path) || (x.el ? 1 : 0) - (y.el ? 1 : 0));
}

function evalPath(root: XmlElement, path: LocPath, start: readonly Ctx[]): Ctx[] {
  let cur: Ctx[] = path.absolute ? [{ el: undefined, path: [] }] : [...start];
  for (const step of path.steps) cur = applyStep(root, step, cur);
  return cur;
}

/** A parsed expression, to evaluate against many documents. */
export interface CompiledXPath {
  readonly source: string;
  readonly paths: readonly LocPath[];
}

export function compileXPath(expr: string): { ok: true; value: CompiledXPath } | { ok: false; error: XPathError } {
  try {
    if (expr.trim() === '') throw new ParseError('xpath-syntax', 'empty expression', 0);
    const paths = new Parser(tokenize(expr)).parseUnion();
    return { ok: true, value: { source: expr, paths } };
  } catch (e) {
    if (e instanceof ParseError) {
      return { ok: false, error: { code: e.code, message: `${e.message} at offset ${e.offset} in "${expr}"`, offset: e.offset } };
    }
    throw e;
  }
}

/** Matches of a compiled expression: elements in document order, each once. */
export function evaluateXPath(root: XmlElement, compiled: CompiledXPath): XPathMatch[] {
  const doc: Ctx = { el: undefined, path: [] };
  const all: Ctx[] = [];
  for (const p of compiled.paths) all.push(...evalPath(root, p, [doc]));
  return dedupe(all)
    .filter((c): c is { el: XmlElement; path: NodePath } => c.el !== undefined)
    .map((c) => ({ element: c.el, path: c.path }));
}

/** Selects the elements `expr` matches in the document rooted at `root` (the context is the document). */
export function selectXPath(root: XmlElement, expr: string): XPathResult {
  const compiled = compileXPath(expr);
  if (!compiled.ok) return compiled;
  return { ok: true, matches: evaluateXPath(root, compiled.value) };
}
