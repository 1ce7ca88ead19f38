import { after, before, describe } from 'node:test';
import pg from 'pg';
import { postgresUnavailable, startPostgres, type TestPostgres } from '../../../../test/helpers/postgres.ts';
import { registrySuite } from '../../../../test/helpers/registry-suite.ts';

// Locally without PostgreSQL: skipped with the reason. In CI: this throws, failing the file.
const skip = postgresUnavailable();

describe('registry: postgres', { skip }, () => {
  let server: TestPostgres;
  // Registered now, at definition time: after() called from inside a hook would not attach to this suite.
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  before(async () => {
    server = await startPostgres({ after: (fn) => cleanups.push(fn) });
  });

  registrySuite({
    fresh: () => server.createDatabase(),
    schemaVersions: async (url) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: number }>(
          'SELECT version FROM schema_migrations ORDER BY 1',
        );
        return rows.map((r) => r.version);
      } finally {
        await client.end();
      }
    },
  });
});
