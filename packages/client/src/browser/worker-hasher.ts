/**
 * PartHasher that digests parts in dedicated Web Workers, so CRCs of 8–64 MiB parts never
 * block the page; falls back to hashing on the main thread where workers cannot run. File
 * slices (`digestBlob`) go to the worker as Blobs, which it reads itself: the page never reads
 * a part's bytes, and no copy of them crosses threads.
 */
import type { DigestAlgorithm } from '@hoist/protocol';
import { UploadError } from '../errors.ts';
import type { PartHasher } from '../types.ts';
import { readBlob } from './blob-source.ts';
import type { HashReply, HashRequest } from './hash-protocol.ts';

export interface WorkerHasherOptions {
  /** Workers to spread parts over, 1..16. @default min(2, navigator.hardwareConcurrency) */
  workers?: number | undefined;
  /**
   * The bundled worker script (same origin as the page: browsers refuse cross-origin workers).
   * @default new URL('./hoist-hash-worker.js', import.meta.url)
   */
  workerUrl?: string | URL | undefined;
}

export interface WorkerHasher extends PartHasher {
  /** Where digests run: 'main-thread' once workers turned out to be unavailable. */
  readonly backend: 'worker' | 'main-thread';
  /** Stops the workers and rejects pending digests; a later digest starts them again. */
  terminate(): void;
}

interface Job {
  resolve(digest: string): void;
  reject(error: unknown): void;
  algorithm: DigestAlgorithm;
  input: Uint8Array | Blob;
}

interface Slot {
  worker: Worker;
  jobs: Map<number, Job>;
}

export function createWorkerHasher(options: WorkerHasherOptions = {}): WorkerHasher {
  const size = options.workers ?? Math.max(1, Math.min(2, globalThis.navigator?.hardwareConcurrency ?? 1));
  if (!Number.isInteger(size) || size < 1 || size > 16) {
    throw new TypeError('createWorkerHasher: `workers` must be an integer from 1 to 16');
  }
  let slots: Slot[] = [];
  let nextId = 1;
  let broken = typeof Worker === 'undefined';
  let fallback: Promise<PartHasher> | undefined;

  // Loaded only when needed, so pages whose workers run never load hash-wasm themselves.
  const onMainThread = async (algorithm: DigestAlgorithm, input: Uint8Array | Blob): Promise<string> => {
    fallback ??= import('../checksum.ts').then((module) => module.createPartHasher());
    const bytes = input instanceof Blob ? await readBlob(input) : input;
    return (await fallback).digest(algorithm, bytes);
  };

  // A worker that fails to load (404, CSP) reports an error event: hash its jobs here instead.
  const giveUp = (slot: Slot): void => {
    broken = true;
    slot.worker.terminate();
    slots = slots.filter((other) => other !== slot);
    for (const job of slot.jobs.values())
      onMainThread(job.algorithm, job.input).then(job.resolve, job.reject);
    slot.jobs.clear();
  };

  const spawn = (): Slot | undefined => {
    let worker: Worker;
    try {
      worker = new Worker(options.workerUrl ?? new URL('./hoist-hash-worker.js', import.meta.url), {
        name: 'hoist-hash',
      });
    } catch {
      broken = true; // SecurityError: a cross-origin script or a sandboxed page.
      return undefined;
    }
    const slot: Slot = { worker, jobs: new Map() };
    worker.onmessage = (event: MessageEvent<HashReply>) => {
      const reply = event.data;
      const job = slot.jobs.get(reply.id);
      if (!job) return;
      slot.jobs.delete(reply.id);
      if ('digest' in reply) job.resolve(reply.digest);
      else
        job.reject(reply.unreadable ? new UploadError('read-failed', reply.error) : new Error(reply.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      giveUp(slot);
    };
    worker.onmessageerror = () => giveUp(slot);
    slots.push(slot);
    return slot;
  };

  const pick = (): Slot | undefined => {
    const idle = slots.find((slot) => slot.jobs.size === 0);
    if (idle) return idle;
    if (slots.length < size) return spawn();
    return slots.reduce<Slot | undefined>(
      (best, slot) => (best && best.jobs.size <= slot.jobs.size ? best : slot),
      undefined,
    );
  };

  const post = (algorithm: DigestAlgorithm, input: Uint8Array | Blob): Promise<string> => {
    const slot = broken ? undefined : pick();
    if (!slot) return onMainThread(algorithm, input);
    return new Promise<string>((resolve, reject) => {
      const id = nextId++;
      slot.jobs.set(id, { resolve, reject, algorithm, input });
      // Always a Blob, which is cloned as a handle: a File slice costs no copy at all, bytes one
      // (the engine still sends them, and posting a view would clone its whole buffer).
      const message: HashRequest = {
        id,
        algorithm,
        blob: input instanceof Blob ? input : new Blob([input as BlobPart]),
      };
      slot.worker.postMessage(message);
    });
  };

  return {
    get backend() {
      return broken ? 'main-thread' : 'worker';
    },
    digest: (algorithm, bytes) => post(algorithm, bytes),
    digestBlob: (algorithm, blob) => post(algorithm, blob),
    terminate() {
      for (const slot of slots) {
        slot.worker.terminate();
        for (const job of slot.jobs.values())
          job.reject(new DOMException('The hasher was terminated.', 'AbortError'));
      }
      slots = [];
    },
  };
}
