/**
 * Unfinished uploads kept in the browser's resume store, for the rows that say "pick the file
 * again": only this broker's, only those the signed-in user can still finish. Records the
 * broker says are over (completed, aborted, expired) are forgotten; records it does not show
 * this user are kept, since they may be another user's on this browser.
 */
import type { BrokerClient, ResumeRecord, ResumeStore } from '@hoist/client/core';
import { isUploadError } from '@hoist/client/core';

export interface Resumable {
  record: ResumeRecord;
  /** Bytes S3 already holds for it, by the broker's list of parts. */
  confirmedBytes: number;
}

export async function findResumable(
  store: ResumeStore,
  client: BrokerClient,
  brokerUrl: string,
  now: number = Date.now(),
): Promise<Resumable[]> {
  const records = (await store.list()).filter((record) => record.brokerUrl === brokerUrl);
  const found = await Promise.all(
    records.map(async (record): Promise<Resumable | undefined> => {
      if (Date.parse(record.expiresAt) <= now) {
        await store.delete(record.key);
        return undefined;
      }
      try {
        const view = await client.get(record.id);
        if (view.status === 'created' || view.status === 'uploading') {
          const confirmedBytes = (view.parts ?? []).reduce((sum, part) => sum + part.size, 0);
          return { record, confirmedBytes: Math.min(confirmedBytes, record.fileSize) };
        }
        await store.delete(record.key);
      } catch (error) {
        // 'upload-gone' is also how the broker answers for another user's upload: keep it.
        if (!isUploadError(error)) throw error;
      }
      return undefined;
    }),
  );
  return found
    .filter((item): item is Resumable => item !== undefined)
    .sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
}
