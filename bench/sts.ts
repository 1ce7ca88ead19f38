/**
 * STS benchmark: AssumeRole requests per second, and what IAM policy evaluation adds to
 * each S3 request (µs), against Hoist's local server.
 *
 *   npm run bench:sts -- [--runs 3] [--seconds 2] [--sections assume,eval,e2e] [--profile DIR]
 *
 * 1. assume — AssumeRole (broker user → role, one-key session policy of ~300 characters) and
 *    GetCallerIdentity (the Query endpoint + SigV4 + credential lookup alone) over keep-alive
 *    HTTP at concurrency 1 and 8: req/s, p50/p99 latency, server CPU per request.
 * 2a. eval — in this process: `authorizer.isAllowed` for the root (shortcut), an IAM user, an
 *    assumed-role session (role policy ∩ session policy) and a session whose policy has
 *    variables and conditions, allowed and denied; token unseal (`openSession`), the whole
 *    credential lookup, and the AssumeRole handler without HTTP.
 * 2b. e2e — HeadObject and 1 KiB PutObject at concurrency 1 signed by the root (no
 *    evaluation), the IAM user (evaluation) and a role session (unseal + evaluation), taking
 *    turns request by request: latency, and the server's CPU charged to each request.
 *
 * The server runs in its own child process (CPU read from /proc/<pid>/task/<tid>/schedstat,
 * in ns: all threads per measurement in 1, the main thread per request in 2b); this process is the client and runs the in-process measurements (timed by this
 * thread's CPU time, so the shared machine's other load doesn't count) before the server starts. Cases are interleaved within each run (order rotated per run) and medians of the
 * runs are reported. Requests are signed before their latency clock starts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSecretKey, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { SigV4Credentials } from '@hoist/aws/sigv4';
import type { ConditionContext } from '@hoist/server/internal/authz';
import { createAuthorizer } from '@hoist/server/internal/authz';
import { iamSeedFromConfig, parseIamConfig } from '@hoist/server/internal/iam/config';
import { openIamStore } from '@hoist/server/internal/iam/store';
import { createCredentialLookup, type Identity } from '@hoist/server/internal/identity';
import {
  type S3RequestFacts,
  s3AuthorizationRequests,
  s3ConditionKeys,
} from '@hoist/server/internal/s3/authz-requests';
import { openSession } from '@hoist/server/internal/session-token';
import { StsError } from '@hoist/server/internal/sts/errors';
import type { StsDeps } from '@hoist/server/internal/sts/handlers';
import { handleStsAction } from '@hoist/server/internal/sts/handlers';
import { median, parseList, percentile, positiveNumber, requireNode24 } from './lib/cli.ts';
import { formatProfile } from './lib/cpuprofile.ts';
import { BenchResources } from './lib/resources.ts';
import { hasSchedstat, openThreadClock, schedTimes } from './lib/schedstat.ts';
import {
  type BenchHttp,
  createHttp,
  expectStatus,
  parseCredentials,
  type SignedRequest,
  signS3,
  signSts,
} from './lib/sts-client.ts';
import {
  ACCOUNT,
  assumeRoleParams,
  BROKER_CREDENTIALS,
  BUCKET,
  conditionalSessionPolicy,
  IAM_CONFIG,
  OTHER_KEY,
  oneKeySessionPolicy,
  ROOT_CREDENTIALS,
  SESSION_KEY,
  SESSION_TAG,
  TAGGED_ROLE_ARN,
  UPLOADER_ROLE_ARN,
} from './lib/sts-fixture.ts';
import { READY_PREFIX } from './lib/target-child.ts';

const SECTIONS = ['assume', 'eval', 'e2e'] as const;
type Section = (typeof SECTIONS)[number];
const CONCURRENCY = [1, 8] as const;
const READY_TIMEOUT_MS = 60_000;
/** In-process: each sample takes about this much CPU time; EVAL_ROUNDS samples per case. */
const EVAL_SAMPLE_MS = 30;
const EVAL_ROUNDS = 7;
const EVAL_WARMUP_MS = 100;
/** End to end: seconds per operation per run, the credential kinds taking turns request by request. */
const E2E_SECONDS = 3;
const PUT_BYTES = 1024;

