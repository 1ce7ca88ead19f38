/**
 * Settling a POST-form upload nobody completed (reconcile.ts decides when): the object at its
 * key verified as a completion would verify it, with the same registry transition, log, metrics
 * and webhook — or, when nothing is there, left as it is.
 */
import { BrokerProblem } from '../errors.ts';
import { isFormUpload } from '../post-form.ts';
import type { FormSettlement } from '../reconcile.ts';
import { announceCompleted, completeSingle } from './complete.ts';
import { type Lifecycle, NOTHING_YET, OPEN } from './context.ts';

/**
 * `completed` (verified now or before), `rejected` (deleted), `absent` (nothing at the key yet)
 * or `closed` (not an open form upload, e.g. another process expired it first).
 */
export function settleForm(lc: Lifecycle, id: string): Promise<FormSettlement> {
  return lc.serial(id, async () => {
    const record = await lc.registry.get(id);
    if (record?.status === 'completed') return 'completed';
    if (!record || !isFormUpload(record) || !OPEN.includes(record.status)) return 'closed';
    try {
      announceCompleted(lc, await completeSingle(lc, record, []), record.userId);
      return 'completed';
    } catch (error) {
      if (!(error instanceof BrokerProblem)) throw error;
      if (error.type === 'upload-rejected') return 'rejected';
      if (error.message === NOTHING_YET) return 'absent';
      if (error.type === 'conflict') return 'closed';
      throw error;
    }
  });
}
