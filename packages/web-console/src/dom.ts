/** A tiny element builder: the console's views are plain DOM, with text always set as text (never as HTML). */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  el.append(...nodes(children));
  return el;
}

/** Replaces an element's content. */
export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren(...nodes(children));
}

/**
 * Re-renders `container` without losing the keyboard focus: an element inside it marked `data-key` that had the
 * focus gets it back on its new copy (lists and job pages redraw as they update).
 */
export function keepFocus(container: Element, render: () => void): void {
  const key = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-key]');
  const focused = key && container.contains(key) ? key.dataset.key : undefined;
  render();
  if (focused) container.querySelector<HTMLElement>(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

function nodes(children: Child[]): (Node | string)[] {
  return children.flatMap((c) =>
    c === null || c === undefined || c === false ? [] : [typeof c === 'number' ? String(c) : c],
  );
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit && value < 10 ? 1 : 0)} ${units[unit]}`;
}

export function formatTime(iso: string | null): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** Four significant digits at most, without trailing zeros (0.0005, 0.4639, 100, 1234.5). */
export function formatMetric(value: number): string {
  return Math.abs(value) >= 1000 || Number.isInteger(value)
    ? String(value)
    : String(Number(value.toPrecision(4)));
}

/** A short message for screen readers and eyes alike (the page's one live region). */
export function toast(message: string): void {
  const el = document.getElementById('toast');
  if (!el) return;
  el.textContent = message;
  el.classList.add('shown');
  setTimeout(() => el.classList.remove('shown'), 4000);
}
