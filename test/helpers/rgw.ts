/**
 * A real third-party S3 + STS + IAM store for the tests: a throwaway single-node Ceph
 * cluster from Debian's packages (one monitor, one in-memory memstore OSD, no manager) and
 * one radosgw (beast) on a free 127.0.0.1 port, with STS and the IAM role API on. It starts
 * in ~15 s, keeps its data in memory and in a temp dir, and is stopped by the PIDs the
 * daemons wrote, never by name.
 *
 * One cluster serves the whole `npm test` run: test/global-setup.ts starts it and passes
 * it to the test files in HOIST_RGW (JSON). A test file run on its own starts its own and
 * stops it when the file ends. Each test file makes its own buckets (`uniqueBucket`).
 *
 * When Ceph is not installed the tests skip locally, with the reason, and fail in CI (`CI`
 * set), which must install it (see .ci/run).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { freePort } from './net.ts';
import { onPath } from './tools.ts';

const run = promisify(execFile);

const BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph', 'ceph-authtool', 'monmaptool'];
const INSTALL_HINT = 'apt-get install -y --no-install-recommends radosgw ceph-mon ceph-osd';
/** The daemons, in start order; stopped in reverse. */
const DAEMONS = ['mon.a', 'osd.0', 'client.rgw.a'] as const;

export interface RgwCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** What a test needs to reach the cluster; serialisable, so it crosses process boundaries. */
export interface RgwEndpoint {
  /** S3, STS and IAM all answer here. */
  endpoint: string;
  /** RGW accepts any region in signatures; this one is what the zonegroup is called. */
  region: string;
  /** An S3 user allowed to create buckets, roles and role policies. */
  credentials: RgwCredentials;
  /** That user's ARN as RGW writes it in trust policies: empty account. */
  userArn: string;
  /** Working directory: ceph.conf, keyrings, logs, pid files. */
  dir: string;
}

export interface RgwCluster extends RgwEndpoint {
  stop(): Promise<void>;
}

/**
 * Why RGW tests cannot run here (a reason to skip), or false when they can.
 * @throws Error in CI when Ceph is missing: CI must install it.
 */
export function rgwUnavailable(): string | false {
  if (process.env.HOIST_RGW) return false;
  // Each program looked up on PATH the way tools.ts finds every external program.
  const missing = BINARIES.filter(
    (name) => onPath({ label: name, env: 'HOIST_RGW', names: [name], install: INSTALL_HINT }).length === 0,
  );
  if (missing.length === 0) return false;
  const reason = `Ceph RGW is not installed (missing ${missing.join(', ')} on PATH); install it with: ${INSTALL_HINT}`;
  if (process.env.CI) throw new Error(`${reason}. CI must install it for the real-store tests (.ci/run).`);
  return reason;
}

function randomKey(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

function cephConf(dir: string, ports: { rgw: number; monV2: number; monV1: number }, fsid: string): string {
  return `[global]
fsid = ${fsid}
mon host = [v2:127.0.0.1:${ports.monV2},v1:127.0.0.1:${ports.monV1}]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = ${dir}/$name.keyring
log file = ${dir}/log/$name.log
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
run dir = ${dir}/run
crash dir = ${dir}/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mgr initial modules =
bluestore cache size = 0
osd memory target = 939524096

[mon]
mon data = ${dir}/mon/ceph-$id
mon cluster log file = ${dir}/log/cluster.log

[osd]
osd data = ${dir}/osd/ceph-$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd max object name len = 460
osd max object namespace len = 64
osd op num shards = 2
osd op num threads per shard = 1

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:${ports.rgw}
rgw data = ${dir}/rgw
rgw dns name = localhost
rgw sts key = ${randomKey(16, 'abcdefghijklmnopqrstuvwxyz')}
rgw s3 auth use sts = true
rgw enable apis = s3, s3website, admin, sts, iam
rgw max chunk size = 4194304
rgw thread pool size = 64
`;
}

async function waitFor(
  what: string,
  dir: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `Ceph RGW: ${what} did not come up within ${timeoutMs / 1000} s; see the logs in ${dir}/log`,
  );
}

