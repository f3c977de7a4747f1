import { EventEmitter } from 'node:events';

/** A container's output as the kubelet keeps it: everything so far, and a feed of what comes next. */
export class PodLog extends EventEmitter<{ data: [Buffer]; end: [] }> {
  private readonly chunks: Buffer[] = [];
  ended = false;

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.emit('data', chunk);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
  }

  get text(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** FallbackToLogsOnError: the last 80 lines, at most 2048 bytes, become the termination message. */
  tail(): string {
    const lines = this.text.toString('utf8').trimEnd().split('\n').slice(-80).join('\n');
    const bytes = Buffer.from(lines);
    return bytes.length > 2048 ? bytes.subarray(bytes.length - 2048).toString('utf8') : lines;
  }
}
