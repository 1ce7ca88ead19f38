/**
 * Broker benchmark: requests per second and p50/p99 latency of the broker's API against
 * Hoist's local S3 + STS server, driven by autocannon over keep-alive HTTP on 127.0.0.1.
 *
 *   npm run bench:broker -- [--runs 3] [--seconds 4] [--connections 1,8] [--size-mib 100]
 *                           [--cases healthz,create-sts,…] [--log-level info] [--profile DIR]
 *                           [--upstream direct|sdk]
 *
 * Cases (each at every connection count):
 * - `POST /uploads` of a multipart-size file (100 MiB declared) in each credential mode:
 *   `create-sts` (CreateMultipartUpload + AssumeRole with a one-key session policy),
 *   `create-federation` (CreateMultipartUpload + GetFederationToken), `create-presign`
 *   (CreateMultipartUpload only — part URLs come later: the floor of auth + validation +
 *   registry + S3 call). Requests take turns among the users (round robin).
 * - `POST /uploads/:id/credentials` (`credentials-sts`; `credentials-federation` on request)
 *   against a pool of uploads created beforehand and spread over the users, round robin.
 * - `GET /healthz` (`healthz`): no auth, one registry query — the HTTP floor.
 *
 * The S3 + STS server and one broker per mode each run in their own child process (CPU time
 * read from /proc/<pid>/task/<tid>/schedstat: all threads, ns); this process is the load
 * generator (its own CPU is reported too: on 2 shared CPUs the three compete). Cases are
 * interleaved within each run (order rotated per run), after a warm-up of every case;
 * medians of the runs are reported.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { ChildInfo } from './lib/broker-child.ts';
import { MODES, USERS } from './lib/broker-fixture.ts';
import { median, parseList, percentile, positiveInt, requireNode24 } from './lib/cli.ts';
import { formatProfile } from './lib/cpuprofile.ts';
import { type LoadRequest, type LoadResult, runLoad, stopLoad } from './lib/load.ts';
import { BenchResources } from './lib/resources.ts';
import { hasSchedstat, schedTimes } from './lib/schedstat.ts';
import { READY_PREFIX } from './lib/target-child.ts';

const MiB = 1024 * 1024;
const READY_TIMEOUT_MS = 60_000;
const WARMUP_SECONDS = 1;
/** Uploads per user in the pool the /credentials case refreshes. */
const POOL_PER_USER = 8;

const CASES = [
  'healthz',
  'create-sts',
  'create-federation',
  'create-presign',
  'credentials-sts',
  'credentials-federation',
] as const;
type CaseName = (typeof CASES)[number];
const DEFAULT_CASES: readonly CaseName[] = [
  'healthz',
  'create-sts',
  'create-federation',
  'create-presign',
  'credentials-sts',
];
type Mode = (typeof MODES)[number];

interface CaseSpec {
  route: string;
  /** Shown in the table; '–' for healthz. */
  mode: string;
  /** The broker (by mode) the case runs against. */
  broker: Mode;
}

const CASE_SPECS: Record<CaseName, CaseSpec> = {
  healthz: { route: 'GET /healthz', mode: '–', broker: 'sts' },
  'create-sts': { route: 'POST /uploads', mode: 'sts', broker: 'sts' },
  'create-federation': { route: 'POST /uploads', mode: 'federation', broker: 'federation' },
  'create-presign': { route: 'POST /uploads', mode: 'presign', broker: 'presign' },
  'credentials-sts': { route: 'POST /uploads/:id/credentials', mode: 'sts', broker: 'sts' },
  'credentials-federation': {
    route: 'POST /uploads/:id/credentials',
    mode: 'federation',
    broker: 'federation',
  },
};

const usage = `usage: node bench/broker.ts [--runs N] [--seconds S] [--connections 1,8] [--size-mib M]
                            [--cases ${CASES.join(',')}]
                            [--log-level L] [--profile DIR] [--upstream direct|sdk]
  --runs N         measured runs, median reported (default 3)
  --seconds S      whole seconds per measurement (default 4)
  --connections    connection counts (concurrency), comma-separated (default 1,8)
  --size-mib M     declared file size of POST /uploads (default 100: multipart)
  --cases          subset of cases (default ${DEFAULT_CASES.join(',')})
  --log-level L    the brokers' log level (default info, as in production; lines go to /dev/null)
  --profile DIR    run the brokers with --cpu-prof into DIR and print their top functions
  --upstream U     how the brokers make their per-upload store calls: direct (default: the
                   broker's own SigV4 over node:http) or sdk (the AWS SDK clients, as when an
                   app injects its own), to compare the two`;

