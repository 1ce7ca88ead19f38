/**
 * `@hoist/client` as browsers and bundlers resolve it (the `browser` and `default` export
 * conditions): the engine with the XHR transport, the Web Worker hasher and an IndexedDB
 * resume store. The Node build (`../node/main.ts`) exports the same names.
 * @module
 */
import type { UploadView } from '@hoist/protocol';
import type { HttpTransport, PartHasher, ResumeStore } from '../types.ts';
import type { Upload } from '../upload.ts';
import {
  type BrowserUploadOptions,
  createBrowserUpload,
  createIndexedDbStore,
  createWorkerHasher,
  createXhrTransport,
} from './index.ts';

export * from '../index.ts';

/** Which build of `@hoist/client` this is. */
export const PLATFORM = 'browser';

/** What `createFileUpload` and `uploadFile` take: a Blob (a File) in browsers, a path on Node. */
export type FileInput = Blob;
export type FileUploadOptions = BrowserUploadOptions;

/** The default transport: XMLHttpRequest (upload progress events). */
export function createTransport(): HttpTransport {
  return createXhrTransport();
}

/** The default part hasher: a Web Worker (main-thread fallback). */
export function createHasher(): PartHasher {
  return createWorkerHasher();
}

/** The default resume store: IndexedDB, database `location` (default `hoist-uploads`). */
export function createResumeStore(location?: string): ResumeStore {
  return createIndexedDbStore(location);
}

/** An upload of `input`, not started. */
export function createFileUpload(input: FileInput, options: FileUploadOptions): Promise<Upload> {
  return Promise.resolve(createBrowserUpload(input, options));
}

/** Uploads `input` and resolves with the broker's view of the stored object. */
export async function uploadFile(input: FileInput, options: FileUploadOptions): Promise<UploadView> {
  return (await createFileUpload(input, options)).start();
}
