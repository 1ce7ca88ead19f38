/**
 * A real PostgreSQL server for one test file: Debian's binaries, a fresh cluster in a
 * temp dir, listening only on 127.0.0.1 on a free port with trust auth (local test use
 * only), stopped and removed by `t.after`.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root the cluster belongs
 * to the `postgres` system user (which Debian's package creates; created here when
 * missing) and initdb/pg_ctl run through `runuser -u postgres --`.
 *
 * When PostgreSQL is not installed the tests skip locally, with the reason, and fail in
 * CI (`CI` set), which must install it (see .ci/run).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './net.ts';
import type { Hook } from './server.ts';
import { findTool } from './tools.ts';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';
const OS_USER = 'postgres';

export interface TestPostgres {
  /** URL of the database created for the test file. */
  url: string;
  /** Creates another empty database on the same server and returns its URL. */
  createDatabase(): Promise<string>;
}

/**
 * PostgreSQL's server binaries: HOIST_POSTGRES_BIN (a directory with initdb and pg_ctl), else
 * the directory of an `initdb` on PATH, else the newest Debian `/usr/lib/postgresql/<v>/bin`.
 */
export function findPostgresBin(): string | undefined {
  const named = process.env.HOIST_POSTGRES_BIN;
  if (named) return existsSync(join(named, 'initdb')) ? named : undefined;
  const initdb = findTool({ label: 'initdb', env: 'HOIST_INITDB', names: ['initdb'], install: '' });
  if (initdb) return dirname(initdb);
  if (!existsSync(PG_ROOT)) return undefined;
  const versions = readdirSync(PG_ROOT)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(PG_ROOT, versions[0], 'bin');
}

/**
 * Why PostgreSQL tests cannot run here (a reason to skip), or false when they can.
 * @throws Error in CI when PostgreSQL is missing: CI must install it.
 */
export function postgresUnavailable(): string | false {
  if (findPostgresBin()) return false;
  const reason = `PostgreSQL is not installed (no initdb in HOIST_POSTGRES_BIN, on PATH or in ${PG_ROOT}/*/bin); install it with: apt-get install -y postgresql`;
  if (process.env.CI)
    throw new Error(`${reason}. CI must install PostgreSQL for the registry tests (.ci/run).`);
  return reason;
}

/** Starts a PostgreSQL cluster for the test file and creates one database in it. */
export async function startPostgres(t: Hook): Promise<TestPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(postgresUnavailable() || 'PostgreSQL is not installed');
  const asRoot = process.getuid?.() === 0;
  const dir = await mkdtemp(join(tmpdir(), 'hoist-pg-'));
  const data = join(dir, 'data');
  // Every command as the cluster's owner: runuser when we are root, directly otherwise.
  const exec = (file: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', OS_USER, '--', file, ...args]) : run(file, args);

  let started = false;
  t.after(async () => {
    if (started)
      await exec(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate', '-w']).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  if (asRoot) {
    const { uid, gid } = await systemUser();
    await chown(dir, uid, gid);
  }
  await exec(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);

  let port = 0;
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    // -k: the Unix socket goes into our dir, not /var/run/postgresql. fsync off: throwaway data.
    const serverOptions = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    try {
      await exec(join(bin, 'pg_ctl'), [
        'start',
        '-D',
        data,
        '-w',
        '-t',
        '60',
        '-l',
        join(dir, 'log'),
        '-o',
        serverOptions,
      ]);
      started = true;
      break;
    } catch (error) {
      // Another process may have taken the port between freePort() and the bind: retry.
      if (attempt >= 3) {
        const log = await readFile(join(dir, 'log'), 'utf8').catch(() => '');
        throw new Error(`pg_ctl start failed:\n${log.slice(-2000)}`, { cause: error });
      }
    }
  }

  const base = `postgres://postgres@127.0.0.1:${port}`;
  let next = 0;
  const createDatabase = async () => {
    const name = `hoist_test_${++next}`;
    const admin = new pg.Client({ connectionString: `${base}/postgres` });
    await admin.connect();
    try {
      // The name is ours (no user input); identifiers cannot be query parameters.
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    return `${base}/${name}`;
  };
  return { url: await createDatabase(), createDatabase };
}

/** uid/gid of the `postgres` system user, creating it when the package did not. */
async function systemUser(): Promise<{ uid: number; gid: number }> {
  const lookup = async () => {
    const { stdout } = await run('id', ['-u', OS_USER]);
    const { stdout: group } = await run('id', ['-g', OS_USER]);
    return { uid: Number(stdout.trim()), gid: Number(group.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      OS_USER,
    ]);
    return lookup();
  }
}
