import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';

/** Runner -> trainer messages on the runner's stdout, one JSON object per line (see the runner protocol). */
/**
 * A checkpoint snapshot the runner took between two saves (vtp_runner.Snapshots), or the best one exported to a
 * deployable format after the training (kind `onnx`): nothing writes it any more.
 */
const RunnerFile = z.object({
  kind: z.enum(['best', 'last', 'onnx']),
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
});
export type RunnerFile = z.infer<typeof RunnerFile>;

const finiteMetrics = z.record(z.string(), z.number());

export const RunnerEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('started'),
    totalEpochs: z.number().int().min(1),
    frameworkVersion: z.string().optional(),
    torchVersion: z.string().optional(),
    device: z.string().optional(),
  }),
  z.object({
    type: z.literal('epoch'),
    epoch: z.number().int().min(1),
    totalEpochs: z.number().int().min(1),
    metrics: finiteMetrics,
  }),
  z.object({ type: z.literal('checkpoint'), epoch: z.number().int().min(0), files: z.array(RunnerFile) }),
  z.object({
    type: z.literal('completed'),
    metrics: finiteMetrics,
    files: z.array(RunnerFile),
    /** What went wrong without failing the training (an export that failed: the checkpoints stand). */
    warnings: z.array(z.string()).default([]),
  }),
  z.object({
    type: z.literal('error'),
    code: z.enum(['invalid_dataset', 'invalid_configuration', 'framework_error', 'out_of_memory']),
    message: z.string(),
  }),
  z.object({ type: z.literal('cancelled'), epoch: z.number().int().min(0), files: z.array(RunnerFile) }),
]);
export type RunnerEvent = z.infer<typeof RunnerEvent>;

/** A stdout line that is not a protocol message: kept as log output, never fatal. */
export interface StrayLine {
  type: 'stray';
  line: string;
}

export function parseRunnerLine(line: string): RunnerEvent | StrayLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { type: 'stray', line };
  }
  const event = RunnerEvent.safeParse(value);
  return event.success ? event.data : { type: 'stray', line };
}

/**
 * Cuts a byte stream into lines whatever the chunking: a line (or a multi-byte character) split across chunks
 * is joined first. A line longer than `maxLineChars` is cut there, so a runner that never prints a newline
 * cannot grow memory without bound.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly maxLineChars: number;

  constructor(maxLineChars = 1024 * 1024) {
    this.maxLineChars = maxLineChars;
  }

  push(chunk: Buffer): string[] {
    this.pending += this.decoder.write(chunk);
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    while (this.pending.length > this.maxLineChars) {
      lines.push(this.pending.slice(0, this.maxLineChars));
      this.pending = this.pending.slice(this.maxLineChars);
    }
    return lines.map(stripCarriageReturn).filter((line) => line.trim() !== '');
  }

  /** The last line when the stream ended without a newline. */
  end(): string[] {
    const rest = stripCarriageReturn(this.pending + this.decoder.end());
    this.pending = '';
    return rest.trim() === '' ? [] : [rest];
  }
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
