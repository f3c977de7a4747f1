import { InvalidArgumentError } from 'commander';

/** `--limit 20`, `--epochs 3`. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/**
 * `--set key=value`, repeatable, into hyperparameters: the value as JSON when it reads as JSON (`0.01`, `true`,
 * `[1,2]`), else as a string (`optimizer=SGD`).
 */
export function collectSetting(
  pair: string,
  settings: Record<string, unknown> = {},
): Record<string, unknown> {
  const eq = pair.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got "${pair}"`);
  const raw = pair.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // A plain word: kept as a string.
  }
  return { ...settings, [pair.slice(0, eq)]: value };
}