const usage = `usage: node bench/sts.ts [--runs N] [--seconds S] [--sections ${SECTIONS.join(',')}] [--profile DIR]
  --runs N        measured runs, median reported (default 3)
  --seconds S     length of one AssumeRole/GetCallerIdentity measurement (default 2)
  --sections      subset of sections: assume (1), eval (2a, in-process), e2e (2b)
  --profile DIR   run the server with --cpu-prof into DIR and print its top functions`;

// ── statistics and formatting ───────────────────────────────────────────────

/** µs (or any small quantity) with precision that suits its size. */
function num(n: number): string {
  const abs = Math.abs(n);
  return abs < 10 ? n.toFixed(2) : abs < 100 ? n.toFixed(1) : n.toFixed(0);
}

const signed = (n: number): string => (n >= 0 ? `+${num(n)}` : num(n));
const range = (values: number[]): string => `${num(Math.min(...values))}–${num(Math.max(...values))}`;

/** A Markdown-style table; columns listed in `right` are right-aligned. */
function table(rows: string[][], right: Set<number>): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    `| ${row.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

const columnsFrom = (first: number, count: number): Set<number> =>
  new Set(Array.from({ length: count - first }, (_, i) => first + i));

const loadAverage = (): string =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

// ── the server child ────────────────────────────────────────────────────────

interface Server {
  url: string;
  pid: number;
  child: ChildProcess;
}

const resources = new BenchResources();
let workDir: string | undefined;

async function startServerChild(dataDir: string, execArgv: string[]): Promise<Server> {
  const script = join(import.meta.dirname, 'lib', 'sts-child.ts');
  const child = spawn(process.execPath, [...execArgv, script, dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  resources.track(child);
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server: not ready after ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server process exited (${signal ?? code}) before it was ready`));
    });
    lines.on('line', (line) => {
      if (line.startsWith(READY_PREFIX)) {
        clearTimeout(timer);
        resolvePromise((JSON.parse(line.slice(READY_PREFIX.length)) as { url: string }).url);
      } else process.stderr.write(`[server] ${line}\n`);
    });
  });
  if (child.pid === undefined) throw new Error('server: no pid');
  return { url, pid: child.pid, child };
}

const stopChildren = (graceMs?: number): Promise<void> => resources.stopChildren(graceMs);
const removeWorkDir = (): void => resources.removeWorkDir();
resources.stopOnInterrupt('the server');

// ── 2a: in-process evaluation ───────────────────────────────────────────────

interface EvalCase {
  identity: string;
  policies: string;
  request: string;
  /** 'Allow'/'Deny' for isAllowed cases; '' for the other rows. */
  decision: string;
  run: () => unknown;
  async?: boolean;
}

interface EvalRow {
  case: EvalCase;
  /** µs per call, one per round. */
  samples: number[];
}

/** A request as the server builds it: action and resource from the operation, S3's condition keys. */
function s3Request(
  operation: 'PutObject' | 'HeadObject' | 'ListObjectsV2',
  key: string | undefined,
  query: Record<string, string> = {},
): { action: string; resource: string; context: ConditionContext } {
  const facts: S3RequestFacts = {
    operation,
    bucket: BUCKET,
    key,
    query: new URLSearchParams(query),
    headers:
      operation === 'PutObject'
        ? { host: '127.0.0.1:9000', 'content-length': String(PUT_BYTES), 'content-type': 'video/mp4' }
        : { host: '127.0.0.1:9000' },
    presigned: false,
    payloadHash: 'UNSIGNED-PAYLOAD',
    signatureAgeMs: 0,
  };
  const [first] = s3AuthorizationRequests(facts);
  if (!first) throw new Error(`${operation}: no authorization request`);
  return { ...first, context: { ...s3ConditionKeys(facts), 'aws:SourceIp': '127.0.0.1' } };
}

/**
 * On-CPU ns of this thread since `start`: unlike wall time it leaves out the time other
 * processes on this shared machine hold the CPU (GC pauses on this thread still count).
 */
function threadNsSince(start: NodeJS.CpuUsage): number {
  const used = process.threadCpuUsage(start);
  return (used.user + used.system) * 1000;
}

