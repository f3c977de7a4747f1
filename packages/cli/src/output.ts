import { styleText } from 'node:util';

/**
 * How a command writes: JSON for scripts (`--json`), or text for people, with colours and live progress only
 * when stdout is a terminal (and NO_COLOR is not set).
 */
export class Output {
  readonly json: boolean;
  readonly interactive: boolean;

  constructor(json: boolean, stdout: NodeJS.WriteStream = process.stdout) {
    this.json = json;
    this.interactive = !json && stdout.isTTY === true;
  }

  /** The command's result: `value` as JSON, or `text()` for people. */
  result(value: unknown, text: () => string): void {
    process.stdout.write(this.json ? `${JSON.stringify(value, null, 2)}\n` : `${text()}\n`);
  }

  /** A line for people (nothing in JSON mode, where stdout holds the result alone). */
  info(line: string): void {
    if (!this.json) process.stdout.write(`${line}\n`);
  }

  style(format: Parameters<typeof styleText>[0], text: string): string {
    return this.interactive && !process.env.NO_COLOR
      ? styleText(format, text, { validateStream: false })
      : text;
  }

  /** Columns padded to their widest cell; the header bold on a terminal. */
  table(headers: string[], rows: string[][]): string {
    const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    return [this.style('bold', line(headers)), ...rows.map(line)].join('\n');
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(s % 60).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function formatMetric(value: unknown): string {
  if (typeof value !== 'number') return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
}