// ── statistics and formatting ───────────────────────────────────────────────

/** ms (or any small quantity) with precision that suits its size. */
function num(n: number): string {
  const abs = Math.abs(n);
  return abs < 1 ? n.toFixed(3) : abs < 10 ? n.toFixed(2) : abs < 100 ? n.toFixed(1) : n.toFixed(0);
}

/** A Markdown-style table; columns from `firstNumeric` on are right-aligned. */
function table(rows: string[][], firstNumeric: number): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const right = (i: number): boolean => i >= firstNumeric;
  const line = (row: string[]): string =>
    `| ${row.map((cell, i) => (right(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

const loadAverage = (): string =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

/**
 * fdatasync latency of the disk the registries live on (4 KiB write + fdatasync, `n` times):
 * each registry state change waits for one on the broker's JS thread (SQLite WAL, synchronous=FULL;
 * a create's insert commits without one),
 * and on a shared machine it swings from ~0.2 ms to several ms.
 */
function fsyncProbe(dir: string, n = 40): string {
  const file = join(dir, 'fsync-probe');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      writeSync(fd, block);
      const t = performance.now();
      fdatasyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    unlinkSync(file);
  }
  return `fdatasync p50 ${num(percentile(times, 0.5))} ms, p90 ${num(percentile(times, 0.9))} ms`;
}

// ── children ────────────────────────────────────────────────────────────────

interface Child {
  name: string;
  url: string;
  pid: number;
  child: ChildProcess;
}

const resources = new BenchResources();
let workDir: string | undefined;

async function startChild(name: string, args: string[], execArgv: string[]): Promise<Child> {
  const script = join(import.meta.dirname, 'lib', 'broker-child.ts');
  const child = spawn(process.execPath, [...execArgv, script, ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  resources.track(child);
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<ChildInfo>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: not ready after ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: process exited (${signal ?? code}) before it was ready`));
    });
    lines.on('line', (line) => {
      if (line.startsWith(READY_PREFIX)) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(line.slice(READY_PREFIX.length)) as ChildInfo);
      } else process.stderr.write(`[${name}] ${line}\n`);
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: no pid`);
  return { name, url: info.url, pid: child.pid, child };
}

const stopChildren = (graceMs?: number): Promise<void> => resources.stopChildren(graceMs);
const removeWorkDir = (): void => resources.removeWorkDir();
resources.stopOnInterrupt('the load and the children', () => stopLoad());

// ── the API, for setup and checks ───────────────────────────────────────────

const bearer = (token: string): string => `Bearer ${token}`;

function createBody(sizeBytes: number): string {
  return JSON.stringify({ filename: 'holiday-video.mp4', size: sizeBytes, contentType: 'video/mp4' });
}

/** One API call with fetch; throws with the problem document unless the status is 2xx. */
async function api(
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: string,
): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = bearer(token);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 400)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Checks once, before measuring, that each case answers 2xx with what its mode promises. */
async function checkCase(name: CaseName, base: string, sizeBytes: number, poolPath?: string): Promise<void> {
  const user = USERS[0]!;
  if (name === 'healthz') {
    const out = await api(base, 'GET', '/healthz');
    if (out.status !== 'ok') throw new Error(`healthz: ${JSON.stringify(out)}`);
    return;
  }
  if (name.startsWith('create-')) {
    const out = await api(base, 'POST', '/uploads', user.token, createBody(sizeBytes));
    const mode = CASE_SPECS[name].mode;
    if (out.mode !== mode) throw new Error(`${name}: mode ${String(out.mode)}`);
    if (!out.uploadId) throw new Error(`${name}: no multipart upload (is --size-mib above 8?)`);
    if ((mode === 'presign') !== (out.credentials === undefined))
      throw new Error(`${name}: credentials ${out.credentials ? 'issued' : 'missing'}`);
    return;
  }
  if (!poolPath) throw new Error(`${name}: no pool`);
  const out = await api(base, 'POST', poolPath, user.token);
  if (!(out.credentials as { sessionToken?: string } | undefined)?.sessionToken)
    throw new Error(`${name}: no credentials`);
}

/** POSTs `perUser` uploads for every user (4 at a time); returns `{ path, token }` round robin by user. */
async function createPool(
  base: string,
  sizeBytes: number,
  perUser: number,
): Promise<{ path: string; token: string }[]> {
  const jobs = Array.from({ length: perUser }, () => USERS).flat();
  const pool: { path: string; token: string }[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let i = next++; i < jobs.length; i = next++) {
        const user = jobs[i]!;
        const out = await api(base, 'POST', '/uploads', user.token, createBody(sizeBytes));
        pool[i] = { path: `/uploads/${String(out.id)}/credentials`, token: user.token };
      }
    }),
  );
  return pool;
}

/** The requests of a case: one entry whose setupRequest takes the next user (or pool entry) in turn. */
function caseRequests(
  name: CaseName,
  sizeBytes: number,
  pools: Map<Mode, { path: string; token: string }[]>,
): LoadRequest[] {
  if (name === 'healthz') return [{ method: 'GET', path: '/healthz' }];
  let turn = 0;
  if (name.startsWith('create-')) {
    const body = createBody(sizeBytes);
    return [
      {
        method: 'POST',
        path: '/uploads',
        body,
        setupRequest: (request) => {
          const user = USERS[turn++ % USERS.length]!;
          request.headers = {
            ...request.headers,
            authorization: bearer(user.token),
            'content-type': 'application/json',
          };
          return request;
        },
      },
    ];
  }
  const pool = pools.get(CASE_SPECS[name].broker)!;
  return [
    {
      method: 'POST',
      path: pool[0]!.path,
      setupRequest: (request) => {
        const entry = pool[turn++ % pool.length]!;
        request.path = entry.path;
        request.headers = { ...request.headers, authorization: bearer(entry.token) };
        return request;
      },
    },
  ];
}

// ── measuring ───────────────────────────────────────────────────────────────

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  completed: number;
  non2xx: number;
  errors: number;
  statuses: Record<string, number>;
  sample?: string;
  /** CPU ms per request: the broker under load, the S3 + STS server, this process. */
  brokerMs: number;
  serverMs: number;
  clientMs: number;
}

async function measure(
  broker: Child,
  server: Child,
  requests: LoadRequest[],
  connections: number,
  seconds: number,
): Promise<Sample> {
  const brokerBefore = schedTimes(broker.pid).total;
  const serverBefore = schedTimes(server.pid).total;
  const clientBefore = process.cpuUsage();
  const result: LoadResult = await runLoad({ url: broker.url, connections, seconds, requests });
  const client = process.cpuUsage(clientBefore);
  const brokerNs = schedTimes(broker.pid).total - brokerBefore;
  const serverNs = schedTimes(server.pid).total - serverBefore;
  const n = Math.max(1, result.completed);
  return {
    rps: result.completed / result.seconds,
    p50: percentile(result.latencies, 0.5),
    p99: percentile(result.latencies, 0.99),
    completed: result.completed,
    non2xx: result.non2xx,
    errors: result.errors,
    statuses: result.statuses,
    ...(result.sample === undefined ? {} : { sample: result.sample }),
    brokerMs: brokerNs / 1e6 / n,
    serverMs: serverNs / 1e6 / n,
    clientMs: (client.user + client.system) / 1e3 / n,
  };
}

// ── targets ─────────────────────────────────────────────────────────────────

/** Issue 16's goals for `POST /uploads`: broker CPU per request by mode, and req/s and p99 at 8 connections. */
const CPU_TARGET_MS: Partial<Record<CaseName, number>> = {
  'create-presign': 1,
  'create-sts': 1.5,
  'create-federation': 1.5,
};
const RPS_TARGET = 600;
const P99_TARGET_MS = 25;

function targetRows(
  cases: readonly CaseName[],
  connectionCounts: readonly number[],
  samples: Map<string, Sample[]>,
): string[][] {
  const rows: string[][] = [['case', 'figure', 'measured', 'target', 'ratio', 'met']];
  const add = (name: string, figure: string, measured: number, target: number, higherIsBetter: boolean) => {
    const ratio = measured / target;
    const met = higherIsBetter ? ratio >= 1 : ratio <= 1;
    rows.push([
      name,
      figure,
      num(measured),
      `${higherIsBetter ? '≥' : '≤'} ${target}`,
      ratio.toFixed(2),
      met ? 'yes' : 'no',
    ]);
  };
  for (const name of cases) {
    const cpuTarget = CPU_TARGET_MS[name];
    if (cpuTarget === undefined) continue;
    const all = connectionCounts.flatMap((c) => samples.get(`${name}/${c}`) ?? []);
    if (all.length > 0) add(name, 'broker CPU ms/req', median(all.map((s) => s.brokerMs)), cpuTarget, false);
    const eight = samples.get(`${name}/8`);
    if (!eight) continue;
    add(name, 'req/s, 8 conns', median(eight.map((s) => s.rps)), RPS_TARGET, true);
    add(name, 'p99 ms, 8 conns', median(eight.map((s) => s.p99)), P99_TARGET_MS, false);
  }
  return rows;
}

// ── main ────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      'size-mib': { type: 'string' },
      cases: { type: 'string' },
      'log-level': { type: 'string' },
      profile: { type: 'string' },
      upstream: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  requireNode24('bench:broker');
  const runs = positiveInt(values.runs, 3, '--runs');
  const seconds = positiveInt(values.seconds, 4, '--seconds');
  const connectionCounts = (values.connections ?? '1,8')
    .split(',')
    .map((c) => positiveInt(c.trim(), 1, '--connections'));
  const sizeMiB = positiveInt(values['size-mib'], 100, '--size-mib');
  const sizeBytes = sizeMiB * MiB;
  const cases = parseList(values.cases, CASES, 'case', DEFAULT_CASES);
  const logLevel = values['log-level'] ?? 'info';
  const upstream = values.upstream ?? 'direct';
  if (upstream !== 'direct' && upstream !== 'sdk') throw new Error('--upstream must be direct or sdk');
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  if (!hasSchedstat()) throw new Error('/proc/<pid>/schedstat is not readable here (needed for CPU time)');
  const wallStarted = Date.now();
  const started = performance.now();

  workDir = resources.workDir = mkdtempSync(join(tmpdir(), 'hoist-bench-broker-'));
  console.log(
    `Broker benchmark — Node ${process.versions.node}, ${availableParallelism()} CPUs, load average ${loadAverage()} ` +
      '(the machine is shared: compare rows within a table, not runs)',
  );
  console.log(
    `POST /uploads declares ${sizeMiB} MiB (multipart); ${USERS.length} users, round robin; /credentials pool ` +
      `${USERS.length * POOL_PER_USER} uploads; connections ${connectionCounts.join(', ')}; ${runs} run(s) × ${seconds} s; ` +
      `broker log level ${logLevel}; store calls ${upstream}; data under ${workDir}`,
  );
  console.log(`disk of the registries: ${fsyncProbe(workDir)}`);

  const samples = new Map<string, Sample[]>();
  const warmupFailures: string[] = [];
  const brokers = new Map<Mode, Child>();
  let diskAfter = '';
  try {
    const server = await startChild('s3', ['s3', join(workDir, 's3')], []);
    const execArgv: string[] = [];
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    }
    const modes = MODES.filter((mode) => cases.some((name) => CASE_SPECS[name].broker === mode));
    const running = await Promise.all(
      modes.map((mode) =>
        startChild(
          `broker ${mode}`,
          ['broker', mode, server.url, join(workDir!, `broker-${mode}`), logLevel, upstream],
          execArgv,
        ),
      ),
    );
    for (const [i, mode] of modes.entries()) brokers.set(mode, running[i]!);

    const pools = new Map<Mode, { path: string; token: string }[]>();
    for (const name of cases) {
      const mode = CASE_SPECS[name].broker;
      if (name.startsWith('credentials-') && !pools.has(mode))
        pools.set(mode, await createPool(brokers.get(mode)!.url, sizeBytes, POOL_PER_USER));
      await checkCase(name, brokers.get(mode)!.url, sizeBytes, pools.get(mode)?.[0]?.path);
    }

    const configs = cases.flatMap((name) => connectionCounts.map((connections) => ({ name, connections })));
    const run = (name: CaseName, connections: number, secs: number): Promise<Sample> =>
      measure(
        brokers.get(CASE_SPECS[name].broker)!,
        server,
        caseRequests(name, sizeBytes, pools),
        connections,
        secs,
      );
    process.stdout.write('warm-up…');
    for (const { name, connections } of configs) {
      const sample = await run(name, connections, WARMUP_SECONDS);
      if (sample.non2xx + sample.errors > 0)
        warmupFailures.push(`${name} ×${connections}: ${sample.non2xx + sample.errors} (${sample.sample})`);
    }
    process.stdout.write(' done\n');
    for (let r = 0; r < runs; r++) {
      const order = configs.map((_, i) => configs[(i + r) % configs.length]!);
      const runStarted = performance.now();
      process.stdout.write(`run ${r + 1}/${runs}…`);
      for (const { name, connections } of order) {
        const id = `${name}/${connections}`;
        samples.set(id, [...(samples.get(id) ?? []), await run(name, connections, seconds)]);
      }
      process.stdout.write(
        ` ${((performance.now() - runStarted) / 1000).toFixed(0)} s, load average ${loadAverage()}\n`,
      );
    }
    diskAfter = fsyncProbe(workDir);
  } finally {
    stopLoad();
    await stopChildren();
    removeWorkDir();
  }

  // ── report ──
  console.log(`\nBroker API — keep-alive HTTP/1.1 on 127.0.0.1, ${runs} run(s) × ${seconds} s, medians`);
  const rows: string[][] = [
    [
      'route',
      'mode',
      'conns',
      'req/s',
      'min–max',
      'p50 ms',
      'p99 ms',
      'non-2xx',
      'broker CPU ms/req',
      'S3+STS CPU ms/req',
      'client CPU ms/req',
      'CPUs busy',
    ],
  ];
  let failures = 0;
  const failureLines: string[] = [];
  for (const name of cases) {
    for (const connections of connectionCounts) {
      const list = samples.get(`${name}/${connections}`);
      if (!list) continue;
      const rps = list.map((s) => s.rps);
      const bad = list.reduce((sum, s) => sum + s.non2xx + s.errors, 0);
      failures += bad;
      if (bad > 0) {
        const statuses: Record<string, number> = {};
        for (const s of list)
          for (const [code, count] of Object.entries(s.statuses))
            statuses[code] = (statuses[code] ?? 0) + count;
        const errors = list.reduce((sum, s) => sum + s.errors, 0);
        failureLines.push(
          `${name} ×${connections}: statuses ${JSON.stringify(statuses)}, socket errors/timeouts ${errors}; ` +
            `first: ${list.find((s) => s.sample)?.sample ?? '?'}`,
        );
      }
      const busy = median(list.map((s) => (s.brokerMs + s.serverMs + s.clientMs) * s.rps)) / 1000;
      rows.push([
        CASE_SPECS[name].route,
        CASE_SPECS[name].mode,
        String(connections),
        median(rps).toFixed(0),
        `${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}`,
        num(median(list.map((s) => s.p50))),
        num(median(list.map((s) => s.p99))),
        String(bad),
        num(median(list.map((s) => s.brokerMs))),
        num(median(list.map((s) => s.serverMs))),
        num(median(list.map((s) => s.clientMs))),
        busy.toFixed(2),
      ]);
    }
  }
  console.log(table(rows, 2));
  console.log(
    '\nreq/s = responses ÷ wall time. Latency = request written → response complete, every response, ms.\n' +
      'non-2xx = responses outside 2xx plus socket errors and timeouts, all runs (must be 0). CPU = on-CPU time of\n' +
      'every thread of the process (schedstat) during the measurement ÷ responses; client = this process\n' +
      '(autocannon). CPUs busy = all three processes together (2 CPUs on this machine).\n' +
      'POST /uploads: auth, validation, registry count of open uploads, CreateMultipartUpload, registry insert\n' +
      '(SQLite WAL, committed without an fsync), then AssumeRole (sts) or GetFederationToken (federation); presign\n' +
      'mints nothing.\n' +
      '/credentials: registry read, AssumeRole/GetFederationToken (the pool is already `uploading`: no write).\n' +
      'GET /healthz: no auth, one registry query (on the sts broker). Brokers log at the chosen level (info: a\n' +
      'request line per request, plus the upload and audit lines) into /dev/null.',
  );

  const cpu = (name: CaseName, pick: (s: Sample) => number): number | undefined => {
    const list = connectionCounts.flatMap((c) => samples.get(`${name}/${c}`) ?? []);
    return list.length ? median(list.map(pick)) : undefined;
  };
  const lines: string[] = [];
  const brokerSts = cpu('create-sts', (s) => s.brokerMs);
  const brokerPresign = cpu('create-presign', (s) => s.brokerMs);
  const serverSts = cpu('create-sts', (s) => s.serverMs);
  const serverPresign = cpu('create-presign', (s) => s.serverMs);
  if (
    brokerSts !== undefined &&
    brokerPresign !== undefined &&
    serverSts !== undefined &&
    serverPresign !== undefined
  )
    lines.push(
      `Minting in POST /uploads (sts − presign): broker +${num(brokerSts - brokerPresign)} ms CPU, ` +
        `S3+STS server +${num(serverSts - serverPresign)} ms CPU per request.`,
    );
  const brokerHealth = cpu('healthz', (s) => s.brokerMs);
  if (brokerHealth !== undefined && brokerPresign !== undefined)
    lines.push(
      `POST /uploads without minting costs the broker ${num(brokerPresign)} ms CPU (/healthz: ${num(brokerHealth)} ms).`,
    );
  // At one connection the requests follow each other: wall time per request = 1000 / req/s.
  if (connectionCounts.includes(1)) {
    for (const name of cases) {
      const list = samples.get(`${name}/1`);
      if (!list || name === 'healthz') continue;
      const wall = median(list.map((s) => 1000 / s.rps));
      const onCpu = median(list.map((s) => s.brokerMs + s.serverMs + s.clientMs));
      lines.push(
        `${name}, 1 connection: ${num(wall)} ms per request, ~${num(onCpu)} ms of it on a CPU in one of the ` +
          `three processes, ~${num(Math.max(0, wall - onCpu))} ms waiting (fsync, run queue, loopback).`,
      );
    }
  }
  if (lines.length) console.log(`\n${lines.join('\n')}`);
  const targets = targetRows(cases, connectionCounts, samples);
  if (targets.length > 1)
    console.log(
      `\nIssue 16's broker targets (medians above; ratio = measured ÷ target, met when ≤ 1 for CPU and p99,\n` +
        `≥ 1 for req/s; the S3 + STS server shares the 2 CPUs, so req/s also carries its cost):\n${table(targets, 2)}`,
    );
  if (failures > 0 || warmupFailures.length > 0) {
    process.exitCode = 1;
    console.log(`\nFAILED REQUESTS — the figures above do not measure what they claim:`);
    for (const line of [...failureLines, ...warmupFailures.map((l) => `warm-up ${l}`)])
      console.log(`  ${line}`);
  } else console.log('\nEvery request answered 2xx (warm-up included).');
  console.log(
    `total ${((performance.now() - started) / 1000).toFixed(0)} s, load average now ${loadAverage()}; disk after the runs: ${diskAfter}`,
  );
  if (profileDir) {
    const profiles = readdirSync(profileDir)
      .filter((file) => file.endsWith('.cpuprofile'))
      .map((file) => join(profileDir, file))
      .filter((file) => statSync(file).mtimeMs >= wallStarted);
    const modeOf = new Map([...brokers].map(([mode, child]) => [String(child.pid), mode]));
    for (const file of profiles) {
      const pid = /^CPU\.\d+\.\d+\.(\d+)\./.exec(basename(file))?.[1];
      const label = pid ? `broker ${modeOf.get(pid) ?? `pid ${pid}`}` : 'broker';
      console.log(
        `\n${label} CPU profile, top functions by self time (V8 samples the JS thread's wall time: waits in\n` +
          `synchronous calls — fsync in SQLite, socket writes — and time descheduled count as busy):\n${formatProfile(file, 25)}`,
      );
    }
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench:broker failed: ${(error as Error)?.stack ?? String(error)}\n`);
  stopLoad();
  await stopChildren(2_000);
  removeWorkDir();
  process.exitCode = 1;
}
