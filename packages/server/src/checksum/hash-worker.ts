/**
 * Worker thread that hashes request bodies off the event loop: MD5 alone runs at
 * about 0.7 GB/s here, which would otherwise cap every upload the main thread serves.
 *
 * Bytes arrive through shared memory, not messages: each session has a ring
 * (a SharedArrayBuffer) the event loop copies body bytes into, and two shared
 * counters (bytes published, bytes hashed). The worker sleeps on one shared
 * doorbell and, once woken, reads commands (open, digest, close) from its port
 * synchronously, then hashes whatever every ring holds. Messages per MiB, and the
 * ArrayBuffer moved back and forth with each, cost more CPU than MD5 itself did.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  HASH_WORKER,
  HASHED,
  type HashAlgorithm,
  type HashRequest,
  type HashResponse,
  type HashWorkerData,
  PUBLISHED,
} from './hash-protocol.ts';
import { createChecksumHasher, createMd5Hasher, type Hasher } from './hasher.ts';

export type { HashAlgorithm } from './hash-protocol.ts';

interface Session {
  hashers: [HashAlgorithm, Hasher][];
  ring: Uint8Array;
  counters: Int32Array;
  hashed: number;
}

/** Bytes hashed per session before the worker looks at its commands and the next session. */
const ROUND_BYTES = 512 * 1024;

function hasherFor(algorithm: HashAlgorithm): Hasher {
  return algorithm === 'MD5' ? createMd5Hasher() : createChecksumHasher(algorithm);
}

/**
 * Hashes the bytes published in the session's ring, freeing the space as it goes,
 * until the ring is empty or `budget` bytes are done; returns whether it emptied it.
 */
function drain(session: Session, budget = Infinity): boolean {
  const size = session.ring.length;
  for (let done = 0; done < budget; ) {
    const available = (Atomics.load(session.counters, PUBLISHED) - session.hashed) >>> 0;
    if (available === 0) return true;
    const at = (session.hashed >>> 0) % size;
    const n = Math.min(available, size - at, budget - done);
    const view = session.ring.subarray(at, at + n);
    for (const [, hasher] of session.hashers) hasher.update(view);
    session.hashed = (session.hashed + n) | 0;
    done += n;
    Atomics.store(session.counters, HASHED, session.hashed);
    Atomics.notify(session.counters, HASHED);
  }
  return false;
}

function run({ doorbell, port }: Pick<HashWorkerData, 'doorbell' | 'port'>): never {
  const sessions = new Map<number, Session>();
  const handle = (message: HashRequest): void => {
    switch (message.type) {
      case 'open':
        sessions.set(message.session, {
          hashers: message.algorithms.map((algorithm) => [algorithm, hasherFor(algorithm)]),
          ring: message.ring,
          counters: message.counters,
          hashed: 0,
        });
        break;
      case 'digest': {
        const session = sessions.get(message.session);
        sessions.delete(message.session);
        if (!session) break;
        // Everything was published before the command was sent.
        drain(session);
        const digests = session.hashers.map(([algorithm, hasher]): [HashAlgorithm, Uint8Array] => [
          algorithm,
          hasher.digest(),
        ]);
        port.postMessage({ type: 'digest', session: message.session, digests } satisfies HashResponse);
        break;
      }
      case 'close':
        sessions.delete(message.session);
        break;
    }
  };
  const handleCommands = (): void => {
    for (let received = receiveMessageOnPort(port); received; received = receiveMessageOnPort(port)) {
      handle(received.message as HashRequest);
    }
  };
  for (;;) {
    const rung = Atomics.load(doorbell, 0);
    handleCommands();
    // A slice per session per round: a fast upload cannot starve the others. Commands
    // are read between slices, so a finished body's digest waits for its own bytes,
    // not for a round over every other session's ring (measured 9–16 ms per part with
    // 4 parts in flight on one worker, bench:server).
    let idle = true;
    for (const session of sessions.values()) {
      if (!drain(session, ROUND_BYTES)) idle = false;
      handleCommands();
    }
    // Returns at once if the doorbell rang since it was read above.
    if (idle) Atomics.wait(doorbell, 0, rung);
  }
}

// Only in the worker the pool starts, whatever other thread imports this module.
const data = workerData as Partial<HashWorkerData> | null;
if (data?.kind === HASH_WORKER && data.doorbell && data.port)
  run({ doorbell: data.doorbell, port: data.port });