/** CPU ns per call of `fn` over `iterations` calls. */
function timeSync(fn: () => unknown, iterations: number): number {
  const start = process.threadCpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  return threadNsSince(start) / iterations;
}

async function timeAsync(fn: () => unknown, iterations: number): Promise<number> {
  const start = process.threadCpuUsage();
  for (let i = 0; i < iterations; i++) await fn();
  return threadNsSince(start) / iterations;
}

const timeCase = (c: EvalCase, iterations: number): Promise<number> =>
  c.async ? timeAsync(c.run, iterations) : Promise.resolve(timeSync(c.run, iterations));

/** Runs `c` for about `ms` (also the warm-up); returns the iterations a sample of EVAL_SAMPLE_MS needs. */
async function calibrate(c: EvalCase, ms: number): Promise<number> {
  let iterations = 16;
  let total = 0;
  let spentNs = 0;
  while (spentNs < ms * 1e6) {
    spentNs += (await timeCase(c, iterations)) * iterations;
    total += iterations;
    iterations *= 2;
  }
  return Math.max(1, Math.round((EVAL_SAMPLE_MS * 1e6) / (spentNs / total)));
}

async function evaluationSection(dir: string): Promise<EvalRow[]> {
  const iam = openIamStore({
    dataDir: dir,
    accountId: ACCOUNT,
    seed: iamSeedFromConfig(parseIamConfig(IAM_CONFIG)),
  });
  const tokenKey = createSecretKey(randomBytes(32));
  const clock = Date.now;
  const authorizer = createAuthorizer({ iam, clock });
  const lookup = createCredentialLookup({ root: ROOT_CREDENTIALS, accountId: ACCOUNT, iam, tokenKey, clock });
  const identityOf = async (credentials: SigV4Credentials): Promise<Identity> =>
    (await lookup(credentials.accessKeyId, credentials.sessionToken)).identity;
  const root = await identityOf(ROOT_CREDENTIALS);
  const user = await identityOf(BROKER_CREDENTIALS);

  // STS deps wired as the server wires them (http.ts runQueryAction).
  const sourceIp = { 'aws:SourceIp': '127.0.0.1' };
  const stsDeps = (): StsDeps => ({
    iam,
    tokenKey,
    now: clock(),
    requestId: 'BENCH',
    mayAssumeRole: (caller, role, actions, extra) =>
      authorizer.mayAssumeRole(caller, role, actions, { ...sourceIp, ...extra }),
    isAllowed: (caller, action, resource, extra) =>
      authorizer.isAllowed(caller, action, resource, { ...sourceIp, ...extra }),
    validateSessionPolicy: (json) => {
      try {
        authorizer.validateSessionPolicy(json);
      } catch (error) {
        throw new StsError('MalformedPolicyDocument', (error as Error).message);
      }
    },
  });
  let sessionCounter = 0;
  const assume = (roleArn: string, policy: string, tag?: typeof SESSION_TAG): string =>
    handleStsAction(assumeRoleParams(roleArn, `bench-${++sessionCounter}`, policy, tag), user, stsDeps());
  const oneKeyCredentials = parseCredentials(assume(UPLOADER_ROLE_ARN, oneKeySessionPolicy()));
  const taggedCredentials = parseCredentials(
    assume(TAGGED_ROLE_ARN, conditionalSessionPolicy(), SESSION_TAG),
  );
  const session = await identityOf(oneKeyCredentials);
  const tagged = await identityOf(taggedCredentials);

  const putSessionKey = s3Request('PutObject', SESSION_KEY);
  const putOtherKey = s3Request('PutObject', OTHER_KEY);
  const putOutside = s3Request('PutObject', 'private/ledger.csv');
  const listOwn = s3Request('ListObjectsV2', undefined, { 'list-type': '2', prefix: 'uploads/users/alice/' });
  const listOther = s3Request('ListObjectsV2', undefined, { 'list-type': '2', prefix: 'uploads/users/bob/' });
  const allowedCase = (
    identity: string,
    policies: string,
    request: string,
    who: Identity,
    req: ReturnType<typeof s3Request>,
    allow: boolean,
  ): EvalCase => {
    const decision = authorizer.isAllowed(who, req.action, req.resource, req.context);
    if (decision !== allow)
      throw new Error(`${identity} ${request}: expected ${allow ? 'Allow' : 'Deny'}, got the opposite`);
    return {
      identity,
      policies,
      request,
      decision: allow ? 'Allow' : 'Deny',
      run: () => authorizer.isAllowed(who, req.action, req.resource, req.context),
    };
  };
  const USER_POLICIES = '2 inline, 3 statements';
  const ONE_KEY = 'role ∩ 1-key session';
  const CONDITIONAL = 'role ∩ session: tag variable + conditions';
  const cases: EvalCase[] = [
    allowedCase('root', 'none (shortcut)', 'PutObject', root, putSessionKey, true),
    allowedCase('IAM user', USER_POLICIES, 'PutObject in uploads/', user, putSessionKey, true),
    allowedCase('IAM user', USER_POLICIES, 'PutObject outside uploads/', user, putOutside, false),
    allowedCase('role session', ONE_KEY, 'PutObject the key', session, putSessionKey, true),
    allowedCase('role session', ONE_KEY, 'PutObject another key', session, putOtherKey, false),
    allowedCase('tagged session', CONDITIONAL, 'PutObject own prefix', tagged, putSessionKey, true),
    allowedCase('tagged session', CONDITIONAL, "PutObject other's prefix", tagged, putOtherKey, false),
    allowedCase('tagged session', CONDITIONAL, 'ListObjectsV2 own prefix', tagged, listOwn, true),
    allowedCase('tagged session', CONDITIONAL, "ListObjectsV2 other's prefix", tagged, listOther, false),
    {
      identity: 'role session',
      policies: '–',
      request: 'token unseal (openSession)',
      decision: '',
      run: () => openSession(tokenKey, oneKeyCredentials.sessionToken),
    },
    {
      identity: 'role session',
      policies: '–',
      request: 'credential lookup (unseal+checks)',
      decision: '',
      run: () => lookup(oneKeyCredentials.accessKeyId, oneKeyCredentials.sessionToken),
      async: true,
    },
    {
      identity: 'role session',
      policies: ONE_KEY,
      request: 'lookup + isAllowed (per S3 request)',
      decision: 'Allow',
      run: async () => {
        const found = await lookup(oneKeyCredentials.accessKeyId, oneKeyCredentials.sessionToken);
        return authorizer.isAllowed(
          found.identity,
          putSessionKey.action,
          putSessionKey.resource,
          putSessionKey.context,
        );
      },
      async: true,
    },
    {
      identity: 'IAM user → role',
      policies: 'trust + user + session',
      request: 'AssumeRole handler (no HTTP)',
      decision: '',
      run: () => assume(UPLOADER_ROLE_ARN, oneKeySessionPolicy()),
    },
  ];

  process.stdout.write(`2a. in-process evaluation: warm-up…`);
  const iterations: number[] = [];
  for (const c of cases) {
    iterations.push(await calibrate(c, EVAL_WARMUP_MS));
    await yieldToLoop();
  }
  const rows: EvalRow[] = cases.map((c) => ({ case: c, samples: [] }));
  for (let round = 0; round < EVAL_ROUNDS; round++) {
    process.stdout.write(` ${round + 1}`);
    for (let k = 0; k < cases.length; k++) {
      const i = (k + round) % cases.length;
      rows[i]!.samples.push((await timeCase(cases[i]!, iterations[i]!)) / 1000);
      await yieldToLoop(); // lets Ctrl-C in
    }
  }
  process.stdout.write(' done\n');
  return rows;
}

