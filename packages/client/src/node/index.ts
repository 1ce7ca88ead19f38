/**
 * The engine in Node: a file by path, node:http transport, native checksums and an
 * optional JSON state file for resuming after a crash or a rerun.
 */
import { resolve } from 'node:path';
import type { ChecksumAlgorithm, UploadView } from '@hoist/protocol';
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

/**
 * The Node engine's checksum when none is asked for: CRC32, which zlib computes natively at
 * several GB/s (CRC32C and CRC64NVME run in WASM, ~5× the CPU) and every store with flexible
 * checksums accepts (AWS SDKs default to it). Browsers keep the core's CRC32C.
 */
export const NODE_DEFAULT_CHECKSUM = 'CRC32' satisfies ChecksumAlgorithm;

export interface NodeUploadOptions extends Omit<UploadOptions, 'source' | 'transport' | 'hasher' | 'store'> {
  /** @default 'CRC32' (see NODE_DEFAULT_CHECKSUM) */
  checksumAlgorithm?: ChecksumAlgorithm | undefined;
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
    const store = options.store ?? (stateFile ? createJsonFileStore(stateFile) : undefined);
    const resumeKey = options.resumeKey ?? nodeResumeKey(options.brokerUrl, absolute);
    upload = new Upload({
      ...rest,
      checksumAlgorithm: options.checksumAlgorithm ?? (await storedAlgorithm(options, store, resumeKey)),
      source,
      transport: options.transport ?? (ownTransport as HttpTransport),
      hasher: options.hasher ?? createNodeHasher(),
      store,
      resumeKey,
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

/**
 * The default algorithm, or the one an unfinished upload of this file was started with (by an
 * engine whose default was CRC32C), so resuming it keeps its parts' algorithm. A store that
 * cannot be read here fails the upload's start, as before.
 */
async function storedAlgorithm(
  options: NodeUploadOptions,
  store: ResumeStore | undefined,
  resumeKey: string,
): Promise<ChecksumAlgorithm> {
  const stored = options.resumeFrom ?? (await store?.get(resumeKey).catch(() => undefined));
  return stored?.checksumAlgorithm ?? NODE_DEFAULT_CHECKSUM;
}

/** Uploads the file at `path` and resolves with the completed upload. */
export async function uploadFile(path: string, options: NodeUploadOptions): Promise<UploadView> {
  return (await createNodeUpload(path, options)).start();
}
