/**
 * One file in the uploader: its row (name, size, progress bar, speed, ETA, buttons, message)
 * and the engine Upload behind it. A row starts from a picked or dropped file, or from a
 * resume record left by an earlier page ("waiting" until the same file is picked again).
 */
import { type BrowserUploadOptions, createBrowserUpload } from '@hoist/client/browser';
import type { ResumeRecord, Upload, UploadProgress, UploadState } from '@hoist/client/core';
import { defaultResumeKey, isUploadError, type UploadErrorCode } from '@hoist/client/core';
import type { UploadView } from '@hoist/protocol';
import type { Refusal } from './checks.ts';
import { button, h, progressBar, setProgress } from './dom.ts';
import { formatBytes } from './format.ts';
import { explain } from './messages.ts';
import { type RowState, rowButtons, rowText } from './row-view.ts';

export type { RowState } from './row-view.ts';

/** What a row needs from the element that holds it. */
export interface RowHost {
  /** Options for a new Upload (broker URL, token callback, concurrency…); throws TypeError when misconfigured. */
  uploadOptions(): BrowserUploadOptions & { brokerUrl: string };
  /** Cancels a stored upload that has no Upload in this page (aborts it on the broker, forgets it). */
  discard(record: ResumeRecord): Promise<void>;
  /** Opens the file picker. */
  pick(): void;
  changed(row: FileRow): void;
  removed(row: FileRow): void;
  emit(type: string, detail: unknown): void;
  announce(text: string): void;
  completed(view: UploadView): void;
}

/** Progress events reach the DOM and the host page at most this often. */
const RENDER_EVERY_MS = 100;

const ENGINE_STATES: Partial<Record<UploadState, RowState>> = {
  preparing: 'preparing',
  uploading: 'uploading',
  paused: 'paused',
  completing: 'completing',
};

