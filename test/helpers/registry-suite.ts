/**
 * The registry contract as tests, run against every implementation (sqlite.test.ts,
 * postgres.test.ts) so both behave alike.
 */

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { BrokerProblem } from '@hoist/broker/internal/errors';
import { openRegistry } from '@hoist/broker/internal/registry/index';
import { MIGRATIONS } from '@hoist/broker/internal/registry/migrations';
import type { IdempotencyLookup, KeyedUploadRecord } from '@hoist/broker/internal/registry/record';
import type { Registry, UploadRecord } from '@hoist/broker/internal/types';

export interface RegistryFixture {
  /** The URL of a fresh, empty registry (a new file or database). */
  fresh(): Promise<string>;
  /** The versions recorded in schema_migrations at `url`. */
  schemaVersions(url: string): Promise<number[]>;
}

interface TestContext {
  after(fn: () => unknown): void;
}

export const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

let sequence = 0;
export function makeRecord(overrides: Partial<UploadRecord> = {}): UploadRecord {
  const id = overrides.id ?? `up_${String(++sequence).padStart(6, '0')}`;
  const userId = overrides.userId ?? 'alice';
  return {
    id,
    userId,
    status: 'created',
    mode: 'sts',
    bucket: 'uploads',
    key: `u/${userId}/${id}/video.mp4`,
    filename: 'vidéo «final».mp4',
    contentType: 'video/mp4',
    size: 10 * 1024 ** 3,
    partSize: 64 * 1024 ** 2,
    checksumAlgorithm: 'CRC32C',
    uploadId: `mpu-${id}`,
    metadata: { title: 'Été 🎬', 'x-app': '1' },
    createdAt: T0,
    updatedAt: T0,
    expiresAt: T0 + 24 * HOUR,
    ...overrides,
  };
}

