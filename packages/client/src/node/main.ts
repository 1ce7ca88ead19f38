/**
 * `@hoist/client` as Node resolves it (the `node` export condition): the engine with the
 * node:http(s) transport, the worker-free Node hasher and a JSON-file resume store. The
 * browser build (`../browser/main.ts`) exports the same names.
 * @module
 */
import type { UploadView } from '@hoist/protocol';
import type { HttpTransport, PartHasher, ResumeStore } from '../types.ts';
import type { Upload } from '../upload.ts';
import {
  createJsonFileStore,
  createNodeHasher,
  createNodeTransport,
  createNodeUpload,
  type NodeUploadOptions,
} from './index.ts';

export * from '../index.ts';

/** Which build of `@hoist/client` this is. */
export const PLATFORM = 'node';

/** What `createFileUpload` and `uploadFile` take: a file path on Node, a Blob in browsers. */
export type FileInput = string;
export type FileUploadOptions = NodeUploadOptions;

/** The default transport: keep-alive node:http(s). Close it with `close()` when done. */
export function createTransport(): HttpTransport {
  return createNodeTransport();
}

/** The default part hasher. */
export function createHasher(): PartHasher {
  return createNodeHasher();
}

/** The default resume store: a JSON file (mode 0600) at `location`. */
export function createResumeStore(location: string): ResumeStore {
  return createJsonFileStore(location);
}

/** An upload of the file at `input`, not started. */
export function createFileUpload(input: FileInput, options: FileUploadOptions): Promise<Upload> {
  return createNodeUpload(input, options);
}

/** Uploads the file at `input` and resolves with the broker's view of the stored object. */
export async function uploadFile(input: FileInput, options: FileUploadOptions): Promise<UploadView> {
  return (await createFileUpload(input, options)).start();
}
