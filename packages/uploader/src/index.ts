/**
 * The `<hoist-uploader>` web component: load this module (built as `hoist-uploader.js`, next to
 * `hoist-hash-worker.js`) and use the element in any page or framework.
 *
 * @example
 * ```html
 * <script type="module" src="/assets/hoist-uploader.js"></script>
 * <hoist-uploader broker-url="https://app.example/api/hoist" accept="video/*,.mp4" max-size="5GiB"></hoist-uploader>
 * <script>document.querySelector('hoist-uploader').tokenProvider = () => getSessionToken();</script>
 * ```
 * @module
 */
import type { UploadErrorCode, UploadProgress } from '@hoist/client/core';
import type { UploadView } from '@hoist/protocol';
import { HoistUploaderElement } from './element.ts';

export { HoistUploaderElement, type TokenCallback } from './element.ts';
export type { UploadErrorCode, UploadProgress, UploadView };

/** The events the element dispatches, with their `detail`. */
export interface HoistUploaderEventMap {
  'hoist-upload-start': CustomEvent<{ filename: string; size: number; resumed: boolean }>;
  'hoist-upload-progress': CustomEvent<{ filename: string; id: string | undefined } & UploadProgress>;
  'hoist-upload-complete': CustomEvent<UploadView>;
  'hoist-upload-error': CustomEvent<{ code: UploadErrorCode; message: string; filename: string }>;
}

declare global {
  interface HTMLElementTagNameMap {
    'hoist-uploader': HoistUploaderElement;
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('hoist-uploader'))
  customElements.define('hoist-uploader', HoistUploaderElement);