export function registrySuite(fixture: RegistryFixture): void {
  const open = (t: TestContext, url: string): Registry => {
    const registry = openRegistry(url, { clock: () => T0 });
    t.after(() => registry.close());
    return registry;
  };
  const fresh = async (t: TestContext): Promise<Registry> => open(t, await fixture.fresh());

  it('inserts and gets a record, metadata and all', async (t) => {
    const registry = await fresh(t);
    const record = makeRecord();
    await registry.insert(record);
    assert.deepEqual(await registry.get(record.id), record);
    assert.deepEqual(await registry.getByUploadId(record.uploadId!), record);
    assert.equal(await registry.get('nope'), undefined);
    assert.equal(await registry.getByUploadId('nope'), undefined);

    const single = makeRecord({
      uploadId: null,
      metadata: {},
      size: 0,
      etag: '"e"',
      reason: 'r',
      completedAt: T0,
    });
    await registry.insert(single);
    assert.deepEqual(await registry.get(single.id), single);
  });

  it('refuses a second record with the same id as a conflict', async (t) => {
    const registry = await fresh(t);
    const record = makeRecord();
    await registry.insert(record);
    await assert.rejects(registry.insert({ ...record, userId: 'bob' }), (error: unknown) => {
      assert.ok(error instanceof BrokerProblem);
      assert.equal(error.type, 'conflict');
      return true;
    });
    assert.equal((await registry.get(record.id))?.userId, 'alice');
  });

  it('validates inputs at the edge, naming the field', async (t) => {
    const registry = await fresh(t);
    await assert.rejects(registry.insert(makeRecord({ size: -1 })), {
      name: 'TypeError',
      message: /record\.size/,
    });
    await assert.rejects(registry.insert(makeRecord({ id: '' })), {
      name: 'TypeError',
      message: /record\.id/,
    });
    await assert.rejects(registry.insert(makeRecord({ status: 'done' as never })), /record\.status/);
    await assert.rejects(
      registry.insert(makeRecord({ checksumAlgorithm: 'MD5' as never })),
      /checksumAlgorithm/,
    );
    await assert.rejects(registry.insert(makeRecord({ metadata: { a: 1 as never } })), /record\.metadata\.a/);
    await assert.rejects(registry.insert({ ...makeRecord(), extra: 1 } as never), /unknown fields: extra/);
    await assert.rejects(registry.transition('x', [], { status: 'aborted' }, T0), /from/);
    await assert.rejects(registry.transition('x', ['created'], { partSize: 1 } as never, T0), /partSize/);
    await assert.rejects(registry.transition('x', ['created'], { size: -1 }, T0), /changes\.size/);
    await assert.rejects(registry.transition('x', ['created'], {}, Number.NaN), /now/);
    await assert.rejects(registry.listByUser('alice', { limit: 0 }), /limit/);
    await assert.rejects(registry.listStale(T0, 100_000), /limit/);
    await assert.rejects(registry.bytesSince('alice', -1), /since/);
    // A cursor comes from API clients: a bad one is a 400 problem, not a crash.
    for (const cursor of ['!!', 'e30', Buffer.from('[1,2]').toString('base64url')]) {
      await assert.rejects(registry.listByUser('alice', { limit: 10, cursor }), (error: unknown) => {
        assert.ok(error instanceof BrokerProblem);
        assert.equal(error.type, 'invalid-request');
        return true;
      });
    }
  });

  it('moves through every status, only from the statuses given', async (t) => {
    const registry = await fresh(t);
    const record = makeRecord();
    await registry.insert(record);

    const uploading = await registry.transition(record.id, ['created'], { status: 'uploading' }, T0 + 1);
    assert.equal(uploading?.status, 'uploading');
    // Uploads created without a size (Uppy's) are sized from their parts before completing.
    const sized = await registry.transition(record.id, ['uploading'], { size: 1234 }, T0 + 1);
    assert.equal(sized?.size, 1234);
    assert.equal(
      (await registry.transition(record.id, ['uploading'], { size: record.size }, T0 + 1))?.size,
      record.size,
    );
    assert.equal(uploading?.updatedAt, T0 + 1);
    assert.equal(await registry.transition(record.id, ['created'], { status: 'aborted' }, T0 + 2), undefined);
    assert.equal((await registry.get(record.id))?.updatedAt, T0 + 1, 'a refused transition changes nothing');

    const completed = await registry.transition(
      record.id,
      ['created', 'uploading'],
      { status: 'completed', etag: '"abc-3"', checksum: 'AAAAAA==', completedAt: T0 + 3 },
      T0 + 3,
    );
    assert.deepEqual(completed, {
      ...record,
      status: 'completed',
      etag: '"abc-3"',
      checksum: 'AAAAAA==',
      completedAt: T0 + 3,
      updatedAt: T0 + 3,
    });
    assert.deepEqual(await registry.get(record.id), completed);

    for (const status of ['rejected', 'aborted', 'expired'] as const) {
      const other = makeRecord();
      await registry.insert(other);
      const done = await registry.transition(
        other.id,
        ['created', 'uploading'],
        { status, reason: status },
        T0 + 5,
      );
      assert.equal(done?.status, status);
      assert.equal(done?.reason, status);
      assert.equal(
        await registry.transition(other.id, ['created', 'uploading'], { status: 'completed' }, T0 + 6),
        undefined,
      );
    }

    const late = makeRecord({ uploadId: null });
    await registry.insert(late);
    const withUpload = await registry.transition(late.id, ['created'], { uploadId: 'mpu-late' }, T0 + 7);
    assert.equal(withUpload?.uploadId, 'mpu-late');
    assert.equal(withUpload?.status, 'created');
    assert.equal(await registry.transition('missing', ['created'], { status: 'aborted' }, T0), undefined);
  });

  it('lets exactly one of two concurrent transitions win (two brokers, one upload)', async (t) => {
    const url = await fixture.fresh();
    const a = open(t, url);
    const b = open(t, url);
    await Promise.all([a.migrate(), b.migrate()]);
    const records = Array.from({ length: 20 }, () => makeRecord({ status: 'uploading' }));
    for (const record of records) await a.insert(record);
    await Promise.all(
      records.map(async (record) => {
        const [completed, aborted] = await Promise.all([
          a.transition(record.id, ['uploading'], { status: 'completed', completedAt: T0 + 1 }, T0 + 1),
          b.transition(record.id, ['uploading'], { status: 'aborted', reason: 'user' }, T0 + 1),
        ]);
        assert.equal(
          [completed, aborted].filter(Boolean).length,
          1,
          `exactly one transition of ${record.id} wins`,
        );
        const winner = completed ?? aborted;
        assert.deepEqual(await a.get(record.id), winner);
      }),
    );
  });

  it('lists a user\u2019s uploads newest first, in stable pages', async (t) => {
    const registry = await fresh(t);
    const alice: UploadRecord[] = [];
    for (let i = 0; i < 25; i++) {
      // Pairs share a createdAt: the id breaks the tie, so no record is skipped or repeated.
      const record = makeRecord({ userId: 'alice', createdAt: T0 + Math.floor(i / 2) * 1000 });
      alice.push(record);
      await registry.insert(record);
    }
    for (let i = 0; i < 3; i++) await registry.insert(makeRecord({ userId: 'bob', createdAt: T0 + 50_000 }));
    const expected = [...alice]
      .sort((x, y) => y.createdAt - x.createdAt || (y.id < x.id ? -1 : 1))
      .map((r) => r.id);

    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await registry.listByUser('alice', { limit: 10, ...(cursor ? { cursor } : {}) });
      pages++;
      assert.ok(page.uploads.every((u) => u.userId === 'alice'));
      seen.push(...page.uploads.map((u) => u.id));
      // Newer uploads arriving between pages do not shift the pages after the cursor.
      await registry.insert(makeRecord({ userId: 'alice', createdAt: T0 + 100_000 + pages }));
      cursor = page.nextCursor ?? undefined;
      if (cursor) assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, expected);

    const first = await registry.listByUser('alice', { limit: 2 });
    assert.deepEqual(
      first.uploads.map((u) => u.createdAt),
      [T0 + 100_003, T0 + 100_002],
    );
    assert.deepEqual(await registry.listByUser('carol', { limit: 10 }), { uploads: [], nextCursor: null });
    const exact = await registry.listByUser('bob', { limit: 3 });
    assert.equal(exact.uploads.length, 3);
    assert.equal(exact.nextCursor, null, 'no cursor when nothing follows');
  });

  it('counts active uploads and sums declared bytes per user', async (t) => {
    const registry = await fresh(t);
    const statuses = [
      'created',
      'uploading',
      'uploading',
      'completed',
      'rejected',
      'aborted',
      'expired',
    ] as const;
    for (const [i, status] of statuses.entries()) {
      await registry.insert(makeRecord({ status, size: 100 * (i + 1), createdAt: T0 + i * HOUR }));
    }
    await registry.insert(makeRecord({ userId: 'bob', status: 'created', size: 5, createdAt: T0 + HOUR }));
    assert.equal(await registry.countActive('alice'), 3);
    assert.equal(await registry.countActive('bob'), 1);
    assert.equal(await registry.countActive('carol'), 0);
    assert.equal(await registry.bytesSince('alice', T0), 2800);
    assert.equal(await registry.bytesSince('alice', T0 + 5 * HOUR), 600 + 700, 'since is inclusive');
    assert.equal(await registry.bytesSince('alice', T0 + 7 * HOUR), 0);
    assert.equal(await registry.bytesSince('bob', 0), 5);
    const big = makeRecord({ userId: 'dave', size: 5 * 1024 ** 4 });
    await registry.insert(big);
    await registry.insert(makeRecord({ userId: 'dave', size: 5 * 1024 ** 4 }));
    assert.equal(await registry.bytesSince('dave', 0), 10 * 1024 ** 4, 'sums past 2^32 exactly');
  });

  it('lists open uploads past their expiry, oldest expiry first', async (t) => {
    const registry = await fresh(t);
    const stale1 = makeRecord({ status: 'uploading', expiresAt: T0 + 2 });
    const stale2 = makeRecord({ status: 'created', expiresAt: T0 + 1, userId: 'bob' });
    const fresh1 = makeRecord({ status: 'uploading', expiresAt: T0 + 10 });
    const boundary = makeRecord({ status: 'uploading', expiresAt: T0 + 5 });
    const closed = makeRecord({ status: 'completed', expiresAt: T0 });
    for (const record of [stale1, stale2, fresh1, boundary, closed]) await registry.insert(record);
    assert.deepEqual(
      (await registry.listStale(T0 + 5, 100)).map((r) => r.id),
      [stale2.id, stale1.id],
    );
    assert.deepEqual(
      (await registry.listStale(T0 + 5, 1)).map((r) => r.id),
      [stale2.id],
    );
    await registry.transition(stale2.id, ['created'], { status: 'expired' }, T0 + 5);
    assert.deepEqual(
      (await registry.listStale(T0 + 5, 100)).map((r) => r.id),
      [stale1.id],
    );
  });

  it('finds an upload by (user, Idempotency-Key); a key names one upload per user', async (t) => {
    const registry = (await fresh(t)) as Registry & IdempotencyLookup;
    const keyed = (idempotencyKey: string, overrides: Partial<UploadRecord> = {}): KeyedUploadRecord => ({
      ...makeRecord(overrides),
      idempotencyKey,
    });
    const first = keyed('key_1-A');
    await registry.insert(first);
    assert.deepEqual(await registry.getByIdempotencyKey('alice', 'key_1-A'), first);
    assert.deepEqual(await registry.get(first.id), first);
    assert.equal(await registry.getByIdempotencyKey('alice', 'key_1-a'), undefined);
    assert.equal(await registry.getByIdempotencyKey('bob', 'key_1-A'), undefined);

    // Another user may use the same key; the same user may not, whatever the id.
    const bobs = keyed('key_1-A', { userId: 'bob' });
    await registry.insert(bobs);
    assert.deepEqual(await registry.getByIdempotencyKey('bob', 'key_1-A'), bobs);
    await assert.rejects(
      registry.insert(keyed('key_1-A')),
      (error: unknown) =>
        error instanceof BrokerProblem && error.type === 'conflict' && /Idempotency-Key/.test(error.message),
    );
    // A duplicate id is still reported as such, not as a key clash.
    await assert.rejects(
      registry.insert(keyed('key_2', { id: first.id })),
      (error: unknown) => error instanceof BrokerProblem && new RegExp(first.id).test(error.message),
    );
    // Uploads without a key never clash.
    await registry.insert(makeRecord());
    await registry.insert(makeRecord());
    await assert.rejects(registry.getByIdempotencyKey('alice', 'x'.repeat(129)), TypeError);
    await assert.rejects(registry.insert(keyed('')), TypeError);
  });

  it('migrates idempotently, also when two registries start at once', async (t) => {
    const url = await fixture.fresh();
    const a = open(t, url);
    const b = open(t, url);
    await Promise.all([a.migrate(), b.migrate()]);
    await a.migrate();
    const c = open(t, url);
    await c.migrate();
    const record = makeRecord();
    await a.insert(record);
    assert.deepEqual(await c.get(record.id), record);
    // Every migration ran exactly once.
    assert.deepEqual(
      await fixture.schemaVersions(url),
      MIGRATIONS.map((m) => m.version),
    );
  });

  it('keeps its data across close and reopen', async (t) => {
    const url = await fixture.fresh();
    const first = openRegistry(url, { clock: () => T0 });
    const record = makeRecord();
    await first.insert(record);
    await first.transition(record.id, ['created'], { status: 'uploading' }, T0 + 1);
    await first.close();
    await assert.rejects(first.get(record.id), /closed/);
    const second = open(t, url);
    assert.equal((await second.get(record.id))?.status, 'uploading');
  });
}