export class FileRow {
  readonly element: HTMLLIElement;
  readonly name: string;
  readonly size: number;
  state: RowState;
  progress: UploadProgress;
  /** The resume store key; fixed at the first start so a retry picks up the same upload. */
  resumeKey: string | undefined;
  readonly #host: RowHost;
  #file: File | undefined;
  #record: ResumeRecord | undefined;
  #upload: Upload | undefined;
  #unsubscribe: (() => void)[] = [];
  #message = '';
  #retryable = false;
  #busy = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #ui: {
    bar: HTMLDivElement;
    status: HTMLSpanElement;
    speed: HTMLSpanElement;
    eta: HTMLSpanElement;
    message: HTMLParagraphElement;
    toggle: HTMLButtonElement;
    retry: HTMLButtonElement;
    pick: HTMLButtonElement;
    cancel: HTMLButtonElement;
    dismiss: HTMLButtonElement;
  };

  constructor(host: RowHost, from: { file: File } | { record: ResumeRecord; confirmedBytes: number }) {
    this.#host = host;
    if ('file' in from) {
      this.#file = from.file;
      this.name = from.file.name;
      this.size = from.file.size;
      this.state = 'preparing';
    } else {
      this.#record = from.record;
      this.resumeKey = from.record.key;
      this.name = from.record.fileName;
      this.size = from.record.fileSize;
      this.state = 'waiting';
    }
    const confirmed = 'confirmedBytes' in from ? from.confirmedBytes : 0;
    this.progress = {
      totalBytes: this.size,
      confirmedBytes: confirmed,
      inFlightBytes: 0,
      fraction: this.size > 0 ? confirmed / this.size : 0,
      bytesPerSecond: 0,
      etaSeconds: null,
    };
    const ui = {
      bar: progressBar(this.name),
      status: h('span', { class: 'status-line', part: 'status' }),
      speed: h('span', { class: 'speed', part: 'speed' }),
      eta: h('span', { class: 'eta', part: 'eta' }),
      message: h('p', { class: 'message', part: 'message' }),
      toggle: button('Pause', 'pause', `Pause ${this.name}`),
      retry: button('Retry', 'retry', `Retry ${this.name}`),
      pick: button('Pick file…', 'pick', `Pick ${this.name} again to resume`),
      cancel: button('Cancel', 'cancel', `Cancel ${this.name}`),
      dismiss: button('Dismiss', 'dismiss', `Remove ${this.name} from the list`),
    };
    ui.retry.classList.add('primary');
    ui.pick.classList.add('primary');
    this.#ui = ui;
    this.element = h(
      'li',
      { class: 'file', part: 'file' },
      h(
        'div',
        { class: 'head' },
        h('span', { class: 'name', part: 'file-name', title: this.name }, this.name),
        h('span', { class: 'size', part: 'file-size' }, formatBytes(this.size)),
      ),
      ui.bar,
      h(
        'div',
        { class: 'foot' },
        h('span', { class: 'stats' }, ui.status, ui.speed, ui.eta),
        h('span', { class: 'actions' }, ui.pick, ui.retry, ui.toggle, ui.cancel, ui.dismiss),
      ),
      ui.message,
    );
    ui.toggle.addEventListener('click', () => this.togglePause());
    ui.retry.addEventListener('click', () => this.retry());
    ui.pick.addEventListener('click', () => host.pick());
    ui.cancel.addEventListener('click', () => void this.cancel());
    ui.dismiss.addEventListener('click', () => this.dismiss());
    this.#render();
  }

  /** The broker's id of this upload, once known. */
  get uploadId(): string | undefined {
    return this.#upload?.id ?? this.#record?.id;
  }

  /** Whether this row is waiting for `file` to resume (same name and size; the engine checks the rest). */
  awaits(file: File): boolean {
    return this.state === 'waiting' && file.name === this.name && file.size === this.size;
  }

  /** Whether this row is already sending `file` (a second pick of it is ignored). */
  sends(file: File): boolean {
    const f = this.#file;
    return (
      f !== undefined &&
      this.state !== 'refused' &&
      this.state !== 'completed' &&
      f.name === file.name &&
      f.size === file.size &&
      f.lastModified === file.lastModified
    );
  }

  /** Refused before sending anything (size or type). */
  refuse(refusal: Refusal): void {
    this.state = 'refused';
    this.#message = refusal.message;
    this.#host.emit('hoist-upload-error', {
      code: refusal.code,
      message: refusal.message,
      filename: this.name,
    });
    this.#host.announce(`${this.name}: ${refusal.message}`);
    this.#render();
  }

  /** Starts (or, for a waiting row, resumes) the upload of `file`. */
  start(file: File | undefined = this.#file): void {
    if (!file) return;
    const resumeFrom = this.state === 'waiting' ? this.#record : undefined;
    this.#file = file;
    this.#message = '';
    this.#retryable = false;
    this.#detach();
    let upload: Upload;
    try {
      const options = this.#host.uploadOptions();
      this.resumeKey ??= defaultResumeKey(options.brokerUrl, file);
      upload = createBrowserUpload(file, { ...options, resumeKey: this.resumeKey, resumeFrom });
    } catch (error) {
      this.#fail(isUploadError(error) ? error.code : 'invalid-options', (error as Error).message);
      return;
    }
    this.#upload = upload;
    this.#unsubscribe = [
      upload.on('state', ({ state }) => {
        const next = ENGINE_STATES[state];
        if (next && this.state !== 'completed' && this.state !== 'failed') {
          this.state = next;
          this.#render();
        }
      }),
      upload.on('progress', (progress) => {
        this.progress = progress;
        this.#schedule();
      }),
      upload.on('complete', ({ upload: view }) => this.#completed(view)),
      upload.on('error', ({ error }) => this.#failed(error.code, error.message)),
    ];
    this.state = 'preparing';
    this.#render();
    this.#host.emit('hoist-upload-start', {
      filename: this.name,
      size: this.size,
      resumed: resumeFrom !== undefined,
    });
    // The outcome arrives through the events.
    upload.start().catch(() => {});
  }

  togglePause(): void {
    const upload = this.#upload;
    if (!upload) return;
    if (this.state === 'paused') upload.resume();
    else upload.pause();
  }

  retry(): void {
    if (this.state === 'failed') this.start();
  }

  /** Applies a new `concurrency` to a running upload. */
  setConcurrency(value: number): void {
    if (this.#upload && this.state !== 'completed') this.#upload.setConcurrency(value);
  }

  /** Stops the upload, aborts it on the broker (so S3 keeps no parts) and removes the row. */
  async cancel(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    this.#render();
    try {
      if (this.#upload) await this.#upload.abort();
      else if (this.#record) await this.#host.discard(this.#record);
    } finally {
      this.#remove();
    }
  }

  dismiss(): void {
    if (this.state === 'refused' || this.state === 'completed' || this.state === 'failed') this.#remove();
  }

  #remove(): void {
    this.#detach();
    clearTimeout(this.#timer);
    this.element.remove();
    this.#host.removed(this);
  }

  #detach(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
  }

  #completed(view: UploadView): void {
    this.state = 'completed';
    this.progress = this.#upload?.progress ?? { ...this.progress, fraction: 1 };
    this.#record = undefined;
    this.#render();
    this.#host.emit('hoist-upload-complete', view);
    this.#host.announce(`${this.name} uploaded`);
    this.#host.completed(view);
  }

  #failed(code: UploadErrorCode, message: string): void {
    if (code === 'aborted') return; // cancel() removes the row
    if (code === 'resume-mismatch') {
      // Nothing was sent and the stored upload is intact: still waiting for the right file.
      this.#detach();
      this.#upload = undefined;
      this.#file = undefined;
      this.state = 'waiting';
      this.#message = explain(code, message).text;
      this.#host.emit('hoist-upload-error', { code, message, filename: this.name });
      this.#host.announce(`${this.name}: ${this.#message}`);
      this.#render();
      return;
    }
    this.#fail(code, message);
  }

  #fail(code: UploadErrorCode, message: string): void {
    const plain = explain(code, message);
    this.state = 'failed';
    this.#message = plain.text;
    this.#retryable = plain.retry;
    this.#render();
    this.#host.emit('hoist-upload-error', { code, message, filename: this.name });
    this.#host.announce(`${this.name}: ${plain.text}`);
  }

  #schedule(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#render();
      if (this.state === 'uploading' || this.state === 'completing')
        this.#host.emit('hoist-upload-progress', {
          filename: this.name,
          id: this.uploadId,
          ...this.progress,
        });
    }, RENDER_EVERY_MS);
  }

  #render(): void {
    const ui = this.#ui;
    const text = rowText(this.state, this.progress, this.size, this.name);
    this.element.dataset.state = this.state;
    setProgress(ui.bar, text.fraction, text.valueNow, text.valueText);
    ui.status.textContent = text.status;
    ui.speed.textContent = text.speed;
    ui.eta.textContent = text.eta;
    ui.message.textContent = this.#message;
    ui.message.hidden = this.#message === '';
    const buttons = rowButtons(this.state, this.#retryable);
    const resume = buttons.toggle === 'resume';
    ui.toggle.hidden = buttons.toggle === undefined;
    ui.toggle.disabled = this.#busy || buttons.toggleDisabled;
    ui.toggle.textContent = resume ? 'Resume' : 'Pause';
    ui.toggle.setAttribute('aria-label', `${resume ? 'Resume' : 'Pause'} ${this.name}`);
    ui.toggle.classList.toggle('primary', resume);
    ui.retry.hidden = !buttons.retry;
    ui.pick.hidden = !buttons.pick;
    ui.cancel.hidden = !buttons.cancel;
    ui.cancel.disabled = this.#busy;
    ui.dismiss.hidden = !buttons.dismiss;
    this.#keepFocus();
    this.#host.changed(this);
  }

  /** A button that disappears under the keyboard hands focus to its neighbour, not to the page. */
  #keepFocus(): void {
    const root = this.element.getRootNode() as Document | ShadowRoot;
    const active = root.activeElement;
    if (!(active instanceof HTMLButtonElement) || !this.element.contains(active) || !active.hidden) return;
    const next = Array.from(this.element.querySelectorAll('button')).find((b) => !b.hidden && !b.disabled);
    next?.focus();
  }
}