// ── 1: AssumeRole throughput ────────────────────────────────────────────────

interface LoadSample {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Server on-CPU time per request, µs (all threads). */
  serverUs: number;
  count: number;
}

async function load(
  http: BenchHttp,
  server: Server,
  what: string,
  next: () => Promise<SignedRequest>,
  concurrency: number,
  seconds: number,
): Promise<LoadSample> {
  const latencies: number[] = [];
  const before = schedTimes(server.pid);
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const req = await next();
        const sent = performance.now();
        const response = await http.send(req);
        latencies.push(performance.now() - sent);
        expectStatus(response, what);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const after = schedTimes(server.pid);
  return {
    rps: latencies.length / elapsed,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    serverUs: (after.total - before.total) / 1e3 / latencies.length,
    count: latencies.length,
  };
}

type StsKind = 'GetCallerIdentity' | 'AssumeRole';

async function assumeSection(
  http: BenchHttp,
  server: Server,
  runs: number,
  seconds: number,
): Promise<Map<string, LoadSample[]>> {
  let counter = 0;
  const policy = oneKeySessionPolicy();
  const makers: Record<StsKind, () => Promise<SignedRequest>> = {
    GetCallerIdentity: () =>
      signSts(
        server.url,
        BROKER_CREDENTIALS,
        new URLSearchParams({ Action: 'GetCallerIdentity', Version: '2011-06-15' }),
      ),
    AssumeRole: () =>
      signSts(
        server.url,
        BROKER_CREDENTIALS,
        assumeRoleParams(UPLOADER_ROLE_ARN, `upload-${(++counter).toString(36)}`, policy),
      ),
  };
  const configs = (['GetCallerIdentity', 'AssumeRole'] as const).flatMap((kind) =>
    CONCURRENCY.map((concurrency) => ({ kind, concurrency })),
  );
  const samples = new Map<string, LoadSample[]>();
  process.stdout.write('1. AssumeRole throughput: warm-up…');
  for (const { kind, concurrency } of configs)
    await load(http, server, kind, makers[kind], concurrency, Math.min(0.5, seconds));
  process.stdout.write(' done\n');
  for (let run = 0; run < runs; run++) {
    const order = configs.map((_, i) => configs[(i + run) % configs.length]!);
    const runStarted = performance.now();
    process.stdout.write(`   run ${run + 1}/${runs}…`);
    for (const { kind, concurrency } of order) {
      const sample = await load(http, server, kind, makers[kind], concurrency, seconds);
      const id = `${kind}/${concurrency}`;
      samples.set(id, [...(samples.get(id) ?? []), sample]);
    }
    process.stdout.write(` ${((performance.now() - runStarted) / 1000).toFixed(0)} s\n`);
  }
  return samples;
}

