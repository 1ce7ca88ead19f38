/**
 * Server benchmark: PUT and GET of a 1 GiB object against Hoist's local S3 server,
 * the ceiling (the cheapest plain node:http server that stores the same bytes as
 * durably), a naive stream-pipe node:http server, and s3rver as the peer.
 *
 *   npm run bench:server -- [--runs 3] [--size-mib 1024] [--targets hoist,ceiling,naive,s3rver]
 *                           [--scenarios put,multipart,get,get-multipart] [--profile DIR] [--cpu-detail]
 *
 * Every server runs in its own child process (CPU seconds and peak RSS read from
 * /proc); one cheap client (this process) drives them all. Targets are interleaved
 * within each run (order rotated per run), the system is `sync`ed before each
 * measurement so one target's writeback doesn't land in another's timing, and
 * objects are deleted after each run. Medians of the runs are reported.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { median, parseList, positiveInt, requireNode24 } from './lib/cli.ts';
import {
  closeClient,
  deleteObject,
  getObject,
  MiB,
  PART_BYTES,
  PARTS_IN_FLIGHT,
  putMultipart,
  putObject,
  send,
} from './lib/client.ts';
import { formatProfile } from './lib/cpuprofile.ts';
import { type CpuTimes, cpuTimes, peakRssMiB, resetPeakRss, rssMiB } from './lib/proc.ts';
import { BenchResources } from './lib/resources.ts';
import { BENCH_BUCKET, HOIST_CREDENTIALS, READY_PREFIX, type TargetInfo } from './lib/target-child.ts';

const TARGETS = ['hoist', 'ceiling', 'naive', 's3rver'] as const;
type TargetName = (typeof TARGETS)[number];
const SCENARIOS = ['put', 'multipart', 'get', 'get-multipart', 'complete-10k', 'xml-hostile'] as const;
/** Hoist-only scenarios about request-body cost rather than throughput. */
const XML_SCENARIOS: readonly Scenario[] = ['complete-10k', 'xml-hostile'];
type Scenario = (typeof SCENARIOS)[number];

const TARGET_LABELS: Record<TargetName, string> = {
  hoist: 'Hoist',
  ceiling: 'ceiling',
  naive: 'naive pipe',
  s3rver: 's3rver',
};
const SCENARIO_LABELS: Record<Scenario, string> = {
  put: 'single PUT',
  multipart: 'multipart PUT',
  get: 'GET single-PUT obj',
  'get-multipart': 'GET multipart obj',
  'complete-10k': '10,000-part Complete',
  'xml-hostile': 'hostile Complete bodies',
};
const BUDGET_RATIO = 0.9;
const BUDGET_CPU_RATIO = 2;
const BUDGET_RSS_MIB = 150;
const WARMUP_MIB = 64;
const READY_TIMEOUT_MS = 60_000;

const usage = `usage: node bench/server.ts [--runs N] [--size-mib M] [--targets ${TARGETS.join(',')}]
                            [--scenarios ${SCENARIOS.join(',')}] [--profile DIR] [--cpu-detail]
  --runs N        measured runs, median reported (default 3)
  --size-mib M    object size in MiB (default 1024); multipart uses ${PART_BYTES / MiB} MiB parts, ${PARTS_IN_FLIGHT} in flight
  --targets       subset of targets (the ceiling is needed for ratios)
  --scenarios     subset of scenarios; complete-10k and xml-hostile run against Hoist only and
                  report time and server RSS (a 10,000-part Complete of seeded parts; an 8 MiB
                  body of \`&#65;\` entities, one just under the cap, and 10,000 entity-heavy ETags)
  --profile DIR   run Hoist's server with --cpu-prof into DIR and print the top functions
  --cpu-detail    also print server CPU per thread group (JS, worker_threads, V8, libuv pool) and the client's`;

// ── children ────────────────────────────────────────────────────────────────

interface Target extends TargetInfo {
  name: TargetName;
  child: ChildProcess;
  pid: number;
}

const resources = new BenchResources();
let workDir: string | undefined;

