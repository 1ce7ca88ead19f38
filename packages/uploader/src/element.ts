/**
 * `<hoist-uploader>`: drop or pick files, watch each one go straight to S3 through the
 * broker, pause, resume (also after a reload), cancel, and see what was uploaded.
 *
 * Attributes, each also a property: `broker-url`, `token`, `concurrency`, `accept`,
 * `max-size` (bytes or `5GiB`), `part-size`. Attributes only: `worker-url` (where
 * `hoist-hash-worker.js` is, when not next to this module) and `no-list` (no uploads list).
 * The `tokenProvider` property (a callback returning a token) takes precedence over `token`.
 * Events (bubbling, composed): `hoist-upload-start`, `hoist-upload-progress`,
 * `hoist-upload-complete` (detail: the broker's UploadView), `hoist-upload-error`
 * (detail: `{code, message, filename}`).
 */

import { type BrowserUploadOptions, defaultStore } from '@hoist/client/browser';
import type { ResumeRecord } from '@hoist/client/core';
import { BrokerClient, retryPolicy } from '@hoist/client/core';
import type { UploadView } from '@hoist/protocol';
import { checkFile, type FileRules, parseAccept, type Refusal } from './checks.ts';
import { normalizeBrokerUrl, parseConcurrency, parseMaxSize, parsePartSize } from './config.ts';
import { h } from './dom.ts';
import { Dropzone } from './dropzone.ts';
import { FileRow, type RowHost } from './file-row.ts';
import { findResumable } from './resumable.ts';
import { STYLES } from './styles.ts';
import { TotalBar } from './total-bar.ts';
import { UploadsList } from './uploads-list.ts';

export type TokenCallback = () => string | Promise<string>;

const UPGRADED = [
  'brokerUrl',
  'token',
  'tokenProvider',
  'concurrency',
  'accept',
  'maxSize',
  'partSize',
] as const;

export class HoistUploaderElement extends HTMLElement {
  static readonly observedAttributes = [
    'broker-url',
    'token',
    'concurrency',
    'accept',
    'max-size',
    'part-size',
    'no-list',
  ];