// ── 2b: end to end ──────────────────────────────────────────────────────────

const CREDENTIAL_KINDS = ['root', 'IAM user', 'role session'] as const;
type CredentialKind = (typeof CREDENTIAL_KINDS)[number];
type E2eOp = 'HeadObject' | 'PutObject 1 KiB';

interface E2eSample {
  /** Per run: median latency µs, p90 µs, server CPU µs/request. */
  p50: number;
  p90: number;
  serverUs: number;
}

async function e2eSection(http: BenchHttp, server: Server, runs: number): Promise<Map<string, E2eSample[]>> {
  const path = `/${BUCKET}/${SESSION_KEY.split('/').map(encodeURIComponent).join('/')}`;
  const body = randomBytes(PUT_BYTES);
  expectStatus(
    await http.send(await signS3(server.url, ROOT_CREDENTIALS, 'PUT', path, body)),
    'PutObject (root)',
  );
  const assumed = expectStatus(
    await http.send(
      await signSts(
        server.url,
        BROKER_CREDENTIALS,
        assumeRoleParams(UPLOADER_ROLE_ARN, 'bench-e2e', oneKeySessionPolicy()),
      ),
    ),
    'AssumeRole',
  );
  const credentials: Record<CredentialKind, SigV4Credentials> = {
    root: ROOT_CREDENTIALS,
    'IAM user': BROKER_CREDENTIALS,
    'role session': parseCredentials(assumed.text),
  };
  const ops: Record<E2eOp, { method: string; body?: Buffer }> = {
    HeadObject: { method: 'HEAD' },
    'PutObject 1 KiB': { method: 'PUT', body },
  };
  // Everyone may do what's measured; a denied request would measure the error path instead.
  for (const kind of CREDENTIAL_KINDS) {
    for (const [name, op] of Object.entries(ops))
      expectStatus(
        await http.send(await signS3(server.url, credentials[kind], op.method, path, op.body)),
        `${name} (${kind})`,
      );
  }

  const samples = new Map<string, E2eSample[]>();
  const clock = openThreadClock(server.pid);
  /**
   * Sequential requests for `ms`, the credential kinds taking turns request by request (so disk
   * and load swings hit them alike); each request is charged the server main thread's CPU
   * between sending it and its response.
   */
  const alternate = async (op: E2eOp, ms: number, first: number) => {
    const latencies = new Map<CredentialKind, number[]>(CREDENTIAL_KINDS.map((k) => [k, []]));
    const cpuNs = new Map<CredentialKind, number[]>(CREDENTIAL_KINDS.map((k) => [k, []]));
    const deadline = performance.now() + ms;
    for (let n = first; performance.now() < deadline; n++) {
      const kind = CREDENTIAL_KINDS[n % CREDENTIAL_KINDS.length]!;
      const req = await signS3(server.url, credentials[kind], ops[op].method, path, ops[op].body);
      const cpuBefore = clock.read();
      const sent = performance.now();
      const response = await http.send(req);
      latencies.get(kind)!.push((performance.now() - sent) * 1000);
      cpuNs.get(kind)!.push(clock.read() - cpuBefore);
      expectStatus(response, `${op} (${kind})`);
    }
    return { latencies, cpuNs };
  };
  try {
    process.stdout.write('2b. end to end: warm-up…');
    for (const op of Object.keys(ops) as E2eOp[]) await alternate(op, 500, 0);
    process.stdout.write(' done\n');
    for (let run = 0; run < runs; run++) {
      const runStarted = performance.now();
      process.stdout.write(`   run ${run + 1}/${runs}…`);
      for (const op of Object.keys(ops) as E2eOp[]) {
        const { latencies, cpuNs } = await alternate(op, E2E_SECONDS * 1000, run);
        for (const kind of CREDENTIAL_KINDS) {
          const list = latencies.get(kind)!;
          const cpu = cpuNs.get(kind)!;
          const id = `${op}/${kind}`;
          samples.set(id, [
            ...(samples.get(id) ?? []),
            {
              p50: median(list),
              p90: percentile(list, 0.9),
              serverUs: cpu.reduce((sum, ns) => sum + ns, 0) / 1e3 / cpu.length,
            },
          ]);
        }
      }
      process.stdout.write(` ${((performance.now() - runStarted) / 1000).toFixed(0)} s\n`);
    }
  } finally {
    clock.close();
  }
  return samples;
}

