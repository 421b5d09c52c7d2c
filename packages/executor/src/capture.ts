/**
 * Bounded capture of one output stream. Keeps the last `charsMax` characters (the end of an
 * agent's output is where its errors are) and counts what was dropped, so an agent that floods
 * its output costs a fixed amount of memory. While capturing, it watches for the exit reason:
 * the text after the last `ocf-exit-reason:` marker, up to the end of its line (Pacemaker reads
 * it the same way), which survives even when the output around it was dropped.
 */

export const EXIT_REASON_MARKER = 'ocf-exit-reason:';
/** An exit reason is one short line; longer ones are cut here. */
export const EXIT_REASON_CHARS_MAX = 512;
/** A line longer than this is only searched in its first part for the marker. */
const LINE_CHARS_MAX = 4096;

export class OutputCapture {
  private chunks: string[] = [];
  private keptChars = 0;
  private droppedChars = 0;
  private partialLine = '';
  private partialOverflow = false;
  private reason: string | undefined;

  constructor(
    private readonly charsMax: number,
    private readonly watchExitReason: boolean,
  ) {}

  push(chunk: string): void {
    if (this.watchExitReason) this.scan(chunk);
    this.chunks.push(chunk);
    this.keptChars += chunk.length;
    while (this.keptChars > this.charsMax && this.chunks.length > 0) {
      const excess = this.keptChars - this.charsMax;
      const head = this.chunks[0] as string;
      if (head.length <= excess) {
        this.chunks.shift();
        this.keptChars -= head.length;
        this.droppedChars += head.length;
      } else {
        this.chunks[0] = head.slice(excess);
        this.keptChars -= excess;
        this.droppedChars += excess;
      }
    }
  }

  /** The kept text (the tail of the stream). */
  text(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join('')];
    return this.chunks[0] ?? '';
  }

  /** Characters dropped from the start of the stream to respect the bound. */
  truncatedChars(): number {
    return this.droppedChars;
  }

  /** The last exit reason seen, or undefined. Call after the stream has ended. */
  exitReason(): string | undefined {
    if (this.partialLine !== '') {
      this.line(this.partialLine);
      this.partialLine = '';
    }
    return this.reason;
  }

  private scan(chunk: string): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', start);
      const piece = chunk.slice(start, nl === -1 ? undefined : nl);
      if (!this.partialOverflow) {
        this.partialLine += piece;
        if (this.partialLine.length > LINE_CHARS_MAX) {
          this.partialLine = this.partialLine.slice(0, LINE_CHARS_MAX);
          this.partialOverflow = true;
        }
      }
      if (nl === -1) return;
      this.line(this.partialLine);
      this.partialLine = '';
      this.partialOverflow = false;
      start = nl + 1;
    }
  }

  private line(text: string): void {
    const at = text.lastIndexOf(EXIT_REASON_MARKER);
    if (at === -1) return;
    const reason = text.slice(at + EXIT_REASON_MARKER.length).trim().slice(0, EXIT_REASON_CHARS_MAX);
    if (reason !== '') this.reason = reason;
  }
}
