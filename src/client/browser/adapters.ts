/** The browser's adapters for the engine: transport, source, resume store and hasher. */
export { blobSource } from './blob-source.ts';
export { createIndexedDbStore } from './indexeddb-store.ts';
export { createWorkerHasher, type WorkerHasher, type WorkerHasherOptions } from './worker-hasher.ts';
export { createXhrTransport } from './xhr-transport.ts';