// ── report ──────────────────────────────────────────────────────────────────

function reportAssume(samples: Map<string, LoadSample[]>, runs: number, seconds: number): void {
  console.log(
    `\n1. AssumeRole throughput — keep-alive HTTP, SigV4 per request, ${runs} run(s) × ${seconds} s, medians`,
  );
  const rows: string[][] = [
    ['request', 'concurrency', 'req/s', 'min–max', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'requests'],
  ];
  for (const kind of ['GetCallerIdentity', 'AssumeRole'] as const) {
    for (const concurrency of CONCURRENCY) {
      const list = samples.get(`${kind}/${concurrency}`);
      if (!list) continue;
      const rps = list.map((s) => s.rps);
      rows.push([
        kind,
        String(concurrency),
        median(rps).toFixed(0),
        `${Math.min(...rps).toFixed(0)}–${Math.max(...rps).toFixed(0)}`,
        median(list.map((s) => s.p50Ms)).toFixed(2),
        median(list.map((s) => s.p99Ms)).toFixed(2),
        num(median(list.map((s) => s.serverUs))),
        String(list.reduce((sum, s) => sum + s.count, 0)),
      ]);
    }
  }
  console.log(table(rows, columnsFrom(1, rows[0]!.length)));
  const cpu = (kind: StsKind): number =>
    median(CONCURRENCY.flatMap((c) => (samples.get(`${kind}/${c}`) ?? []).map((s) => s.serverUs)));
  const assume = cpu('AssumeRole');
  const baseline = cpu('GetCallerIdentity');
  const top = median((samples.get('AssumeRole/8') ?? []).map((s) => s.rps));
  console.log(
    `What it means: an AssumeRole costs the server ~${num(assume)} µs of CPU, ~${num(assume - baseline)} µs more than ` +
      `GetCallerIdentity (the Query endpoint + SigV4 + key lookup alone, ~${num(baseline)} µs) — one core could mint ` +
      `~${(1e6 / assume).toFixed(0)} sessions/s; measured ${top.toFixed(0)}/s at concurrency 8 with the client on the same 2 CPUs.`,
  );
}

