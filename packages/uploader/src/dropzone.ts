/**
 * The drop zone: a `<label>` around a real (visually hidden) `<input type=file multiple>`, so
 * a click, Enter or Space opens the picker and screen readers announce a file chooser; files
 * dropped anywhere on the component land here too.
 */
import { describeAccept, parseAccept } from './checks.ts';
import { h } from './dom.ts';
import { formatBytes } from './format.ts';

const ICON =
  '<svg class="drop-icon" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.8" ' +
  'stroke-linecap="round" stroke-linejoin="round" aria-hidden="true"><path d="M12 16V4m0 0-4.5 4.5M12 4l4.5 4.5"/>' +
  '<path d="M4 15v3a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-3"/></svg>';

export interface DropzoneState {
  /** Signed in with a broker URL: files may be picked and dropped. */
  enabled: boolean;
  /** Why not, when not enabled. */
  disabledText: string;
  accept: string;
  maxSize: number | undefined;
}

export class Dropzone {
  readonly element: HTMLLabelElement;
  readonly input: HTMLInputElement;
  readonly #title = h('span', { class: 'drop-title' });
  readonly #hint = h('span', { class: 'hint', id: 'hint' });
  #enabled = false;

  /** Listens on `root` (the shadow root), so a drop anywhere in the component counts. */
  constructor(root: ShadowRoot, onFiles: (files: FileList) => void) {
    this.input = h('input', {
      type: 'file',
      multiple: true,
      class: 'vh',
      part: 'input',
      'aria-describedby': 'hint',
    });
    this.element = h('label', { class: 'dropzone', part: 'dropzone' }, this.input, this.#title, this.#hint);
    this.element.insertAdjacentHTML('afterbegin', ICON);
    this.input.addEventListener('change', () => {
      if (this.input.files) onFiles(this.input.files);
      this.input.value = ''; // so that picking the same file again fires `change`
    });
    root.addEventListener('dragover', (event) => {
      const data = (event as DragEvent).dataTransfer;
      if (!this.#enabled || !data?.types.includes('Files')) return;
      event.preventDefault();
      data.dropEffect = 'copy';
      this.element.classList.add('over');
    });
    root.addEventListener('dragleave', (event) => {
      if (!this.element.contains((event as DragEvent).relatedTarget as Node | null))
        this.element.classList.remove('over');
    });
    root.addEventListener('drop', (event) => {
      this.element.classList.remove('over');
      const files = (event as DragEvent).dataTransfer?.files;
      if (!files || files.length === 0) return;
      event.preventDefault(); // never let the browser open the file instead
      if (this.#enabled) onFiles(files);
    });
  }

  render(state: DropzoneState): void {
    this.#enabled = state.enabled;
    this.input.disabled = !state.enabled;
    this.input.accept = state.accept;
    this.input.setAttribute('aria-label', state.enabled ? 'Choose files to upload' : state.disabledText);
    this.element.classList.toggle('disabled', !state.enabled);
    if (state.enabled)
      this.#title.replaceChildren('Drop files here or ', h('span', { class: 'browse' }, 'browse'));
    else this.#title.textContent = state.disabledText;
    const accept = parseAccept(state.accept);
    const kinds = accept.length > 0 ? describeAccept(accept) : 'any file';
    const text = `${kinds}${state.maxSize === undefined ? '' : `, up to ${formatBytes(state.maxSize)}`}`;
    this.#hint.textContent = text.charAt(0).toUpperCase() + text.slice(1);
  }
}