  #token: string | null | undefined;
  #tokenProvider: TokenCallback | null = null;
  readonly #rows: FileRow[] = [];
  readonly #dropzone: Dropzone;
  readonly #files = h('ul', { class: 'files', part: 'files', 'aria-label': 'Files being uploaded' });
  readonly #live = h('div', { class: 'vh', role: 'status', 'aria-live': 'polite' });
  readonly #total = new TotalBar();
  readonly #list: UploadsList;
  #client: BrokerClient | undefined;
  #refreshQueued = false;
  #generation = 0;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    this.#dropzone = new Dropzone(root, (files) => this.addFiles(files));
    this.#list = new UploadsList({ client: () => this.#brokerClient() });
    const style = h('style', {}, STYLES);
    root.append(
      style,
      h(
        'div',
        { class: 'root', part: 'root' },
        this.#dropzone.element,
        this.#total.element,
        this.#files,
        this.#list.element,
      ),
      this.#live,
    );
    this.#renderDropzone();
  }

  connectedCallback(): void {
    for (const name of UPGRADED) this.#upgrade(name);
    this.#scheduleRefresh();
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null): void {
    if (old === value) return;
    if (name === 'token') this.#credentialsChanged();
    else if (name === 'broker-url' || name === 'no-list') {
      this.#client = undefined;
      this.#scheduleRefresh();
    } else if (name === 'concurrency') {
      const concurrency = this.#tryParse(() => parseConcurrency(value));
      if (concurrency !== undefined) for (const row of this.#rows) row.setConcurrency(concurrency);
    }
    this.#renderDropzone();
  }

  // ---- properties -----------------------------------------------------------------------------

  get brokerUrl(): string {
    return this.getAttribute('broker-url') ?? '';
  }
  set brokerUrl(value: string) {
    this.setAttribute('broker-url', normalizeBrokerUrl(value));
  }

  /** A bearer token for the broker. The property is not reflected: tokens stay out of the DOM. */
  get token(): string | null {
    return this.#token !== undefined ? this.#token : this.getAttribute('token');
  }
  set token(value: string | null) {
    if (value !== null && typeof value !== 'string')
      throw new TypeError('hoist-uploader: token must be a string or null');
    this.#token = value;
    this.#credentialsChanged();
  }

  /** Called before each broker request for a fresh token; takes precedence over `token`. */
  get tokenProvider(): TokenCallback | null {
    return this.#tokenProvider;
  }
  set tokenProvider(value: TokenCallback | null) {
    if (value !== null && typeof value !== 'function')
      throw new TypeError('hoist-uploader: tokenProvider must be a function or null');
    this.#tokenProvider = value;
    this.#credentialsChanged();
  }

  get concurrency(): number | undefined {
    return this.#tryParse(() => parseConcurrency(this.getAttribute('concurrency')));
  }
  set concurrency(value: number | null | undefined) {
    this.#reflect('concurrency', parseConcurrency(value));
  }

  /** Accepted types, as `<input accept>`: `video/*,.mp4`. */
  get accept(): string {
    return this.getAttribute('accept') ?? '';
  }
  set accept(value: string) {
    this.setAttribute('accept', String(value));
  }

  /** Largest file in bytes; also takes a size such as `'5GiB'`. */
  get maxSize(): number | undefined {
    return this.#tryParse(() => parseMaxSize(this.getAttribute('max-size')));
  }
  set maxSize(value: number | string | null | undefined) {
    this.#reflect('max-size', parseMaxSize(value));
  }

  get partSize(): number | undefined {
    return this.#tryParse(() => parsePartSize(this.getAttribute('part-size')));
  }
  set partSize(value: number | string | null | undefined) {
    this.#reflect('part-size', parsePartSize(value));
  }

  // ---- methods --------------------------------------------------------------------------------

  /** Uploads these files (as if dropped): each resumes a waiting upload of the same file, if any. */
  addFiles(files: Iterable<File> | ArrayLike<File>): void {
    // Parsed once for all the files; a bad attribute refuses them rather than skip the checks.
    let rules: FileRules | Refusal;
    try {
      rules = { maxSize: parseMaxSize(this.getAttribute('max-size')), accept: parseAccept(this.accept) };
    } catch (error) {
      rules = {
        code: 'invalid-options',
        message: `The uploader is misconfigured: ${(error as Error).message}`,
      };
    }
    for (const file of Array.from(files)) {
      const waiting = this.#rows.find((row) => row.awaits(file));
      if (waiting) {
        waiting.start(file);
        continue;
      }
      if (this.#rows.some((row) => row.sends(file))) continue;
      const row = new FileRow(this.#host, { file });
      this.#add(row);
      const refusal = 'code' in rules ? rules : checkFile(file, rules);
      if (refusal) row.refuse(refusal);
      else row.start();
    }
  }

  /** Reloads the uploads list and the unfinished uploads kept in this browser. */
  async refresh(): Promise<void> {
    const generation = ++this.#generation;
    for (const row of this.#rows.filter((r) => r.state === 'waiting')) {
      row.element.remove();
      this.#rows.splice(this.#rows.indexOf(row), 1);
    }
    this.#total.update(this.#rows);
    const client = this.#brokerClient();
    if (!client) {
      this.#list.clear(this.brokerUrl ? 'Sign in to see your uploads.' : '');
      return;
    }
    const list = this.hasAttribute('no-list') ? Promise.resolve(this.#list.clear()) : this.#list.refresh();
    await Promise.all([list, this.#loadResumable(generation, client)]);
  }

  // ---- internals ------------------------------------------------------------------------------

  readonly #host: RowHost = {
    uploadOptions: () => this.#uploadOptions(),
    discard: (record) => this.#discard(record),
    pick: () => this.#dropzone.input.click(),
    changed: () => this.#total.update(this.#rows),
    removed: (row) => {
      const at = this.#rows.indexOf(row);
      if (at >= 0) this.#rows.splice(at, 1);
      this.#total.update(this.#rows);
      if (!this.#files.contains(this.shadowRoot?.activeElement ?? null)) return;
      this.#dropzone.input.focus();
    },
    emit: (type, detail) =>
      this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true })),
    announce: (text) => {
      this.#live.textContent = text;
    },
    completed: (_view: UploadView) => {
      if (!this.hasAttribute('no-list')) void this.#list.refresh();
    },
  };

  #uploadOptions(): BrowserUploadOptions & { brokerUrl: string } {
    const raw = this.brokerUrl;
    if (!raw) throw new TypeError('hoist-uploader: set broker-url to the broker’s URL');
    const workerUrl = this.getAttribute('worker-url');
    return {
      brokerUrl: normalizeBrokerUrl(raw),
      token: () => this.#currentToken(),
      concurrency: parseConcurrency(this.getAttribute('concurrency')),
      partSize: parsePartSize(this.getAttribute('part-size')),
      ...(workerUrl ? { worker: { workerUrl: new URL(workerUrl, document.baseURI) } } : {}),
    };
  }

  async #currentToken(): Promise<string> {
    if (this.#tokenProvider) return (await this.#tokenProvider()) ?? '';
    return this.token ?? '';
  }

  #signedIn(): boolean {
    return this.#tokenProvider !== null || Boolean(this.token);
  }

  #brokerClient(): BrokerClient | undefined {
    if (!this.#signedIn()) return undefined;
    const url = this.#tryParse(() => (this.brokerUrl ? normalizeBrokerUrl(this.brokerUrl) : undefined));
    if (!url) return undefined;
    if (this.#client?.baseUrl !== url)
      this.#client = new BrokerClient({
        baseUrl: url,
        token: () => this.#currentToken(),
        retry: retryPolicy({ maxAttempts: 3 }),
        timeoutMs: 30_000,
      });
    return this.#client;
  }

  async #loadResumable(generation: number, client: BrokerClient): Promise<void> {
    let found: Awaited<ReturnType<typeof findResumable>>;
    try {
      found = await findResumable(defaultStore(), client, client.baseUrl);
    } catch (error) {
      console.warn('hoist-uploader: unfinished uploads could not be read', error);
      return;
    }
    if (generation !== this.#generation) return;
    for (const { record, confirmedBytes } of found) {
      if (this.#rows.some((row) => row.resumeKey === record.key || row.uploadId === record.id)) continue;
      this.#add(new FileRow(this.#host, { record, confirmedBytes }));
    }
  }

  async #discard(record: ResumeRecord): Promise<void> {
    await this.#brokerClient()
      ?.abort(record.id)
      .catch(() => {});
    await defaultStore()
      .delete(record.key)
      .catch(() => {});
  }

  #add(row: FileRow): void {
    this.#rows.push(row);
    this.#files.append(row.element);
    this.#total.update(this.#rows);
  }

  #credentialsChanged(): void {
    this.#client = undefined;
    // Signed out: what was shown of the last user's files goes; failures stay, to retry after signing in.
    if (!this.#signedIn())
      for (const row of this.#rows.filter((r) => r.state === 'completed' || r.state === 'refused'))
        row.dismiss();
    this.#renderDropzone();
    this.#scheduleRefresh();
  }

  #scheduleRefresh(): void {
    if (this.#refreshQueued) return;
    this.#refreshQueued = true;
    queueMicrotask(() => {
      this.#refreshQueued = false;
      if (this.isConnected) void this.refresh();
    });
  }

  #renderDropzone(): void {
    this.#dropzone.render({
      enabled: this.#signedIn() && this.brokerUrl !== '',
      disabledText: this.brokerUrl ? 'Sign in to upload files' : 'Uploads are not set up',
      accept: this.accept,
      maxSize: this.maxSize,
    });
  }

  #reflect(name: string, value: number | undefined): void {
    if (value === undefined) this.removeAttribute(name);
    else this.setAttribute(name, String(value));
  }

  /** Attribute values are the page author's: a bad one is reported once used, not thrown here. */
  #tryParse<T>(parse: () => T): T | undefined {
    try {
      return parse();
    } catch {
      return undefined;
    }
  }

  /** A property set before the element was defined shadows the accessor: re-apply it. */
  #upgrade(name: (typeof UPGRADED)[number]): void {
    if (!Object.hasOwn(this, name)) return;
    const value = (this as Record<string, unknown>)[name];
    delete (this as Record<string, unknown>)[name];
    (this as Record<string, unknown>)[name] = value;
  }
}
