/**
 * Lexing crm shell input: a script is cut into commands (a trailing backslash continues a
 * line, as crmsh's lines2cli does), and each command into words the way Python's
 * `shlex.split` (POSIX mode) cuts them: quotes are removed, a backslash escapes the next
 * character. Every word remembers the line and column where it started, for error messages.
 */

export interface Token {
  /** The word after quote removal. */
  readonly text: string;
  /** 1-based line and column of the word's first character in the script. */
  readonly line: number;
  readonly column: number;
}

export interface CommandText {
  /** The command as one line, continuations joined with a space (what crmsh echoes). */
  readonly text: string;
  /** 1-based line where the command starts. */
  readonly line: number;
  /** Per character of `text`: its [line, column] in the script. */
  readonly positions: ReadonlyArray<readonly [number, number]>;
}

export type LexResult = { ok: true; tokens: Token[] } | { ok: false; message: string; line: number; column: number };

/** Splits a script into commands, joining backslash-continued lines. Blank lines are dropped. */
export function splitCommands(script: string): CommandText[] {
  const lines = script.split(/\r?\n/);
  const out: CommandText[] = [];
  let text = '';
  let positions: Array<readonly [number, number]> = [];
  let startLine = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (text === '') startLine = i + 1;
    const continued = /\\$/.test(line) && !/\\\\$/.test(line);
    if (continued) line = line.slice(0, -1);
    for (let c = 0; c < line.length; c++) {
      text += line[c];
      positions.push([i + 1, c + 1]);
    }
    if (continued) {
      text += ' ';
      positions.push([i + 1, line.length + 1]);
      continue;
    }
    if (text.trim() !== '') out.push({ text, line: startLine, positions });
    text = '';
    positions = [];
  }
  if (text.trim() !== '') out.push({ text, line: startLine, positions });
  return out;
}

const whitespaceRe = /[ \t\r\n]/;

/** shlex.split (POSIX) with positions. */
export function tokenize(cmd: CommandText): LexResult {
  const tokens: Token[] = [];
  const s = cmd.text;
  const pos = (i: number): readonly [number, number] => cmd.positions[Math.min(i, cmd.positions.length - 1)] ?? [cmd.line, 1];
  // `xml <element ...>`: crmsh splits it at white space, quotes kept (they belong to the XML).
  if (/^\s*xml(\s|$)/.test(s)) {
    for (const m of s.matchAll(/\S+/g)) {
      const [line, column] = pos(m.index);
      tokens.push({ text: m[0], line, column });
    }
    return { ok: true, tokens };
  }
  let i = 0;
  while (i < s.length) {
    while (i < s.length && whitespaceRe.test(s[i]!)) i++;
    if (i >= s.length) break;
    const start = i;
    let word = '';
    while (i < s.length && !whitespaceRe.test(s[i]!)) {
      const ch = s[i]!;
      if (ch === "'") {
        const end = s.indexOf("'", i + 1);
        if (end < 0) {
          const [line, column] = pos(i);
          return { ok: false, message: 'no closing quotation', line, column };
        }
        word += s.slice(i + 1, end);
        i = end + 1;
      } else if (ch === '"') {
        const quoteAt = i;
        i++;
        let closed = false;
        while (i < s.length) {
          const c = s[i]!;
          if (c === '"') {
            closed = true;
            i++;
            break;
          }
          if (c === '\\' && i + 1 < s.length && '"\\$`\n'.includes(s[i + 1]!)) {
            word += s[i + 1];
            i += 2;
            continue;
          }
          word += c;
          i++;
        }
        if (!closed) {
          const [line, column] = pos(quoteAt);
          return { ok: false, message: 'no closing quotation', line, column };
        }
      } else if (ch === '\\') {
        if (i + 1 < s.length) word += s[i + 1];
        i += 2;
      } else {
        word += ch;
        i++;
      }
    }
    const [line, column] = pos(start);
    tokens.push({ text: word, line, column });
  }
  return { ok: true, tokens };
}
