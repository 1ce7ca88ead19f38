/**
 * Hash sessions for request bodies. Large bodies are hashed on a small pool of
 * worker threads (so MD5 runs beside the socket reads and disk writes instead of
 * between them); small ones inline, where a round trip would cost more than it saves.
 * Bytes are staged into 1 MiB buffers and transferred, and a session stops taking
 * bytes while more than a few MiB wait for its worker, so memory stays bounded.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { HashAlgorithm, HashRequest, HashResponse } from './hash-worker.ts';
import { createChecksumHasher, createMd5Hasher } from './hasher.ts';

export type { HashAlgorithm } from './hash-worker.ts';

export interface HashSession {
  /** Feeds bytes in order; when it returns a promise, wait for it before feeding more. */
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** Every algorithm's digest; the session is finished afterwards. */
  digest(): Promise<Map<HashAlgorithm, Buffer>>;
  /** Abandons the session (on a failed request). */
  close(): void;
}

const STAGE_BYTES = 1024 * 1024;
const MAX_PENDING_BYTES = 4 * STAGE_BYTES;
/** Staging buffers kept for reuse per worker (each session holds at most 5 at a time). */
const MAX_FREE_BUFFERS = 16;

export function inlineHashSession(algorithms: readonly HashAlgorithm[]): HashSession {
  const hashers = algorithms.map(
    (algorithm) =>
      [algorithm, algorithm === 'MD5' ? createMd5Hasher() : createChecksumHasher(algorithm)] as const,
  );
  return {
    update(chunk) {
      for (const [, hasher] of hashers) hasher.update(chunk);
      return undefined;
    },
    async digest() {
      return new Map(hashers.map(([algorithm, hasher]) => [algorithm, hasher.digest()]));
    },
    close() {},
  };
}

interface SessionState {
  pending: number;
  waiting: (() => void) | undefined;
  onDigest: ((digests: Map<HashAlgorithm, Buffer>) => void) | undefined;
  onError: (error: Error) => void;
}

class PooledWorker {
  readonly worker: Worker;
  readonly sessions = new Map<number, SessionState>();
  readonly free: ArrayBuffer[] = [];
  failure: Error | undefined;

  takeBuffer(): Buffer {
    const reused = this.free.pop();
    return reused ? Buffer.from(reused) : Buffer.allocUnsafeSlow(STAGE_BYTES);
  }

  constructor() {
    // Next to this module: hash-worker.ts when run from source, hash-worker.js once built.
    const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.worker = new Worker(new URL(`./hash-worker.${extension}`, import.meta.url));
    this.worker.unref();
    this.worker.on('message', (message: HashResponse) => {
      if (message.type === 'ack' && this.free.length < MAX_FREE_BUFFERS) this.free.push(message.bytes);
      const state = this.sessions.get(message.session);
      if (!state) return;
      if (message.type === 'ack') {
        state.pending -= message.length;
        if (state.pending < MAX_PENDING_BYTES && state.waiting) {
          const resume = state.waiting;
          state.waiting = undefined;
          resume();
        }
      } else {
        this.sessions.delete(message.session);
        state.onDigest?.(
          new Map(message.digests.map(([algorithm, bytes]) => [algorithm, Buffer.from(bytes)])),
        );
      }
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`hash worker exited with code ${code}`)));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const state of this.sessions.values()) state.onError(error);
    this.sessions.clear();
  }

  post(message: HashRequest, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer ?? []);
  }
}

export class HashPool {
  private readonly size: number;
  private readonly workers: PooledWorker[] = [];
  private nextWorker = 0;
  private nextSession = 1;

  /** One core stays for the event loop: MD5 of one stream cannot be split, so more workers only help parallel uploads. */
  constructor(size = Math.max(1, Math.min(4, availableParallelism() - 1))) {
    this.size = size;
  }

  private pick(): PooledWorker {
    let worker = this.workers[this.nextWorker % this.size];
    if (!worker || worker.failure) {
      worker = new PooledWorker();
      this.workers[this.nextWorker % this.size] = worker;
    }
    this.nextWorker++;
    return worker;
  }

  open(algorithms: readonly HashAlgorithm[]): HashSession {
    const worker = this.pick();
    const session = this.nextSession++;
    let failure: Error | undefined;
    const state: SessionState = {
      pending: 0,
      waiting: undefined,
      onDigest: undefined,
      onError: (error) => {
        failure = error;
        state.waiting?.();
      },
    };
    worker.sessions.set(session, state);
    worker.post({ type: 'open', session, algorithms: [...algorithms] });
    let stage = worker.takeBuffer();
    let staged = 0;

    const flush = () => {
      if (staged === 0) return;
      const bytes = stage.buffer as ArrayBuffer;
      worker.post({ type: 'data', session, bytes, length: staged }, [bytes]);
      state.pending += staged;
      stage = worker.takeBuffer();
      staged = 0;
    };

    return {
      update(chunk) {
        if (failure) throw failure;
        let offset = 0;
        while (offset < chunk.length) {
          const n = Math.min(chunk.length - offset, STAGE_BYTES - staged);
          stage.set(chunk.subarray(offset, offset + n), staged);
          staged += n;
          offset += n;
          if (staged === STAGE_BYTES) flush();
        }
        if (state.pending < MAX_PENDING_BYTES) return undefined;
        return new Promise<void>((resolve) => {
          state.waiting = resolve;
        }).then(() => {
          if (failure) throw failure;
        });
      },
      digest() {
        if (failure) return Promise.reject(failure);
        flush();
        return new Promise((resolve, reject) => {
          state.onDigest = resolve;
          state.onError = reject;
          worker.post({ type: 'digest', session });
        });
      },
      close() {
        if (worker.sessions.delete(session)) worker.post({ type: 'close', session });
      },
    };
  }

  async close(): Promise<void> {
    const running = this.workers.splice(0);
    await Promise.all(running.map((w) => w.worker.terminate()));
  }
}