async function pidOf(dir: string, daemon: string): Promise<number | undefined> {
  const text = await readFile(join(dir, 'run', `${daemon}.pid`), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops the daemons a cluster directory recorded (rgw, osd, mon) and removes the directory. */
export async function stopRgw(dir: string): Promise<void> {
  for (const daemon of [...DAEMONS].reverse()) {
    const pid = await pidOf(dir, daemon);
    if (pid === undefined || !alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  await rm(dir, { recursive: true, force: true });
}

/** Starts a fresh cluster. The caller stops it (`stop()`), also when a later step fails. */
export async function startRgw(): Promise<RgwCluster> {
  const unavailable = rgwUnavailable();
  if (unavailable) throw new Error(unavailable);
  const dir = await mkdtemp(join(tmpdir(), 'hoist-rgw-'));
  try {
    return await bootCluster(dir);
  } catch (error) {
    await stopRgw(dir).catch(() => {});
    throw error;
  }
}

async function bootCluster(dir: string): Promise<RgwCluster> {
  for (const sub of ['mon/ceph-a', 'osd/ceph-0', 'rgw', 'log', 'run'])
    await mkdir(join(dir, sub), { recursive: true });
  const ports = { rgw: await freePort(), monV2: await freePort(), monV1: await freePort() };
  const fsid = crypto.randomUUID();
  const conf = join(dir, 'ceph.conf');
  await writeFile(conf, cephConf(dir, ports, fsid));
  const c = ['-c', conf];
  const cmd = (file: string, args: string[], timeout = 30_000) => run(file, args, { cwd: dir, timeout });

  // Monitor.
  await cmd('ceph-authtool', [
    '--create-keyring',
    'mon.keyring',
    '--gen-key',
    '-n',
    'mon.',
    '--cap',
    'mon',
    'allow *',
  ]);
  await cmd('ceph-authtool', [
    '--create-keyring',
    'client.admin.keyring',
    '--gen-key',
    '-n',
    'client.admin',
    '--cap',
    'mon',
    'allow *',
    '--cap',
    'osd',
    'allow *',
    '--cap',
    'mds',
    'allow *',
    '--cap',
    'mgr',
    'allow *',
  ]);
  await cmd('ceph-authtool', ['mon.keyring', '--import-keyring', 'client.admin.keyring']);
  await writeFile(join(dir, 'mon.a.keyring'), await readFile(join(dir, 'mon.keyring')));
  await cmd('monmaptool', [
    '--create',
    '--fsid',
    fsid,
    '--addv',
    'a',
    `[v2:127.0.0.1:${ports.monV2},v1:127.0.0.1:${ports.monV1}]`,
    'monmap',
  ]);
  await cmd('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', 'monmap', '--keyring', 'mon.keyring']);
  await cmd('ceph-mon', [...c, '-i', 'a']);
  await waitFor('the monitor', dir, async () => {
    await cmd('ceph', [...c, '--connect-timeout', '5', '-s'], 10_000);
    return true;
  });

  // One in-memory OSD.
  const osdUuid = crypto.randomUUID();
  await cmd('ceph-authtool', ['--create-keyring', 'osd.0.keyring', '--gen-key', '-n', 'osd.0']);
  const osdKey = (await cmd('ceph-authtool', ['-p', '-n', 'osd.0', 'osd.0.keyring'])).stdout.trim();
  await writeFile(join(dir, 'osd-secrets.json'), JSON.stringify({ cephx_secret: osdKey }));
  const osdId = (await cmd('ceph', [...c, 'osd', 'new', osdUuid, '-i', 'osd-secrets.json'])).stdout.trim();
  if (osdId !== '0') throw new Error(`Ceph RGW: unexpected OSD id ${osdId}`);
  await cmd('ceph-osd', [...c, '-i', '0', '--mkfs', '--osd-uuid', osdUuid, '--keyring', 'osd.0.keyring']);
  await cmd('ceph-osd', [...c, '-i', '0']);
  await waitFor('the OSD', dir, async () =>
    /^osd\.0 up/m.test((await cmd('ceph', [...c, 'osd', 'dump'], 10_000)).stdout),
  );

  // The gateway.
  const rgwKeyring = (
    await cmd('ceph', [
      ...c,
      'auth',
      'get-or-create',
      'client.rgw.a',
      'mon',
      'allow rw',
      'osd',
      'allow rwx',
      'mgr',
      'allow rw',
    ])
  ).stdout;
  await writeFile(join(dir, 'client.rgw.a.keyring'), rgwKeyring);
  await cmd('radosgw', [...c, '-n', 'client.rgw.a']);
  const endpoint = `http://127.0.0.1:${ports.rgw}`;
  await waitFor('radosgw', dir, async () => {
    await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.arrayBuffer());
    return true;
  });

  // One S3 user that may manage roles and user policies (the broker's identity in tests).
  const credentials = {
    accessKeyId: randomKey(20, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
    secretAccessKey: randomKey(40, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'),
  };
  const admin = [...c, '-n', 'client.admin'];
  await cmd('radosgw-admin', [
    ...admin,
    'user',
    'create',
    '--uid',
    'hoist',
    '--display-name',
    'Hoist tests',
    '--access-key',
    credentials.accessKeyId,
    '--secret',
    credentials.secretAccessKey,
  ]);
  await cmd('radosgw-admin', [
    ...admin,
    'caps',
    'add',
    '--uid',
    'hoist',
    '--caps',
    'roles=*;user-policy=*;users=*',
  ]);

  const cluster: RgwEndpoint = {
    endpoint,
    region: 'us-east-1',
    credentials,
    userArn: 'arn:aws:iam:::user/hoist',
    dir,
  };
  return { ...cluster, stop: () => stopRgw(dir) };
}

let ownCluster: Promise<RgwCluster> | undefined;

/**
 * The run's shared cluster (HOIST_RGW, from test/global-setup.ts), or one started for this
 * test file's process and stopped once its tests are done (`beforeExit` may still await).
 */
export async function useRgw(): Promise<RgwEndpoint> {
  const shared = process.env.HOIST_RGW;
  if (shared) return JSON.parse(shared) as RgwEndpoint;
  if (!ownCluster) {
    const started = startRgw();
    ownCluster = started;
    process.once('beforeExit', () => {
      void started.then((cluster) => cluster.stop()).catch(() => {});
    });
  }
  return await ownCluster;
}

/** An S3 client for the cluster as its main user (path style; RGW needs no checksum trailers). */
export function rgwClient(
  rgw: RgwEndpoint,
  overrides: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
): S3Client {
  return new S3Client({
    endpoint: rgw.endpoint,
    region: rgw.region,
    forcePathStyle: true,
    credentials: { ...rgw.credentials },
    // RGW 16.2 understands neither flexible checksums nor aws-chunked trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    ...overrides,
  });
}

/** A bucket name no other test file uses. */
export function uniqueBucket(prefix = 'hoist'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/**
 * Creates a role on the cluster that its user may assume, with `policy` inline as
 * `policyName`; resolves with the role's ARN. Documents go as compact JSON: RGW does not
 * decode '+' in form bodies, so spaces would break them.
 */
export async function createUploadRole(
  rgw: RgwEndpoint,
  role: { roleName: string; policy: unknown; policyName?: string },
): Promise<string> {
  const iam = new IAMClient({
    endpoint: rgw.endpoint,
    region: rgw.region,
    credentials: { ...rgw.credentials },
  });
  try {
    const trust = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { AWS: [rgw.userArn] }, Action: ['sts:AssumeRole'] }],
    };
    const created = await iam.send(
      new CreateRoleCommand({ RoleName: role.roleName, AssumeRolePolicyDocument: JSON.stringify(trust) }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: role.roleName,
        PolicyName: role.policyName ?? 'uploads',
        PolicyDocument: JSON.stringify(role.policy),
      }),
    );
    return created.Role?.Arn ?? '';
  } finally {
    iam.destroy();
  }
}
