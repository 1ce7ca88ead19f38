/**
 * Settling POST-form uploads nobody completed. A form goes straight to S3 and Uppy never tells
 * the backend it is done, so the broker looks itself — a HeadObject verified as a completion
 * would be (UploadService.settleForm):
 *
 * - lazily, when the owner reads their uploads (`GET /uploads`, `GET /uploads/:id`): at most a
 *   few HeadObjects per request, oldest open forms first, so a long list costs no more;
 * - in the sweeper, once the form has expired: nothing can arrive any more, so an object there
 *   is verified (completed, or deleted and rejected) and an empty key expires as usual.
 */

import { isFormUpload } from './post-form.ts';
import { OPEN_STATUSES } from './registry/record.ts';
import type { UploadRecord } from './types.ts';

/** HeadObjects one read of the registry may spend on open forms. */
export const RECONCILE_PER_REQUEST = 5;

export type FormSettlement = 'completed' | 'rejected' | 'absent' | 'closed';

export interface FormSettler {
  settleForm(id: string): Promise<FormSettlement>;
}

const OPEN: readonly string[] = OPEN_STATUSES;

export function isOpenForm(record: UploadRecord): boolean {
  return isFormUpload(record) && OPEN.includes(record.status);
}

/**
 * Settles up to `limit` open form uploads among `records` (oldest first). A store failure is
 * reported and left for the next read: a listing never fails because of it.
 * @returns whether any record changed (the caller reads them again)
 */
export async function reconcileForms(
  settler: FormSettler,
  records: readonly UploadRecord[],
  options: { limit?: number; onError?: (error: unknown, record: UploadRecord) => void } = {},
): Promise<boolean> {
  const open = records
    .filter(isOpenForm)
    .sort((a, b) => a.createdAt - b.createdAt)
    .slice(0, options.limit ?? RECONCILE_PER_REQUEST);
  let changed = false;
  for (const record of open) {
    try {
      if ((await settler.settleForm(record.id)) !== 'absent') changed = true;
    } catch (error) {
      options.onError?.(error, record);
    }
  }
  return changed;
}

/**
 * The sweeper's `settle` hook: an expired form upload with an object at its key is verified
 * instead of expired (true: the sweeper leaves it); any other record is the sweeper's (false).
 * A failure throws, so the sweeper keeps the record for its next run rather than delete an
 * object that may be valid.
 */
export function settleExpiredForms(settler: FormSettler): (record: UploadRecord) => Promise<boolean> {
  return async (record) => {
    if (!isOpenForm(record)) return false;
    return (await settler.settleForm(record.id)) !== 'absent';
  };
}