async function startTarget(name: TargetName, dataDir: string, execArgv: string[]): Promise<Target> {
  const script = join(import.meta.dirname, 'lib', 'target-child.ts');
  const child = spawn(process.execPath, [...execArgv, script, name, dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_COMPILE_CACHE: compileCacheDir() },
  });
  resources.track(child);
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<TargetInfo>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: not ready after ${READY_TIMEOUT_MS / 1000} s`)),
      READY_TIMEOUT_MS,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: server process exited (${signal ?? code}) before it was ready`));
    });
    lines.on('line', (line) => {
      if (line.startsWith(READY_PREFIX)) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(line.slice(READY_PREFIX.length)) as TargetInfo);
      } else process.stderr.write(`[${name}] ${line}\n`);
    });
  });
  if (child.pid === undefined) throw new Error(`${name}: no pid`);
  return { ...info, name, child, pid: child.pid };
}

/**
 * Servers run as they do once built: from compiled JavaScript, not through Node's
 * TypeScript stripper, whose compiler (loaded by the first .ts module of each
 * thread) holds ~17 MiB per thread. A compile cache keeps the stripped modules;
 * `primeTarget` fills it by starting each server once and using it.
 */
function compileCacheDir(): string {
  if (workDir === undefined) throw new Error('no work dir yet');
  return join(workDir, 'compile-cache');
}

async function primeTarget(name: TargetName, dataDir: string): Promise<void> {
  const target = await startTarget(name, dataDir, []);
  // A body large enough to start Hoist's hash worker, so its modules are cached too.
  await putObject(target, 'bench/prime', 2 * MiB);
  await deleteObject(target, 'bench/prime');
  await new Promise<void>((done) => {
    target.child.once('exit', () => done());
    target.child.kill('SIGTERM');
  });
}

const stopChildren = (graceMs?: number): Promise<void> => resources.stopChildren(graceMs);
const removeWorkDir = (): void => resources.removeWorkDir();
// Not in the body-cost child: its parent stops it.
if (process.argv[2] !== '--xml-child') resources.stopOnInterrupt('servers');

// ── measuring ───────────────────────────────────────────────────────────────

interface Sample {
  mbps: number;
  /** Server CPU seconds during the measurement, all threads and per group. */
  cpu: CpuTimes;
  /** This process (the client), for reference. */
  clientCpuSeconds: number;
  peakRssMiB: number;
}

/** Flush every dirty page (s3rver doesn't fsync) so it isn't written back during the next measurement. */
async function settle(): Promise<void> {
  spawnSync('sync');
  await sleep(200);
}

async function measure(target: Target, bytes: number, op: () => Promise<void>): Promise<Sample> {
  await settle();
  resetPeakRss(target.pid);
  const before = cpuTimes(target.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  await op();
  const seconds = (performance.now() - started) / 1000;
  const after = cpuTimes(target.pid);
  const client = process.cpuUsage(clientBefore);
  return {
    mbps: bytes / 1e6 / seconds,
    cpu: {
      total: after.total - before.total,
      main: after.main - before.main,
      v8: after.v8 - before.v8,
      io: after.io - before.io,
      workers: after.workers - before.workers,
    },
    clientCpuSeconds: (client.user + client.system) / 1e6,
    peakRssMiB: peakRssMiB(target.pid),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const numeric = (i: number): boolean => i >= 2;
  const line = (row: string[]): string =>
    `| ${row.map((cell, i) => (numeric(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

// ── request-body cost (Hoist only) ─────────────────────────────────────────

const XML_CHILD_FLAG = '--xml-child';
const COMPLETE_PARTS = 10_000;

/**
 * The Hoist server for the body-cost scenarios, in its own process (its RSS is its
 * own), seeding multipart parts as rows on request: a real 10,000-part Complete
 * would otherwise need 50 GB of 5 MiB parts, and Complete reads only part metadata.
 * Protocol: one JSON line `{uploadId, parts: [{n, etag, size}]}` on stdin → `SEEDED`.
 */
async function xmlChild(dataDir: string): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const { startServer } = await import('@hoist/server');
  const server = await startServer({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    rootCredentials: HOIST_CREDENTIALS,
    buckets: [BENCH_BUCKET],
  });
  const info: TargetInfo = { url: server.url, bucket: BENCH_BUCKET, credentials: HOIST_CREDENTIALS };
  process.stdout.write(`${READY_PREFIX}${JSON.stringify(info)}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', async (line) => {
    const { uploadId, parts } = JSON.parse(line) as {
      uploadId: string;
      parts: { n: number; etag: string; size: number }[];
    };
    for (const part of parts) {
      await server.storage.putPart(uploadId, {
        partNumber: part.n,
        blobId: randomBytes(16).toString('hex'),
        size: part.size,
        etag: part.etag,
      });
    }
    process.stdout.write('SEEDED\n');
  });
  lines.on('close', () => {
    void server.close().then(() => process.exit(0));
  });
}

