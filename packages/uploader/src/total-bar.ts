/** The bar over all the files being sent in this page: bytes, combined speed and time left. */
import { h, progressBar, setProgress } from './dom.ts';
import type { FileRow, RowState } from './file-row.ts';
import { formatBytes, formatDuration, formatSpeed, percent, progressText } from './format.ts';

const COUNTED: ReadonlySet<RowState> = new Set([
  'preparing',
  'uploading',
  'paused',
  'completing',
  'completed',
]);

export class TotalBar {
  readonly element: HTMLDivElement;
  readonly #bar = progressBar('All files', 'total-progress');
  readonly #text = h('span', { class: 'total-text' });

  constructor() {
    this.element = h(
      'div',
      { class: 'total', part: 'total', hidden: true },
      h('div', { class: 'head' }, h('span', { class: 'name' }, 'Total'), this.#text),
      this.#bar,
    );
  }

  update(rows: readonly FileRow[]): void {
    const counted = rows.filter((row) => COUNTED.has(row.state));
    // One file has its own bar: a total says nothing more.
    this.element.hidden = counted.length < 2;
    if (this.element.hidden) return;
    let total = 0;
    let done = 0;
    let speed = 0;
    for (const row of counted) {
      total += row.size;
      done += row.state === 'completed' ? row.size : row.progress.fraction * row.size;
      if (row.state === 'uploading') speed += row.progress.bytesPerSecond;
    }
    const finished = counted.every((row) => row.state === 'completed');
    const fraction = finished ? 1 : total > 0 ? done / total : 0;
    const eta = speed > 0 ? Math.ceil((total - done) / speed) : null;
    setProgress(
      this.#bar,
      fraction,
      percent(fraction),
      progressText({ fraction, bytesPerSecond: speed, etaSeconds: eta }),
    );
    const rate =
      speed > 0 ? ` · ${formatSpeed(speed)}${eta === null ? '' : ` · ${formatDuration(eta)} left`}` : '';
    this.#text.textContent = `${counted.length} files — ${formatBytes(done)} of ${formatBytes(total)}${rate}`;
  }
}
