import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeRecord } from '../../../test/helpers/registry-suite.ts';
import { bucketUrl, formMetadata, isFormUpload, sizeIsBound } from './post-form.ts';
import {
  type FormSettlement,
  RECONCILE_PER_REQUEST,
  reconcileForms,
  settleExpiredForms,
} from './reconcile.ts';
import type { UploadRecord } from './types.ts';

const form = (overrides: Partial<UploadRecord> = {}, bound = false) =>
  makeRecord({ uploadId: null, metadata: formMetadata(bound), ...overrides });

/** Settles each id with the scripted answer (or throws it), recording the calls. */
function settler(answers: Record<string, FormSettlement | Error> = {}) {
  const calls: string[] = [];
  return {
    calls,
    async settleForm(id: string): Promise<FormSettlement> {
      calls.push(id);
      const answer = answers[id] ?? 'absent';
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
}

describe('form upload records', () => {
  it('are single-request records marked as forms; the size may be a bound', () => {
    assert.equal(isFormUpload(form()), true);
    assert.equal(isFormUpload(makeRecord({ uploadId: null })), false, 'a PUT upload');
    assert.equal(isFormUpload(makeRecord({ metadata: formMetadata(false) })), false, 'multipart');
    assert.equal(sizeIsBound(form({}, true)), true);
    assert.equal(sizeIsBound(form()), false);
  });

  it('are POSTed to the bucket, path-style or virtual-hosted', () => {
    const s3 = { region: 'eu-west-1', bucket: 'b', endpoint: 'http://127.0.0.1:9000/' };
    assert.equal(bucketUrl({ ...s3, forcePathStyle: true }), 'http://127.0.0.1:9000/b');
    assert.equal(bucketUrl({ region: 'eu-west-1', bucket: 'b' }), 'https://b.s3.eu-west-1.amazonaws.com');
  });
});

describe('reconcileForms', () => {
  it('settles the oldest open forms only, at most the limit, and says whether any changed', async () => {
    const records = [
      ...Array.from({ length: RECONCILE_PER_REQUEST + 2 }, (_, i) =>
        form({ id: `f${i}`, createdAt: 100 - i }),
      ),
      form({ id: 'done', status: 'completed' }),
      makeRecord({ id: 'multipart' }),
    ];
    const s = settler();
    assert.equal(await reconcileForms(s, records), false, 'nothing there yet: nothing changed');
    assert.equal(s.calls.length, RECONCILE_PER_REQUEST);
    assert.deepEqual(s.calls.slice(0, 2), ['f6', 'f5'], 'oldest first');
    assert.equal(await reconcileForms(settler({ f1: 'completed' }), records, { limit: 10 }), true);
  });

  it('reports a failure and goes on: a listing never fails because of the store', async () => {
    const failures: string[] = [];
    const s = settler({ a: new Error('store down'), b: 'rejected' });
    const changed = await reconcileForms(
      s,
      [form({ id: 'a', createdAt: 1 }), form({ id: 'b', createdAt: 2 })],
      {
        onError: (_, record) => failures.push(record.id),
      },
    );
    assert.equal(changed, true);
    assert.deepEqual(failures, ['a']);
    assert.deepEqual(s.calls, ['a', 'b']);
  });
});

describe('settleExpiredForms (the sweeper hook)', () => {
  it('leaves other records to the sweeper, settles forms with an object, throws on failure', async () => {
    const hook = settleExpiredForms(settler({ kept: 'completed', bad: 'rejected', err: new Error('down') }));
    assert.equal(await hook(makeRecord()), false, 'multipart: the sweeper expires it');
    assert.equal(await hook(form({ id: 'kept' })), true);
    assert.equal(await hook(form({ id: 'bad' })), true);
    assert.equal(await hook(form({ id: 'empty' })), false, 'nothing at the key: expired as usual');
    await assert.rejects(hook(form({ id: 'err' })), /down/);
  });
});