/** Returns the in-process cost of what a session adds per S3 request (lookup + decision), µs. */
function reportEval(rows: EvalRow[]): number {
  console.log(
    `\n2a. Policy evaluation in-process — CPU time of this thread per call, ${EVAL_ROUNDS} rounds × ~${EVAL_SAMPLE_MS} ms each after warm-up, medians`,
  );
  const out: string[][] = [
    ['identity', 'policies', 'request / operation', 'decision', 'CPU µs/call', 'min–max'],
  ];
  for (const row of rows) {
    out.push([
      row.case.identity,
      row.case.policies,
      row.case.request,
      row.case.decision,
      num(median(row.samples)),
      range(row.samples),
    ]);
  }
  console.log(table(out, new Set([4, 5])));
  const of = (identity: string, request: string): number =>
    median(
      rows.find((r) => r.case.identity === identity && r.case.request === request)?.samples ?? [Number.NaN],
    );
  const rootUs = of('root', 'PutObject');
  const sessionUs = of('role session', 'PutObject the key');
  const taggedUs = of('tagged session', 'PutObject own prefix');
  const unsealUs = of('role session', 'token unseal (openSession)');
  const perRequest = of('role session', 'lookup + isAllowed (per S3 request)');
  console.log(
    `What it means: a one-key session's decision costs ~${num(sessionUs)} µs (root's shortcut ${num(rootUs)} µs), ` +
      `~${num(taggedUs)} µs with variables and conditions; unsealing the token ~${num(unsealUs)} µs; ` +
      `all a session adds per S3 request (lookup + decision) ~${num(perRequest)} µs of CPU.`,
  );
  return perRequest;
}

function reportE2e(samples: Map<string, E2eSample[]>, runs: number, inProcessUs: number | undefined): void {
  console.log(
    `\n2b. End to end — concurrency 1, one key, ${runs} run(s) × ${E2E_SECONDS} s per request type, credentials alternating per request, medians`,
  );
  const rows: string[][] = [
    [
      'request',
      'signed by',
      'p50 µs',
      'p90 µs',
      'Δ p50 vs root',
      'server JS-thread CPU µs/req',
      'Δ CPU vs root',
    ],
  ];
  const deltas = new Map<string, { latency: number; cpu: number }>();
  for (const op of ['HeadObject', 'PutObject 1 KiB'] as const) {
    const rootRuns = samples.get(`${op}/root`);
    for (const kind of CREDENTIAL_KINDS) {
      const list = samples.get(`${op}/${kind}`);
      if (!list || !rootRuns) continue;
      // Differences are paired per run (same minute, same load), then the median taken.
      const latency = median(list.map((s, i) => s.p50 - rootRuns[i]!.p50));
      const cpu = median(list.map((s, i) => s.serverUs - rootRuns[i]!.serverUs));
      deltas.set(`${op}/${kind}`, { latency, cpu });
      rows.push([
        op,
        kind,
        num(median(list.map((s) => s.p50))),
        num(median(list.map((s) => s.p90))),
        kind === 'root' ? '–' : signed(latency),
        num(median(list.map((s) => s.serverUs))),
        kind === 'root' ? '–' : signed(cpu),
      ]);
    }
  }
  console.log(table(rows, columnsFrom(2, rows[0]!.length)));
  const head = deltas.get('HeadObject/role session');
  const user = deltas.get('HeadObject/IAM user');
  const put = deltas.get('PutObject 1 KiB/role session');
  const putRoot = median((samples.get('PutObject 1 KiB/root') ?? []).map((s) => s.p50));
  if (head && user && put) {
    console.log(
      `What it means: a role session's HeadObject costs ${signed(head.cpu)} µs of server CPU and ${signed(head.latency)} µs ` +
        `of p50 latency over the root's (an IAM user's: ${signed(user.cpu)} µs CPU, evaluation without unseal); ` +
        `PutObject ${signed(put.cpu)} µs CPU, ${signed(put.latency)} µs p50 (of a ~${num(putRoot)} µs, fsync-bound request).`,
    );
    if (inProcessUs !== undefined) {
      const rest = head.cpu - inProcessUs;
      console.log(
        `In-process, unseal + decision took ${num(inProcessUs)} µs (2a)` +
          (rest > 0
            ? `; the other ~${num(rest)} µs are spent elsewhere in the server's request path (not broken down here; ` +
              '--profile shows where).'
            : ', which covers the whole difference.'),
      );
    }
  }
}

