/** The longest runner output line forwarded to the service log; the training log keeps it whole. */
const MAX_LINE_CHARS = 2000;

/**
 * Cuts a runner's output stream into the lines a person would read: a progress bar redrawn with `\r` counts once,
 * at the state it ends in, and blank lines are dropped.
 */
export class OutputLines {
  private partial = '';
  private readonly onLine: (line: string) => void;

  constructor(onLine: (line: string) => void) {
    this.onLine = onLine;
  }

  write(chunk: Buffer | string): void {
    const lines = (this.partial + chunk.toString()).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
  }

  /** The last line, when the stream ended without a newline. */
  end(): void {
    this.emit(this.partial);
    this.partial = '';
  }

  private emit(line: string): void {
    const shown = line
      .split('\r')
      .map((part) => part.trimEnd())
      .filter(Boolean)
      .at(-1);
    if (shown) this.onLine(shown.length > MAX_LINE_CHARS ? `${shown.slice(0, MAX_LINE_CHARS)}…` : shown);
  }
}
