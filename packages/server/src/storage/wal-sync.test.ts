import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../../../test/helpers/storage.ts';
import { openDatabase } from './schema.ts';
import { WalSync } from './wal-sync.ts';

test('WalSync: the WAL stays the same file across checkpoints, so its descriptor keeps syncing it', async (t) => {
  const path = join(tempDir(t), 'meta.sqlite');
  const db = openDatabase(path, true);
  const wal = new WalSync(`${path}-wal`);
  t.after(() => {
    db.close();
    wal.close();
  });
  db.exec('CREATE TABLE t (v BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO t (v) VALUES (randomblob(3000))');
  for (let round = 0; round < 3; round++) {
    db.exec('PRAGMA synchronous = NORMAL');
    // Past the auto-checkpoint (1,000 pages), so SQLite checkpoints and restarts the WAL.
    for (let i = 0; i < 1500; i++) insert.run();
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    insert.run();
    await wal.sync();
    assert.equal(statSync(`${path}-wal`).ino, wal.inode);
    assert.ok(statSync(`${path}-wal`).size > 0);
  }
});

test('WalSync: concurrent callers all resolve, sharing syncs; closed, it rejects', async (t) => {
  const path = join(tempDir(t), 'meta.sqlite');
  const db = openDatabase(path, true);
  const wal = new WalSync(`${path}-wal`);
  t.after(() => db.close());
  await Promise.all(Array.from({ length: 20 }, () => wal.sync()));
  const first = wal.sync();
  const queued = [wal.sync(), wal.sync()];
  wal.close();
  await Promise.all([first, ...queued]);
  await assert.rejects(wal.sync(), /closed/);
});
