import { EventEmitter, once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { LineSplitter } from './protocol.ts';

const READ_CHUNK_BYTES = 64 * 1024;

/**
 * The training log: the runner's stderr, whole on disk (uploaded with the artifacts, readable and followable
 * while the training runs) and its last lines in memory (quoted in failure messages, and all that is left once
 * the job folder is gone). Memory stays bounded however much the framework prints.
 */
export class TrainingLog {
  readonly file: string;
  private readonly stream: WriteStream;
  private readonly splitter = new LineSplitter(4000);
  private readonly lines: string[] = [];
  private readonly maxLines: number;
  private readonly changes = new EventEmitter();
  /** Bumped each time written bytes reach the file, and once more when it is complete. */
  private version = 0;
  private complete = false;
  private closing: Promise<void> | undefined;

  constructor(file: string, maxLines = 200) {
    this.file = file;
    this.maxLines = maxLines;
    this.stream = createWriteStream(file, { flags: 'a' });
    this.changes.setMaxListeners(0);
  }

  write(chunk: Buffer): void {
    if (this.closing) return;
    this.stream.write(chunk, () => this.changed());
    this.remember(this.splitter.push(chunk));
  }

  /** A line from the trainer itself (not the runner), marked so a reader can tell them apart. */
  note(line: string): void {
    if (this.closing) return;
    const text = `[vtp-trainer] ${line}`;
    this.stream.write(`${text}\n`, () => this.changed());
    this.remember([text]);
  }

  /** The last lines, at most `maxChars` characters, newest last. */
  tail(maxChars = 2000): string {
    const picked: string[] = [];
    let length = 0;
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const line = this.lines[i] ?? '';
      if (length + line.length + 1 > maxChars) break;
      picked.unshift(line);
      length += line.length + 1;
    }
    return picked.join('\n');
  }

  /**
   * The log from its start; with `follow`, then whatever is added until it is closed (or `signal` aborts).
   * Once the file is gone, only the lines kept in memory.
   */
  async *read(follow: boolean, signal?: AbortSignal): AsyncGenerator<Buffer> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.file, 'r');
    } catch {
      const kept = this.tail(Number.POSITIVE_INFINITY);
      if (kept) yield Buffer.from(`${kept}\n`);
      return;
    }
    try {
      let position = 0;
      const buffer = Buffer.alloc(READ_CHUNK_BYTES);
      for (;;) {
        const seen = this.version;
        const wasComplete = this.complete;
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
          if (bytesRead === 0) break;
          position += bytesRead;
          yield Buffer.from(buffer.subarray(0, bytesRead));
        }
        if (!follow || wasComplete || signal?.aborted) return;
        if (this.version === seen && !(await this.nextChange(signal))) return;
      }
    } finally {
      await handle.close();
    }
  }

  /** Flushes the file; later writes are ignored (a runner's last bytes may race the upload of the log). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.remember(this.splitter.end());
      this.stream.end();
      await once(this.stream, 'close');
      this.complete = true;
      this.changed();
    })();
    return this.closing;
  }

  private changed(): void {
    this.version += 1;
    this.changes.emit('change');
  }

  /** Resolves true at the next change, false if `signal` aborts first. */
  private nextChange(signal?: AbortSignal): Promise<boolean> {
    return once(this.changes, 'change', signal ? { signal } : {}).then(
      () => true,
      () => false,
    );
  }

  private remember(lines: string[]): void {
    this.lines.push(...lines);
    if (this.lines.length > this.maxLines) this.lines.splice(0, this.lines.length - this.maxLines);
  }
}
