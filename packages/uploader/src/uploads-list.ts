/**
 * The signed-in user's uploads as the broker records them (`GET /uploads`): name, size,
 * status, the stored object's checksum, and a download through a short-lived presigned URL
 * (`GET /uploads/:id/download`), asked for only when the user clicks.
 */
import type { BrokerClient } from '@hoist/client/core';
import type { UploadStatus, UploadView } from '@hoist/protocol';
import { button, h } from './dom.ts';
import { formatBytes } from './format.ts';

export interface ListSource {
  /** Undefined while there is no broker URL or nobody is signed in. */
  client(): BrokerClient | undefined;
}

const STATUS: Record<UploadStatus, string> = {
  created: 'In progress',
  uploading: 'In progress',
  completed: 'Complete',
  rejected: 'Rejected',
  aborted: 'Cancelled',
  expired: 'Expired',
};

export class UploadsList {
  readonly element: HTMLElement;
  readonly #source: ListSource;
  readonly #body = h('tbody');
  readonly #table: HTMLTableElement;
  readonly #note = h('p', { class: 'note', part: 'uploads-note' });
  readonly #more = button('Show more', 'more');
  #cursor: string | null = null;
  #generation = 0;

  constructor(source: ListSource) {
    this.#source = source;
    const refresh = button('Refresh', 'refresh', 'Refresh your uploads');
    refresh.addEventListener('click', () => void this.refresh());
    this.#more.addEventListener('click', () => void this.#load(this.#cursor));
    this.#table = h(
      'table',
      { part: 'uploads-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Name', 'Size', 'Status', 'Checksum', ''].map((label) =>
            h('th', { scope: 'col' }, label ? label : h('span', { class: 'vh' }, 'Download')),
          ),
        ),
      ),
      this.#body,
    );
    this.element = h(
      'section',
      { class: 'uploads', part: 'uploads', 'aria-labelledby': 'uploads-title' },
      h('div', { class: 'uploads-head' }, h('h2', { id: 'uploads-title' }, 'Your uploads'), refresh),
      this.#table,
      this.#note,
      this.#more,
    );
    this.clear();
  }

  /** Empties the list (signed out, another broker). */
  clear(note = ''): void {
    this.#generation++;
    this.#body.replaceChildren();
    this.#table.hidden = true;
    this.#more.hidden = true;
    this.#setNote(note);
  }

  /** Reloads the first page. */
  refresh(): Promise<void> {
    return this.#load(null);
  }

  async #load(cursor: string | null): Promise<void> {
    const client = this.#source.client();
    if (!client) return this.clear();
    const generation = cursor === null ? ++this.#generation : this.#generation;
    let page: Awaited<ReturnType<BrokerClient['list']>>;
    try {
      page = await client.list(cursor ?? undefined);
    } catch (error) {
      if (generation === this.#generation)
        this.#setNote(`Your uploads could not be loaded (${(error as Error).message}). Try Refresh.`);
      return;
    }
    // A newer refresh (or a sign-out) started meanwhile: its answer wins.
    if (generation !== this.#generation) return;
    const rows = page.uploads.map((view) => this.#row(view));
    if (cursor === null) this.#body.replaceChildren(...rows);
    else this.#body.append(...rows);
    this.#cursor = page.nextCursor;
    this.#more.hidden = page.nextCursor === null;
    this.#table.hidden = this.#body.childElementCount === 0;
    this.#setNote(this.#body.childElementCount === 0 ? 'No uploads yet.' : '');
  }

  #setNote(text: string): void {
    this.#note.textContent = text;
    this.#note.hidden = text === '';
  }

  #row(view: UploadView): HTMLTableRowElement {
    const status = STATUS[view.status] ?? view.status;
    const download =
      view.status === 'completed' ? button('Download', 'download', `Download ${view.filename}`) : undefined;
    download?.addEventListener('click', () => void this.#download(view, download));
    return h(
      'tr',
      { part: 'upload', 'data-id': view.id, 'data-status': view.status },
      h('th', { scope: 'row', class: 'name', title: view.filename }, view.filename),
      h('td', { class: 'size' }, formatBytes(view.size)),
      h(
        'td',
        { class: 'status' },
        h('span', { class: 'badge', 'data-status': view.status, title: view.reason }, status),
      ),
      h(
        'td',
        { class: 'checksum' },
        view.checksum
          ? h(
              'span',
              {},
              h('span', { class: 'alg' }, view.checksumAlgorithm),
              ' ',
              h('code', { part: 'checksum' }, view.checksum),
            )
          : '—',
      ),
      h('td', { class: 'download' }, download ?? ''),
    );
  }

  /** Asks the broker for a presigned GET and follows it (the URL says "attachment"). */
  async #download(view: UploadView, control: HTMLButtonElement): Promise<void> {
    const client = this.#source.client();
    if (!client) return;
    control.disabled = true;
    try {
      const { url } = await client.download(view.id);
      const link = h('a', { href: url, download: view.filename, rel: 'noopener', hidden: true });
      this.element.append(link);
      link.click();
      link.remove();
      this.#setNote('');
    } catch (error) {
      this.#setNote(`${view.filename} could not be downloaded: ${(error as Error).message}`);
    } finally {
      control.disabled = false;
    }
  }
}
