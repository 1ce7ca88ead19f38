/** ResumeStore on IndexedDB, so unfinished uploads survive a reload or a closed tab. */
import { UploadError } from '../errors.ts';
import type { ResumeRecord, ResumeStore } from '../types.ts';

const STORE = 'uploads';
// Bump with an upgrade step in onupgradeneeded when the layout changes.
const DB_VERSION = 1;

function promised<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('Transaction aborted', 'AbortError'));
  });
}

function open(dbName: string): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined') {
    return Promise.reject(
      new UploadError('invalid-options', 'IndexedDB is not available here: pass another `store`'),
    );
  }
  const request = indexedDB.open(dbName, DB_VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'key' });
  };
  return promised(request);
}

/**
 * Resume records in one IndexedDB object store keyed by `record.key`.
 * The database opens on first use; failures reject with the IndexedDB DOMException
 * (`QuotaExceededError`, `InvalidStateError`, …), or UploadError('invalid-options') when the
 * browser has no IndexedDB.
 * @param dbName @default 'hoist-uploads'
 */
export function createIndexedDbStore(dbName = 'hoist-uploads'): ResumeStore {
  let db: Promise<IDBDatabase> | undefined;
  const connection = (): Promise<IDBDatabase> => {
    if (!db) {
      db = open(dbName).then(
        (opened) => {
          // Another tab upgrading the schema: step aside, reopen on next use.
          opened.onversionchange = () => {
            opened.close();
            db = undefined;
          };
          opened.onclose = () => {
            db = undefined;
          };
          return opened;
        },
        (error: unknown) => {
          db = undefined;
          throw error;
        },
      );
    }
    return db;
  };
  const objects = async (mode: IDBTransactionMode): Promise<[IDBObjectStore, IDBTransaction]> => {
    const tx = (await connection()).transaction(STORE, mode);
    return [tx.objectStore(STORE), tx];
  };

  return {
    async get(key) {
      const [store] = await objects('readonly');
      return (await promised(store.get(key))) as ResumeRecord | undefined;
    },
    async set(record) {
      const [store, tx] = await objects('readwrite');
      store.put(record);
      // Resolve when the transaction commits, not when the request succeeds: a reload right after must find it.
      await committed(tx);
    },
    async delete(key) {
      const [store, tx] = await objects('readwrite');
      store.delete(key);
      await committed(tx);
    },
    async list() {
      const [store] = await objects('readonly');
      return (await promised(store.getAll())) as ResumeRecord[];
    },
  };
}
