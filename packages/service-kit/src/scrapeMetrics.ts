/** One scrape of a Prometheus text exposition. */
export interface Scrape {
  /** The sum of the samples of `name` whose labels include `labels` (0 when there are none). */
  sum(name: string, labels?: Record<string, string>): number;
  /** Whether any sample of `name` exists. */
  has(name: string): boolean;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Reads `/metrics` of the service at `baseUrl` (the text format prom-client writes): what tests assert on. */
export async function scrapeMetrics(baseUrl: string): Promise<Scrape> {
  const res = await fetch(new URL('/metrics', baseUrl));
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of (await res.text()).split('\n')) {
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(LABEL)].map((m) => [m[1], m[2]]));
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  const matching = (name: string, labels: Record<string, string>) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    sum: (name, labels = {}) => matching(name, labels).reduce((total, s) => total + s.value, 0),
    has: (name) => samples.some((s) => s.name === name),
  };
}
