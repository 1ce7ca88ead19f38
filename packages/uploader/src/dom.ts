/** The component's only DOM helper: an element with attributes and children, in one call. */

export type Attributes = Record<string, string | number | boolean | undefined>;

/** `false` and `undefined` leave the attribute out; `true` sets it empty (boolean attributes). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  element.append(...children);
  return element;
}

/** A `<button type=button>` whose accessible name can differ from its visible label. */
export function button(label: string, part: string, accessibleName?: string): HTMLButtonElement {
  return h(
    'button',
    { type: 'button', part: `button ${part}`, class: part, 'aria-label': accessibleName },
    label,
  );
}

/** A `role=progressbar` track with its fill; values are set by {@link setProgress}. */
export function progressBar(label: string, part = 'progress'): HTMLDivElement {
  return h(
    'div',
    {
      class: 'bar',
      part,
      role: 'progressbar',
      'aria-label': label,
      'aria-valuemin': 0,
      'aria-valuemax': 100,
      'aria-valuenow': 0,
    },
    h('div', { class: 'fill', part: `${part}-fill` }),
  );
}

export function setProgress(bar: HTMLElement, fraction: number, valueNow: number, valueText: string): void {
  if (bar.getAttribute('aria-valuenow') !== String(valueNow))
    bar.setAttribute('aria-valuenow', String(valueNow));
  if (bar.getAttribute('aria-valuetext') !== valueText) bar.setAttribute('aria-valuetext', valueText);
  const fill = bar.firstElementChild as HTMLElement | null;
  if (fill) fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
}
