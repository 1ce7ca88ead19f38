/**
 * The engine in browsers: a File or Blob read with Blob.slice, XMLHttpRequest for upload
 * progress, checksums in Web Workers, and resume state in IndexedDB.
 */

import type { HttpTransport, PartHasher, ResumeStore, UploadOptions } from '../types.ts';
import { Upload } from '../upload.ts';
import { blobSource } from './blob-source.ts';
import { createIndexedDbStore } from './indexeddb-store.ts';
import { createWorkerHasher, type WorkerHasherOptions } from './worker-hasher.ts';
import { createXhrTransport } from './xhr-transport.ts';

export { BrokerClient } from '../broker-client.ts';
export { isUploadError, UPLOAD_ERROR_CODES, UploadError, type UploadErrorCode } from '../errors.ts';
export { fingerprint } from '../fingerprint.ts';
export type * from '../types.ts';
export { createUpload, Upload } from '../upload.ts';
export { blobSource } from './blob-source.ts';
export { createIndexedDbStore } from './indexeddb-store.ts';
export { createWorkerHasher, type WorkerHasher, type WorkerHasherOptions } from './worker-hasher.ts';
export { createXhrTransport } from './xhr-transport.ts';

export interface BrowserUploadOptions
  extends Omit<UploadOptions, 'source' | 'transport' | 'hasher' | 'store'> {
  transport?: HttpTransport | undefined;
  /** Default: a shared Web Worker hasher (see `worker`). */
  hasher?: PartHasher | undefined;
  /** Default: IndexedDB (`hoist-uploads`); `null` keeps no resume state. */
  store?: ResumeStore | null | undefined;
  /** Where the bundled hash worker lives, when not next to this script. */
  worker?: WorkerHasherOptions | undefined;
}

let sharedHasher: PartHasher | undefined;
let sharedStore: ResumeStore | undefined;

/** The IndexedDB store every upload on this page shares by default. */
export function defaultStore(): ResumeStore {
  sharedStore ??= createIndexedDbStore();
  return sharedStore;
}

/** An upload of `file` (a File from an input or a drop, or any Blob with a name). */
export function createBrowserUpload(file: Blob, options: BrowserUploadOptions): Upload {
  const { worker, store, hasher, transport, ...rest } = options;
  if (!hasher) sharedHasher ??= createWorkerHasher(worker);
  return new Upload({
    ...rest,
    source: blobSource(file),
    transport: transport ?? createXhrTransport(),
    hasher: hasher ?? (sharedHasher as PartHasher),
    store: store === null ? undefined : (store ?? defaultStore()),
  });
}