interface XmlChild extends TargetInfo {
  pid: number;
  seed(uploadId: string, parts: { n: number; etag: string; size: number }[]): Promise<void>;
}

async function startXmlChild(dataDir: string): Promise<XmlChild> {
  const child = spawn(process.execPath, [import.meta.filename, XML_CHILD_FLAG, dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  resources.track(child);
  const lines = createInterface({ input: child.stdout! });
  const waiting: (() => void)[] = [];
  const info = await new Promise<TargetInfo>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error('hoist (xml): not ready')), READY_TIMEOUT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`hoist (xml): exited (${signal ?? code})`));
    });
    lines.on('line', (line) => {
      if (line.startsWith(READY_PREFIX)) {
        clearTimeout(timer);
        resolvePromise(JSON.parse(line.slice(READY_PREFIX.length)) as TargetInfo);
      } else if (line === 'SEEDED') waiting.shift()?.();
      else process.stderr.write(`[hoist] ${line}\n`);
    });
  });
  if (child.pid === undefined) throw new Error('hoist (xml): no pid');
  return {
    ...info,
    pid: child.pid,
    seed: (uploadId, parts) =>
      new Promise<void>((resolvePromise) => {
        waiting.push(resolvePromise);
        child.stdin!.write(`${JSON.stringify({ uploadId, parts })}\n`);
      }),
  };
}

function hostileComplete(bytes: number): string {
  const head = '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>';
  const tail = '</ETag></Part></CompleteMultipartUpload>';
  return `${head}${'&#65;'.repeat(Math.floor((bytes - head.length - tail.length) / 5))}${tail}`;
}

interface XmlSample {
  ms: number;
  status: string;
  rssAfterMiB: number;
  peakRssMiB: number;
}

