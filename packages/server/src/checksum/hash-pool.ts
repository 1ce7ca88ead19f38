/**
 * Hash sessions for request bodies. Large bodies are hashed on a small pool of
 * worker threads (so MD5 runs beside the socket reads and disk writes instead of
 * between them); small ones inline, where a round trip would cost more than it saves.
 * A session copies bytes into its ring of shared memory (one copy, no allocation
 * per chunk, no message per chunk) and asks the caller to wait while the ring is
 * full, so memory stays bounded at RING_BYTES per session.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  HASH_WORKER,
  HASHED,
  type HashAlgorithm,
  type HashRequest,
  type HashResponse,
  type HashWorkerData,
  PUBLISHED,
} from './hash-protocol.ts';
import { createChecksumHasher, createMd5Hasher } from './hasher.ts';

export type { HashAlgorithm } from './hash-protocol.ts';

export interface HashSession {
  /** Feeds bytes in order; when it returns a promise, wait for it before feeding more. */
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** Every algorithm's digest; the session is finished afterwards. */
  digest(): Promise<Map<HashAlgorithm, Buffer>>;
  /** Abandons the session (on a failed request). */
  close(): void;
}

/** Bytes a session may have waiting for its worker (a power of two: see hash-protocol.ts). */
export const RING_BYTES = 2 * 1024 * 1024;
/** The worker is woken after this many new bytes (or when the ring fills, or at the end), not per chunk. */
const DOORBELL_BYTES = 512 * 1024;
/** Rings kept for reuse per worker. */
const MAX_FREE_RINGS = 4;
/** A full ring is re-checked this often even without a notification (a worker that died wakes nobody). */
const WAIT_SLICE_MS = 1000;

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

interface Pending {
  resolve: (digests: Map<HashAlgorithm, Buffer>) => void;
  reject: (error: Error) => void;
}

class PooledWorker {
  readonly worker: Worker;
  readonly #port: MessagePort;
  readonly #doorbell = new Int32Array(new SharedArrayBuffer(4));
  readonly #digests = new Map<number, Pending>();
  readonly #freeRings: Buffer[] = [];
  failure: Error | undefined;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    // Next to this module: hash-worker.ts when run from source, hash-worker.js once built.
    const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.worker = new Worker(new URL(`./hash-worker.${extension}`, import.meta.url), {
      workerData: { kind: HASH_WORKER, doorbell: this.#doorbell, port: port2 } satisfies HashWorkerData,
      transferList: [port2],
    });
    this.worker.unref();
    port1.unref();
    port1.on('message', (message: HashResponse) => {
      const pending = this.#digests.get(message.session);
      this.#digests.delete(message.session);
      pending?.resolve(new Map(message.digests.map(([algorithm, bytes]) => [algorithm, Buffer.from(bytes)])));
    });
    this.worker.on('error', (error) => this.#fail(error));
    this.worker.on('exit', (code) => this.#fail(new Error(`hash worker exited with code ${code}`)));
  }

  #fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.#digests.values()) pending.reject(error);
    this.#digests.clear();
    this.ring();
  }

  /** Wakes the worker: there is a command or new bytes. */
  ring(): void {
    Atomics.add(this.#doorbell, 0, 1);
    Atomics.notify(this.#doorbell, 0);
  }

  send(message: HashRequest): void {
    this.#port.postMessage(message);
    this.ring();
  }

  takeRing(): Buffer {
    return this.#freeRings.pop() ?? Buffer.from(new SharedArrayBuffer(RING_BYTES));
  }

  /** A ring the worker no longer reads (its session was digested). */
  returnRing(ring: Buffer): void {
    if (this.#freeRings.length < MAX_FREE_RINGS) this.#freeRings.push(ring);
  }

  digest(session: number): Promise<Map<HashAlgorithm, Buffer>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.#digests.set(session, { resolve, reject });
      this.send({ type: 'digest', session });
    });
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
    const ring = worker.takeRing();
    const counters = new Int32Array(new SharedArrayBuffer(8));
    worker.send({ type: 'open', session, algorithms: [...algorithms], ring, counters });
    let published = 0;
    let unrung = 0;
    let finished = false;

    const fail = (): void => {
      if (worker.failure) throw worker.failure;
      if (finished) throw new Error('hash session already finished');
    };
    /** Copies what fits of `chunk` from `offset` into the ring; returns the new offset. */
    const publish = (chunk: Uint8Array, offset: number): number => {
      let done = offset;
      while (done < chunk.length) {
        const free = RING_BYTES - ((published - Atomics.load(counters, HASHED)) >>> 0);
        if (free === 0) break;
        const at = (published >>> 0) % RING_BYTES;
        const n = Math.min(free, RING_BYTES - at, chunk.length - done);
        // Buffer#fill with a buffer is a plain memmove (perf); TypedArray#set and Buffer#copy into
        // shared memory copy word by word with relaxed atomics, several times slower.
        ring.fill(n === chunk.length ? chunk : chunk.subarray(done, done + n), at, at + n);
        done += n;
        published = (published + n) | 0;
        unrung += n;
      }
      Atomics.store(counters, PUBLISHED, published);
      if (unrung >= DOORBELL_BYTES || done < chunk.length) {
        unrung = 0;
        worker.ring();
      }
      return done;
    };
    /** Waits for the worker to free ring space, then publishes the rest. */
    const publishRest = async (chunk: Uint8Array, offset: number): Promise<void> => {
      let done = offset;
      while (done < chunk.length) {
        const hashed = Atomics.load(counters, HASHED);
        if ((published - hashed) >>> 0 === RING_BYTES) {
          const wait = Atomics.waitAsync(counters, HASHED, hashed, WAIT_SLICE_MS);
          if (wait.async) await wait.value;
        }
        fail();
        done = publish(chunk, done);
      }
    };

    return {
      update(chunk) {
        fail();
        const done = publish(chunk, 0);
        return done === chunk.length ? undefined : publishRest(chunk, done);
      },
      async digest() {
        fail();
        finished = true;
        const digests = await worker.digest(session);
        worker.returnRing(ring);
        return digests;
      },
      close() {
        if (finished) return;
        finished = true;
        // The ring is not reused: the worker may still be reading it.
        if (!worker.failure) worker.send({ type: 'close', session });
      },
    };
  }

  async close(): Promise<void> {
    const running = this.workers.splice(0);
    await Promise.all(running.map((w) => w.worker.terminate()));
  }
}
