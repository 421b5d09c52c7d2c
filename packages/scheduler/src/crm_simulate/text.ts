/**
 * Pacemaker's text output formatter (lib/common/output_text.c), as crm_simulate uses it.
 *
 * Two styles: "fancy" (crm_simulate's default: list headings `* Title:` and bulleted, indented
 * items) and plain (crm_simulate with -s or -U: no headings, items without bullets or indentation,
 * and named items print only their value). A list opened at depth 0 prints `Title:`; at depth d > 0
 * it prints `'  ' x d` + `* Title:`. Items inside a list of depth d are indented by `'  ' x d`
 * + `* ` (fancy).
 *
 * An instance collects lines; it is not shared between runs.
 */
export class TextOutput {
  private readonly lines: string[] = [];
  private depth = 0;

  constructor(readonly fancy: boolean) {}

  /** Opens a list: prints its heading (fancy only) and indents what follows. */
  beginList(title: string): void {
    if (this.fancy) {
      if (this.depth === 0) this.lines.push(`${title}:`);
      else this.lines.push(`${'  '.repeat(this.depth)}* ${title}:`);
    }
    this.depth++;
  }

  endList(): void {
    if (this.depth > 0) this.depth--;
  }

  /** An item of the current list; `name` is a label ("Online") printed as `name: text` (fancy only). */
  item(text: string, name?: string): void {
    if (this.fancy) {
      const body = name !== undefined ? `${name}: ${text}` : text;
      this.lines.push(`${'  '.repeat(Math.max(this.depth, 1))}* ${body}`);
    } else {
      this.lines.push(text);
    }
  }

  /** A line printed as is (out->info). */
  info(text: string): void {
    this.lines.push(text);
  }

  /** An empty line (PCMK__OUTPUT_SPACER_IF). */
  spacer(): void {
    this.lines.push('');
  }

  get currentDepth(): number {
    return this.depth;
  }

  text(): string {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`;
  }
}