async function runXmlBench(xmlScenarios: Scenario[], runs: number, dataDir: string): Promise<void> {
  const target = await startXmlChild(dataDir);
  const idle = rssMiB(target.pid);
  // First use starts the hash workers and loads the handlers: measured apart from the bodies' cost.
  await putObject(target, 'xml/warm-up', 8 * MiB);
  await sleep(500);
  console.log(
    `\nRequest-body cost (Hoist only), ${runs} run(s), medians; server RSS idle ${idle.toFixed(0)} MiB, ` +
      `after an 8 MiB PUT warm-up ${rssMiB(target.pid).toFixed(0)} MiB`,
  );
  const path = (key: string) => `/${target.bucket}/${key}`;
  const createUpload = async (key: string, parts: number) => {
    const created = await send(target, { method: 'POST', path: `${path(key)}?uploads=`, keepText: true });
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.text)?.[1];
    if (!uploadId) throw new Error(`CreateMultipartUpload: ${created.status} ${created.text.slice(0, 200)}`);
    const seeded = Array.from({ length: parts }, (_, i) => ({
      n: i + 1,
      etag: `"${randomBytes(16).toString('hex')}"`,
      size: i + 1 === parts ? 1234 : 5 * MiB,
    }));
    await target.seed(uploadId, seeded);
    return { uploadId, seeded };
  };
  const timed = async (key: string, uploadId: string, body: string): Promise<XmlSample> => {
    resetPeakRss(target.pid);
    const started = performance.now();
    const answer = await send(target, {
      method: 'POST',
      path: `${path(key)}?uploadId=${encodeURIComponent(uploadId)}`,
      body,
      keepText: true,
    });
    const ms = performance.now() - started;
    const code = /<Code>([^<]+)<\/Code>/.exec(answer.text)?.[1];
    // RSS a moment later: what the request left behind, not its transient peak.
    await sleep(500);
    return {
      ms,
      status: `${answer.status}${code ? ` ${code}` : ''}`,
      rssAfterMiB: rssMiB(target.pid),
      peakRssMiB: peakRssMiB(target.pid),
    };
  };
  const results = new Map<string, XmlSample[]>();
  const record = (name: string, sample: XmlSample) =>
    results.set(name, [...(results.get(name) ?? []), sample]);
  for (let run = 0; run < runs; run++) {
    if (xmlScenarios.includes('complete-10k')) {
      const key = `xml/complete-${run}`;
      const { uploadId, seeded } = await createUpload(key, COMPLETE_PARTS);
      const body = `<CompleteMultipartUpload>${seeded
        .map((part) => `<Part><PartNumber>${part.n}</PartNumber><ETag>${part.etag}</ETag></Part>`)
        .join('')}</CompleteMultipartUpload>`;
      record(
        `10,000-part Complete (${(body.length / MiB).toFixed(2)} MiB body)`,
        await timed(key, uploadId, body),
      );
    }
    if (xmlScenarios.includes('xml-hostile')) {
      const key = `xml/hostile-${run}`;
      const { uploadId } = await createUpload(key, 2);
      record('8 MiB of &#65; in one ETag', await timed(key, uploadId, hostileComplete(8 * MiB)));
      record(
        '5 MB of &#65; in one ETag (under the cap)',
        await timed(key, uploadId, hostileComplete(5_000_000)),
      );
      const spread = `<CompleteMultipartUpload>${Array.from(
        { length: COMPLETE_PARTS },
        (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${'&#65;'.repeat(90)}</ETag></Part>`,
      ).join('')}</CompleteMultipartUpload>`;
      record('10,000 ETags of 90 &#65; each', await timed(key, uploadId, spread));
    }
  }
  const rows: string[][] = [
    ['body', 'answer', 'ms (median)', 'min–max', 'server RSS after MiB', 'peak RSS MiB'],
  ];
  for (const [name, list] of results) {
    const ms = list.map((s) => s.ms);
    rows.push([
      name,
      list[0]!.status,
      median(ms).toFixed(0),
      `${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)}`,
      Math.max(...list.map((s) => s.rssAfterMiB)).toFixed(0),
      Math.max(...list.map((s) => s.peakRssMiB)).toFixed(0),
    ]);
  }
  console.log(table(rows));
  console.log('ms = client wall time of the Complete request; RSS read from /proc 0.5 s after the answer.');
  closeClient();
}

// ── main ────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      'size-mib': { type: 'string' },
      targets: { type: 'string' },
      scenarios: { type: 'string' },
      profile: { type: 'string' },
      'cpu-detail': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  requireNode24('bench:server');
  const runs = positiveInt(values.runs, 3, '--runs');
  const sizeMiB = positiveInt(values['size-mib'], 1024, '--size-mib');
  const size = sizeMiB * MiB;
  const targetNames = parseList(values.targets, TARGETS, 'target');
  const chosen = parseList(values.scenarios, SCENARIOS, 'scenario');
  const scenarios = chosen.filter((scenario) => !XML_SCENARIOS.includes(scenario));
  const xmlScenarios = chosen.filter((scenario) => XML_SCENARIOS.includes(scenario));
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile);
  const wallStarted = Date.now();

  workDir = resources.workDir = mkdtempSync(join(tmpdir(), 'hoist-bench-'));
  if (xmlScenarios.length > 0) {
    await runXmlBench(xmlScenarios, runs, join(workDir, 'hoist-xml'));
    if (scenarios.length === 0) {
      await stopChildren();
      removeWorkDir();
      return;
    }
  }
  const sameDisk = statSync(workDir).dev === statSync(import.meta.dirname).dev;
  const started = performance.now();
  console.log(
    `Server benchmark — Node ${process.versions.node}, ${availableParallelism()} CPUs, object ${sizeMiB} MiB, ` +
      `multipart ${PART_BYTES / MiB} MiB parts × ${PARTS_IN_FLIGHT} in flight, ${runs} run(s), medians`,
  );
  console.log(
    `load average ${loadavg()
      .map((n) => n.toFixed(1))
      .join(' ')} (the machine is shared: compare rows, not runs)`,
  );
  console.log(`data dirs under ${workDir} (${sameDisk ? 'same' : 'NOT the same'} filesystem as the repo)`);

  const targets: Target[] = [];
  try {
    for (const name of targetNames) {
      const execArgv: string[] = [];
      if (name === 'hoist' && profileDir) {
        mkdirSync(profileDir, { recursive: true });
        execArgv.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
      }
      await primeTarget(name, join(workDir, `${name}-prime`));
      targets.push(await startTarget(name, join(workDir, name), execArgv));
    }
    console.log(
      `server RSS when idle after start: ${targets.map((t) => `${TARGET_LABELS[t.name]} ${rssMiB(t.pid).toFixed(0)} MiB`).join(', ')}`,
    );
    const samples = new Map<string, Sample[]>();
    const record = (target: Target, scenario: Scenario, sample: Sample): void => {
      const id = `${target.name}/${scenario}`;
      samples.set(id, [...(samples.get(id) ?? []), sample]);
    };

    const has = (scenario: Scenario): boolean => scenarios.includes(scenario);
    const oneRound = async (order: Target[], bytes: number, keep: boolean): Promise<void> => {
      const single = `bench/single-${bytes}`;
      const multi = `bench/multipart-${bytes}`;
      if (has('put') || has('get')) {
        for (const target of order) {
          const sample = await measure(target, bytes, () => putObject(target, single, bytes));
          if (keep && has('put')) record(target, 'put', sample);
        }
      }
      if (has('get')) {
        for (const target of order) {
          const sample = await measure(target, bytes, () => getObject(target, single, bytes));
          if (keep) record(target, 'get', sample);
        }
      }
      for (const target of order) if (has('put') || has('get')) await deleteObject(target, single);
      if (has('multipart') || has('get-multipart')) {
        for (const target of order) {
          const sample = await measure(target, bytes, () => putMultipart(target, multi, bytes));
          if (keep && has('multipart')) record(target, 'multipart', sample);
        }
      }
      if (has('get-multipart')) {
        for (const target of order) {
          const sample = await measure(target, bytes, () => getObject(target, multi, bytes));
          if (keep) record(target, 'get-multipart', sample);
        }
      }
      for (const target of order)
        if (has('multipart') || has('get-multipart')) await deleteObject(target, multi);
    };

    process.stdout.write(`warm-up (${Math.min(WARMUP_MIB, sizeMiB)} MiB)…`);
    await oneRound(targets, Math.min(WARMUP_MIB, sizeMiB) * MiB, false);
    process.stdout.write(' done\n');
    for (let run = 0; run < runs; run++) {
      const order = targets.map((_, i) => targets[(i + run) % targets.length]!);
      const runStarted = performance.now();
      process.stdout.write(`run ${run + 1}/${runs} (${order.map((t) => t.name).join(' → ')})…`);
      await oneRound(order, size, true);
      process.stdout.write(` ${((performance.now() - runStarted) / 1000).toFixed(0)} s\n`);
    }

    // ── report ──
    const medianOf = (name: TargetName, scenario: Scenario): number | undefined => {
      const list = samples.get(`${name}/${scenario}`);
      return list ? median(list.map((s) => s.mbps)) : undefined;
    };
    const cpuOf = (name: TargetName, scenario: Scenario): number | undefined => {
      const list = samples.get(`${name}/${scenario}`);
      return list ? median(list.map((s) => s.cpu.total)) : undefined;
    };
    const rows: string[][] = [
      [
        'target',
        'scenario',
        'MB/s (median)',
        'min–max',
        'server CPU s/GiB (JS thread)',
        '× ceiling',
        'peak RSS MiB',
      ],
    ];
    for (const scenario of scenarios) {
      for (const name of targetNames) {
        const list = samples.get(`${name}/${scenario}`);
        if (!list) continue;
        const mbps = list.map((s) => s.mbps);
        const gib = size / (1024 * MiB);
        const cpu = median(list.map((s) => s.cpu.total)) / gib;
        const main = median(list.map((s) => s.cpu.main)) / gib;
        const ceiling = medianOf('ceiling', scenario);
        rows.push([
          TARGET_LABELS[name],
          SCENARIO_LABELS[scenario],
          median(mbps).toFixed(0),
          `${Math.min(...mbps).toFixed(0)}–${Math.max(...mbps).toFixed(0)}`,
          `${cpu.toFixed(2)} (${main.toFixed(2)})`,
          ceiling ? `${(median(mbps) / ceiling).toFixed(2)}×` : '–',
          Math.max(...list.map((s) => s.peakRssMiB)).toFixed(0),
        ]);
      }
    }
    console.log();
    console.log(table(rows));
    if (values['cpu-detail']) {
      const detail: string[][] = [
        [
          'target',
          'scenario',
          'server total',
          'JS thread',
          'worker threads',
          'V8 (GC…)',
          'libuv pool',
          'client',
        ],
      ];
      for (const scenario of scenarios) {
        for (const name of targetNames) {
          const list = samples.get(`${name}/${scenario}`);
          if (!list) continue;
          const gib = size / (1024 * MiB);
          const per = (pick: (s: Sample) => number): string => (median(list.map(pick)) / gib).toFixed(2);
          detail.push([
            TARGET_LABELS[name],
            SCENARIO_LABELS[scenario],
            per((s) => s.cpu.total),
            per((s) => s.cpu.main),
            per((s) => s.cpu.workers),
            per((s) => s.cpu.v8),
            per((s) => s.cpu.io),
            per((s) => s.clientCpuSeconds),
          ]);
        }
      }
      console.log();
      console.log('CPU seconds per GiB by thread (medians):');
      console.log(table(detail));
    }
    console.log();
    console.log(
      'MB/s = 10^6 bytes/s, client-side wall time (PUT: first byte sent → response; multipart: Create → Complete).\n' +
        'CPU = utime+stime of the server process, all threads (JS thread alone in parentheses). Peak RSS = VmHWM,\n' +
        'reset before each measurement. ceiling/naive: new file, fdatasync + directory fsync before answering, no auth,\n' +
        'multipart = the same part PUTs, no complete. s3rver never fsyncs (not durable). GETs are served from the page cache.',
    );
    if (targetNames.includes('hoist')) {
      console.log();
      for (const scenario of scenarios) {
        const hoist = medianOf('hoist', scenario);
        const ceiling = medianOf('ceiling', scenario);
        if (hoist === undefined || ceiling === undefined) continue;
        const ratio = hoist / ceiling;
        let line = `Hoist ${SCENARIO_LABELS[scenario]}: ${ratio.toFixed(2)}× ceiling (budget ≥ ${BUDGET_RATIO}×) — ${ratio >= BUDGET_RATIO ? 'OK' : 'MISS'}`;
        const cpu = cpuOf('hoist', scenario);
        const ceilingCpu = cpuOf('ceiling', scenario);
        // Writes only: a GET's CPU is the page cache's, not a budget of ours.
        if ((scenario === 'put' || scenario === 'multipart') && cpu && ceilingCpu) {
          const cpuRatio = cpu / ceilingCpu;
          line += `; CPU/GiB ${cpuRatio.toFixed(2)}× ceiling's (budget ≤ ${BUDGET_CPU_RATIO}×) — ${cpuRatio <= BUDGET_CPU_RATIO ? 'OK' : 'MISS'}`;
        }
        console.log(line);
      }
      const peak = Math.max(
        ...scenarios.flatMap((scenario) => (samples.get(`hoist/${scenario}`) ?? []).map((s) => s.peakRssMiB)),
      );
      if (Number.isFinite(peak)) {
        console.log(
          `Hoist peak RSS: ${peak.toFixed(0)} MiB (budget ≤ ${BUDGET_RSS_MIB} MiB) — ${peak <= BUDGET_RSS_MIB ? 'OK' : 'MISS'}`,
        );
      }
    }
    console.log(
      `\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s, load average now ${loadavg()
        .map((n) => n.toFixed(1))
        .join(' ')}`,
    );
  } finally {
    closeClient();
    await stopChildren();
    removeWorkDir();
  }
  if (profileDir) {
    // One profile per JS thread (the server's main thread and any worker_threads), newest run only.
    const profiles = readdirSync(profileDir)
      .filter((file) => file.endsWith('.cpuprofile'))
      .map((file) => join(profileDir, file))
      .filter((file) => statSync(file).mtimeMs >= wallStarted);
    for (const file of profiles)
      console.log(`\nHoist server CPU profile, top functions by self time:\n${formatProfile(file, 25)}`);
  }
}

if (process.argv[2] === XML_CHILD_FLAG) {
  await xmlChild(process.argv[3] ?? '');
} else {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`bench:server failed: ${(error as Error)?.stack ?? String(error)}\n`);
    await stopChildren(2_000);
    removeWorkDir();
    process.exitCode = 1;
  }
}
