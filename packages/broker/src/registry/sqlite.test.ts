import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { makeRecord, registrySuite } from '../../../../test/helpers/registry-suite.ts';
import { openRegistry, PostgresRegistry, SqliteRegistry } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'hoist-registry-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const nextFile = () => join(dir, `registry-${++files}.sqlite`);

function query<T>(path: string, sql: string): T[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare(sql)
      .all()
      .map((row) => ({ ...row })) as T[];
  } finally {
    db.close();
  }
}

describe('registry: sqlite', () => {
  registrySuite({
    fresh: async () => `sqlite:${nextFile()}`,
    schemaVersions: async (url) =>
      query<{ version: number }>(url.slice('sqlite:'.length), 'SELECT version FROM schema_migrations').map(
        (r) => r.version,
      ),
  });
});

describe('openRegistry', () => {
  it('opens sqlite:, sqlite:///, plain paths and postgres URLs', async () => {
    const memory = openRegistry('sqlite::memory:');
    assert.ok(memory instanceof SqliteRegistry);
    const record = makeRecord();
    await memory.insert(record);
    assert.deepEqual(await memory.get(record.id), record);
    await memory.close();

    for (const url of [
      nextFile(),
      `sqlite://${nextFile()}`,
      `sqlite:${join(dir, 'new', 'dir', 'r.sqlite')}`,
    ]) {
      const registry = openRegistry(url);
      assert.ok(registry instanceof SqliteRegistry);
      await registry.migrate();
      await registry.close();
    }
    // Opening does not connect: no server is needed to construct it.
    const pg = openRegistry('postgresql://user:secret@127.0.0.1:1/db');
    assert.ok(pg instanceof PostgresRegistry);
    await pg.close();
  });

  it('refuses what it cannot open, naming the option without echoing the URL', () => {
    assert.throws(() => openRegistry(''), { name: 'TypeError', message: /url/ });
    assert.throws(
      () => openRegistry('mysql://root:hunter2@db/x'),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /mysql:/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
    assert.throws(() => openRegistry('sqlite:'), /url/);
    assert.throws(() => openRegistry('sqlite::memory:', { clock: 5 as never }), /options\.clock/);
  });

  it('creates the file in WAL mode with the listing and sweeper indexes', async () => {
    const path = nextFile();
    const registry = openRegistry(`sqlite:${path}`);
    await registry.migrate();
    await registry.close();
    assert.deepEqual(query(path, 'PRAGMA journal_mode'), [{ journal_mode: 'wal' }]);
    const indexes = query<{ name: string }>(
      path,
      "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name",
    );
    const names = indexes.map((i) => i.name).filter((n) => !n.startsWith('sqlite_autoindex'));
    assert.deepEqual(names, [
      'uploads_by_idempotency_key',
      'uploads_by_status_expiry',
      'uploads_by_upload_id',
      'uploads_by_user',
      'uploads_by_user_status',
    ]);
    const plan = query<{ detail: string }>(
      path,
      "EXPLAIN QUERY PLAN SELECT * FROM uploads WHERE user_id = 'a' ORDER BY created_at DESC, id DESC LIMIT 10",
    );
    assert.match(plan.map((p) => p.detail).join('\n'), /uploads_by_user/);
    const byKey = query<{ detail: string }>(
      path,
      "EXPLAIN QUERY PLAN SELECT * FROM uploads WHERE user_id = 'a' AND idempotency_key = 'k'",
    );
    assert.match(byKey.map((p) => p.detail).join('\n'), /uploads_by_idempotency_key/);
  });
});