// ── main ────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      seconds: { type: 'string' },
      sections: { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  requireNode24('bench:sts');
  const runs = positiveNumber(values.runs, 3, '--runs', true);
  const seconds = positiveNumber(values.seconds, 2, '--seconds', false);
  const sections = parseList(values.sections, SECTIONS, 'section');
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  const has = (section: Section): boolean => sections.includes(section);
  if (!hasSchedstat()) throw new Error('/proc/<pid>/schedstat is not readable here (needed for server CPU)');
  const wallStarted = Date.now();
  const started = performance.now();
  workDir = resources.workDir = mkdtempSync(join(tmpdir(), 'hoist-bench-sts-'));
  console.log(
    `STS benchmark — Node ${process.versions.node}, ${availableParallelism()} CPUs, load average ${loadAverage()} ` +
      '(the machine is shared: compare rows within a table, not runs)',
  );
  console.log(
    `session policy ${oneKeySessionPolicy().length} chars (one key, ${SESSION_KEY.length}-char key); ` +
      `${runs} run(s); data under ${workDir}`,
  );

  let evalRows: EvalRow[] | undefined;
  let assumeSamples: Map<string, LoadSample[]> | undefined;
  let e2eSamples: Map<string, E2eSample[]> | undefined;
  let http: BenchHttp | undefined;
  try {
    // In-process first, while no server competes for the CPUs.
    if (has('eval')) evalRows = await evaluationSection(join(workDir, 'iam'));
    if (has('assume') || has('e2e')) {
      const execArgv: string[] = [];
      if (profileDir) {
        mkdirSync(profileDir, { recursive: true });
        execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
      }
      const server = await startServerChild(join(workDir, 'server'), execArgv);
      http = createHttp(server.url, Math.max(...CONCURRENCY));
      if (has('assume')) assumeSamples = await assumeSection(http, server, runs, seconds);
      if (has('e2e')) e2eSamples = await e2eSection(http, server, runs);
    }
  } finally {
    http?.close();
    await stopChildren();
    removeWorkDir();
  }

  if (assumeSamples) reportAssume(assumeSamples, runs, seconds);
  const inProcessUs = evalRows ? reportEval(evalRows) : undefined;
  if (e2eSamples) reportE2e(e2eSamples, runs, inProcessUs);
  console.log(
    '\nServer CPU (1) = on-CPU time of every server thread (schedstat, ns) ÷ requests; (2b) = the server main\n' +
      "thread's on-CPU time from request sent to response, per request; in-process CPU (2a) = this thread's\n" +
      '(process.threadCpuUsage). None counts time other processes hold the CPU. Latency = request sent → response\n' +
      'complete, signing excluded. µs = microseconds. Δ = difference to the root-signed requests of the same run.',
  );
  console.log(
    `total ${((performance.now() - started) / 1000).toFixed(0)} s, load average now ${loadAverage()}`,
  );
  if (profileDir) {
    const profiles = readdirSync(profileDir)
      .filter((file) => file.endsWith('.cpuprofile'))
      .map((file) => join(profileDir, file))
      .filter((file) => statSync(file).mtimeMs >= wallStarted);
    for (const file of profiles)
      console.log(`\nServer CPU profile, top functions by self time:\n${formatProfile(file, 25)}`);
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench:sts failed: ${(error as Error)?.stack ?? String(error)}\n`);
  await stopChildren(2_000);
  removeWorkDir();
  process.exitCode = 1;
}
