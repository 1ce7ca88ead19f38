/**
 * The engine in Node: a file by path, node:http transport, hash-wasm checksums and an
 * optional JSON state file for resuming after a crash or a rerun.
 */
import { resolve } from 'node:path';
import type { UploadView } from '@hoist/protocol';
import { normalizeBrokerUrl } from '../options.ts';
import type { HttpTransport, PartHasher, ResumeStore, UploadOptions } from '../types.ts';
import { Upload } from '../upload.ts';
import { openFileSource } from './file-source.ts';
import { createNodeHasher } from './hasher.ts';
import { createJsonFileStore } from './json-store.ts';
import { createNodeTransport } from './transport.ts';

export { guessContentType, type NodeFileSource, openFileSource } from './file-source.ts';
export { createNodeHasher } from './hasher.ts';
export { createJsonFileStore } from './json-store.ts';
export { createNodeTransport, type NodeTransport } from './transport.ts';

/** The resume key of a Node file: the same broker and absolute path, whatever the file holds. */
export function nodeResumeKey(brokerUrl: string, absolutePath: string): string {
  return `${normalizeBrokerUrl(brokerUrl)}|${absolutePath}`;
}

export interface NodeUploadOptions extends Omit<UploadOptions, 'source' | 'transport' | 'hasher' | 'store'> {
  /** Default: a keep-alive node:http(s) transport owned by this upload. */
  transport?: HttpTransport | undefined;
  hasher?: PartHasher | undefined;
  /** Where resume state lives; or `stateFile` for the JSON file store. */
  store?: ResumeStore | undefined;
  /** A JSON file keeping resume state (created on demand, mode 0600). */
  stateFile?: string | undefined;
}

/**
 * An upload of the file at `path`. Rerunning with the same `stateFile` (or store) and path
 * resumes where the last run stopped; the file handle and sockets close when it ends.
 */
export async function createNodeUpload(path: string, options: NodeUploadOptions): Promise<Upload> {
  const absolute = resolve(path);
  const source = await openFileSource(absolute);
  const ownTransport = options.transport === undefined ? createNodeTransport() : undefined;
  const { stateFile, ...rest } = options;
  let upload: Upload;
  try {
    upload = new Upload({
      ...rest,
      source,
      transport: options.transport ?? (ownTransport as HttpTransport),
      hasher: options.hasher ?? createNodeHasher(),
      store: options.store ?? (stateFile ? createJsonFileStore(stateFile) : undefined),
      resumeKey: options.resumeKey ?? nodeResumeKey(options.brokerUrl, absolute),
    });
  } catch (error) {
    ownTransport?.close();
    await source.close();
    throw error;
  }
  const release = () => {
    ownTransport?.close();
    void source.close();
  };
  upload.on('state', ({ state }) => {
    if (state === 'completed' || state === 'failed' || state === 'aborted') release();
  });
  return upload;
}

/** Uploads the file at `path` and resolves with the completed upload. */
export async function uploadFile(path: string, options: NodeUploadOptions): Promise<UploadView> {
  return (await createNodeUpload(path, options)).start();
}
