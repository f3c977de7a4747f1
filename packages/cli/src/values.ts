import { InvalidArgumentError } from 'commander';

/** `--limit 20`, `--epochs 3`. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** `--max-retries 0`. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected 0 or a positive integer');
  return n;
}

/** `--url http://127.0.0.1:8000`: an http(s) URL, without its trailing slashes. */
export function apiUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected the API's URL (http://host:port), got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError(`expected an http or https URL, got "${value}"`);
  return value.replace(/\/+$/, '');
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
