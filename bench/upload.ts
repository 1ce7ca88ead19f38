/**
 * Upload benchmark: one file from Node with Hoist's engine, `@aws-sdk/lib-storage`, the AWS
 * CLI, curl and a plain node:http client, all at the same part size and concurrency.
 *
 *   npm run bench:upload -- [--size 1GiB] [--runs 3] [--targets server,sink]
 *                           [--clients plain,engine,lib-storage,aws-cli,curl] [--big] [--big-size 8GiB]
 *                           [--part-size 16MiB] [--concurrency 4] [--engine-checksum ALG] [--no-browser]
 *                           [--profile DIR]
 *
 * (a) `server`: Hoist's local S3 + STS server and a real broker (sts mode), each in its own
 *     process. The ceiling is the plain client: the same bytes as one multipart upload, file
 *     ranges piped into node:http requests, no checksums.
 * (b) `sink`: an S3-shaped sink that counts and drops the bytes, with a stub broker for the
 *     engine: each client's own ceiling and CPU cost.
 * (c) `--big`: the engine's peak RSS uploading a much larger (sparse) file to the sink.
 *
 * Every client runs in its own process: CPU seconds (all threads) and peak RSS are its own.
 * Clients are interleaved within each run (order rotated per run); medians of the runs are
 * reported. Budgets from the architecture are checked at the end. More rows (the browser
 * part) plug in through EXTENSIONS (bench/lib/upload-extension.ts).
 */
import { randomFillSync } from 'node:crypto';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseSize } from '@hoist/broker/internal/config';
import { parseChecksumAlgorithm } from '@hoist/protocol';
import { parseList, positiveInt, requireNode24 } from './lib/cli.ts';
import { formatProfile } from './lib/cpuprofile.ts';
import { BenchResources } from './lib/resources.ts';
import { measureBrowser } from './lib/upload-browser.ts';
import {
  CLIENTS,
  type ClientName,
  clientExecArgv,
  ExternalRunner,
  externalSkip,
  idleRssMiB,
  type Measure,
  type Setup,
  sampleOf,
  serverMeasure,
  sinkMeasure,
  syncDisks,
  timeoutMs,
  Unavailable,
} from './lib/upload-cases.ts';
import type { ClientJob } from './lib/upload-client-child.ts';
import type { UploadBenchContext, UploadBenchExtension } from './lib/upload-extension.ts';
import { findExternalTools } from './lib/upload-external.ts';
import {
  type Budget,
  findRow,
  type Row,
  renderBudgets,
  renderSection,
  type Section,
  summarize,
} from './lib/upload-report.ts';
import { runNodeClient, type SinkWorld, startServerWorld, startSinkWorld } from './lib/upload-world.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TARGETS = ['server', 'sink'] as const;
type TargetName = (typeof TARGETS)[number];

/**
 * Budgets: issue 16's (engine ≥ 0.8× the ceiling end to end, ≤ 1.5 CPU-s/GiB to the sink),
 * then ARCHITECTURE.md's "Performance budgets" (0.9×, ≤ 1 CPU-s/GiB), each printed.
 */
const SERVER_RATIOS = [0.8, 0.9];
const SINK_RATIO = 2.5;
const SINK_CPUS_PER_GIB = [1.5, 1];
/** "Independent of file size": the big file's peak RSS within this factor of the small one's. */
const RSS_GROWTH = 1.25;

/**
 * More measurements that add sections and budgets; they run after the Node rows.
 * The browser rows go here: `{ name: 'browser', run: measureBrowser }` from ./lib/upload-browser.ts.
 */
const EXTENSIONS: UploadBenchExtension[] = [{ name: 'browser', run: measureBrowser }];

const LABELS: Record<TargetName, Record<ClientName, string>> = {
  server: {
    plain: 'ceiling: plain node:http',
    engine: 'Hoist engine',
    'lib-storage': '@aws-sdk/lib-storage',
    'aws-cli': 'AWS CLI (s3 cp)',
    curl: 'curl',
  },
  sink: {
    plain: 'plain node:http',
    engine: 'Hoist engine',
    'lib-storage': '@aws-sdk/lib-storage',
    'aws-cli': 'AWS CLI (s3 cp)',
    curl: 'curl -T (one PUT)',
  },
};

const usage = `usage: node bench/upload.ts [--size 1GiB] [--runs 3] [--targets ${TARGETS.join(',')}]
                            [--clients ${CLIENTS.join(',')}] [--big] [--big-size 8GiB]
                            [--part-size 16MiB] [--concurrency 4] [--engine-checksum ALG] [--profile DIR]
  --size S         file size (random bytes, generated once; default 1GiB)
  --runs N         measured runs, median reported (default 3)
  --targets        server: Hoist's local S3 server + broker; sink: S3-shaped sink + stub broker
  --clients        subset of clients (plain is the ceiling the engine is compared with in (a);
                   curl runs against the sink only: it cannot sign an S3 multipart upload)
  --big            also the engine's peak RSS with a --big-size sparse file, to the sink
  --part-size S    part size of every client (default 16MiB); --concurrency N: parts in flight (4)
  --no-browser     skip the headless Chromium rows (d)
  --engine-checksum ALG  the Node engine's checksum algorithm (default: its own, CRC32; every client
                   runs with its own defaults otherwise)
  --profile DIR    run the engine's processes with --cpu-prof into DIR/<target> and print their top
                   functions (those runs' figures include the profiler's overhead)`;

interface Case {
  target: TargetName;
  client: ClientName;
  row: Row;
  measure: Measure;
}

const resources = new BenchResources();
resources.stopOnInterrupt('the clients and servers');

const loadAverage = (): string =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');

function writeRandomFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.allocUnsafe(16 * MiB);
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(chunk.length, size - written);
      randomFillSync(chunk, 0, n);
      written += writeSync(fd, chunk, 0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Holes read as zeros without touching the disk: an 8 GiB file in no time. */
function writeSparseFile(path: string, size: number): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

function sizeOption(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const bytes = parseSize(value);
  if (bytes === undefined || bytes <= 0) throw new Error(`${what} must be a size such as 64MiB or 1GiB`);
  return bytes;
}

const formatSize = (bytes: number): string =>
  bytes % GiB === 0 ? `${bytes / GiB} GiB` : bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} B`;

const errorNote = (error: unknown): string =>
  `${error instanceof Unavailable ? 'not available' : 'FAILED'}: ${(error as Error).message}`;

/**
 * Every case once per run, targets in turn, clients in an order rotated per run. A failed run
 * is noted on its row (the other runs still count); a client that is not available is dropped.
 */
async function runCases(cases: Case[], runs: number): Promise<void> {
  const groups = TARGETS.map((target) => cases.filter((c) => c.target === target)).filter((g) => g.length);
  const failures = new Map<Case, string[]>();
  for (let r = 0; r < runs; r++) {
    const runStarted = performance.now();
    process.stdout.write(`run ${r + 1}/${runs}:`);
    for (const group of groups) {
      for (const c of group.map((_, i) => group[(i + r) % group.length]!)) {
        if (c.row.note?.startsWith('not available')) continue;
        process.stdout.write(` ${c.target}/${c.client}`);
        try {
          c.row.samples.push(await c.measure(r + 1, c.row));
        } catch (error) {
          if (error instanceof Unavailable) {
            c.row.note = errorNote(error);
            process.stdout.write(' (n/a)');
            continue;
          }
          const list = [...(failures.get(c) ?? []), `run ${r + 1}: ${(error as Error).message}`];
          failures.set(c, list);
          c.row.note = `FAILED ${list.length} of ${runs} run(s) — ${list.join('; ')}`;
          process.stdout.write(' (FAILED)');
        }
      }
    }
    process.stdout.write(
      ` — ${((performance.now() - runStarted) / 1000).toFixed(0)} s, load ${loadAverage()}\n`,
    );
  }
}

/** (c) The engine uploads a `bigSize` sparse file to the sink once: its peak RSS next to the main file's. */
async function bigSection(
  setup: Setup,
  workDir: string,
  bigSize: number,
  small: Row | undefined,
): Promise<{ section: Section; budget: Budget }> {
  const world = await setup.sinkWorld();
  const bigFile = join(workDir, 'big-sparse.bin');
  writeSparseFile(bigFile, bigSize);
  const big: Row = {
    client: `Hoist engine, ${formatSize(bigSize)} (sparse file)`,
    bytes: bigSize,
    samples: [],
  };
  process.stdout.write(`big: engine ${formatSize(bigSize)} → sink…`);
  try {
    const job: ClientJob = {
      client: 'engine',
      file: bigFile,
      size: bigSize,
      partSize: setup.partSize,
      concurrency: setup.concurrency,
      brokerUrl: world.broker.url,
      token: world.broker.token,
    };
    const sample = sampleOf(
      await runNodeClient(setup.resources, job, timeoutMs(bigSize), clientExecArgv(setup, 'engine', 'big')),
    );
    const object = world.sink.object(sample.key);
    world.sink.clear();
    if (object?.bytes !== bigSize) throw new Error(`the sink got ${object?.bytes ?? 'no'} bytes`);
    big.samples.push(sample);
    process.stdout.write(' done\n');
  } catch (error) {
    big.note = errorNote(error);
    process.stdout.write(' failed\n');
  } finally {
    rmSync(bigFile, { force: true });
  }
  const label = `Hoist engine, ${formatSize(setup.size)}`;
  const smallRow: Row = small
    ? { ...small, client: label }
    : { client: label, bytes: setup.size, samples: [], note: 'needs --targets sink' };
  const s = summarize(smallRow);
  const b = summarize(big);
  return {
    section: {
      title:
        `(c) The engine's peak RSS by file size, to the sink ` +
        `(parts are read in reused 1 MiB chunks, not held whole: ${formatSize(setup.partSize)} parts, ${setup.concurrency} in flight)`,
      rows: [smallRow, big],
    },
    budget: {
      what: `engine peak RSS independent of file size (${formatSize(bigSize)} ≤ ${RSS_GROWTH}× ${formatSize(setup.size)})`,
      pass: s && b ? b.peakRssMiB <= s.peakRssMiB * RSS_GROWTH : undefined,
      detail: s && b ? `${b.peakRssMiB.toFixed(0)} MiB vs ${s.peakRssMiB.toFixed(0)} MiB` : 'not measured',
    },
  };
}

/** The newest engine profile of each target (written since `since`, performance.now() time). */
function printProfiles(dir: string, since: number): void {
  const after = Date.now() - (performance.now() - since);
  for (const target of ['server', 'sink', 'big']) {
    const files = (existsSync(join(dir, target)) ? readdirSync(join(dir, target)) : [])
      .filter((name) => name.endsWith('.cpuprofile'))
      .map((name) => join(dir, target, name))
      .filter((path) => statSync(path).mtimeMs >= after)
      .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    const newest = files.at(-1);
    if (newest)
      console.log(
        `\nEngine → ${target}, last run: top functions by self time (JS thread only; the hashing worker\n` +
          `and libuv's file reads are not sampled)\n${formatProfile(newest, 20)}`,
      );
  }
}

/** The three speed and CPU budgets, from the (a) and (b) tables. */
function mainBudgets(server: Section | undefined, sink: Section | undefined): Budget[] {
  const ratio = (section: Section | undefined, a: string, b: string) => {
    const x = summarize(findRow(section, a));
    const y = summarize(findRow(section, b));
    return x && y
      ? {
          ratio: x.mbps / y.mbps,
          detail: `${(x.mbps / y.mbps).toFixed(2)}× (${x.mbps.toFixed(0)} vs ${y.mbps.toFixed(0)} MB/s)`,
        }
      : undefined;
  };
  const vsCeiling = ratio(server, LABELS.server.engine, LABELS.server.plain);
  const vsLib = ratio(sink, LABELS.sink.engine, LABELS.sink['lib-storage']);
  const engine = summarize(findRow(sink, LABELS.sink.engine));
  return [
    ...SERVER_RATIOS.map((least) => ({
      what: `engine ≥ ${least}× the ceiling to the local server`,
      pass: vsCeiling ? vsCeiling.ratio >= least : undefined,
      detail: vsCeiling?.detail ?? 'not measured',
    })),
    {
      what: `engine ≥ ${SINK_RATIO}× lib-storage to the sink`,
      pass: vsLib ? vsLib.ratio >= SINK_RATIO : undefined,
      detail: vsLib?.detail ?? 'not measured',
    },
    ...SINK_CPUS_PER_GIB.map((most) => ({
      what: `engine ≤ ${most} CPU-s/GiB to the sink`,
      pass: engine ? engine.cpuPerGiB <= most : undefined,
      detail: engine ? `${engine.cpuPerGiB.toFixed(2)} CPU-s/GiB` : 'not measured',
    })),
  ];
}

const SERVER_NOTES = [
  'Local S3 + STS server and broker in their own processes on 127.0.0.1; the server stores on this disk,',
  '`sync` before each upload; each object checked with HeadObject (size), then deleted.',
  'ceiling: one multipart upload, file ranges piped into node:http PUTs, no checksums, UNSIGNED-PAYLOAD.',
  'engine: the broker creates the upload (CreateMultipartUpload + AssumeRole), parts carry its default',
  'checksum (CRC32 in Node; --engine-checksum to change), the broker completes and verifies.',
  'lib-storage (its own defaults), AWS CLI, ceiling: the root credentials.',
  'server CPU = the S3 server process (all threads) during the upload.',
];
const SINK_NOTES = [
  'Sink: node:http in the benchmark process, S3 XML, no auth, bytes counted and dropped; every upload',
  'checked complete. server CPU = the benchmark process (sink + stub broker) during the upload.',
  '"integrity on the wire" = what the client sent with its parts, as the sink saw it.',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      size: { type: 'string' },
      runs: { type: 'string' },
      targets: { type: 'string' },
      clients: { type: 'string' },
      big: { type: 'boolean' },
      'big-size': { type: 'string' },
      'part-size': { type: 'string' },
      concurrency: { type: 'string' },
      'engine-checksum': { type: 'string' },
      'no-browser': { type: 'boolean' },
      profile: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    return;
  }
  requireNode24('bench:upload');
  const size = sizeOption(values.size, GiB, '--size');
  const runs = positiveInt(values.runs, 3, '--runs');
  const targets = parseList(values.targets, TARGETS, 'target');
  const clients = parseList(values.clients, CLIENTS, 'client');
  const bigSize = values.big ? sizeOption(values['big-size'], 8 * GiB, '--big-size') : undefined;
  const partSize = sizeOption(values['part-size'], 16 * MiB, '--part-size');
  if (partSize % MiB !== 0 || partSize < 5 * MiB)
    throw new Error('--part-size must be whole MiB, at least 5 MiB');
  const concurrency = positiveInt(values.concurrency, 4, '--concurrency');
  const engineChecksum =
    values['engine-checksum'] === undefined ? undefined : parseChecksumAlgorithm(values['engine-checksum']);
  if (values['engine-checksum'] !== undefined && engineChecksum === undefined)
    throw new Error('--engine-checksum must be CRC32, CRC32C, CRC64NVME, SHA1 or SHA256');
  const started = performance.now();

  const workDir = mkdtempSync(join(tmpdir(), 'hoist-bench-upload-'));
  resources.workDir = workDir;
  console.log(
    `Upload benchmark — Node ${process.versions.node}, ${availableParallelism()} CPUs, load average ${loadAverage()} ` +
      '(the machine is shared: compare rows within a table, not runs)',
  );
  const file = join(workDir, 'upload-bench.bin');
  const emptyFile = join(workDir, 'empty.bin');
  const generating = performance.now();
  writeRandomFile(file, size);
  writeRandomFile(emptyFile, 0);
  syncDisks();
  console.log(
    `${formatSize(size)} of random bytes in ${file} (written in ${((performance.now() - generating) / 1000).toFixed(1)} s; ` +
      `every client reads it from the page cache); ${formatSize(partSize)} parts, ${concurrency} in flight; ${runs} run(s)`,
  );

  let sinkWorld: SinkWorld | undefined;
  const setup: Setup = {
    file,
    emptyFile,
    size,
    partSize,
    concurrency,
    awsDir: join(workDir, 'aws'),
    tools: findExternalTools(),
    resources,
    engineChecksum,
    profileDir: values.profile === undefined ? undefined : resolve(values.profile),
    sinkWorld: async () => {
      sinkWorld ??= await startSinkWorld(partSize);
      return sinkWorld;
    },
  };
  mkdirSync(setup.awsDir);
  const external = new ExternalRunner(setup);
  const sections: Section[] = [];
  const budgets: Budget[] = [];
  const cases: Case[] = [];
  const addSection = (
    target: TargetName,
    title: string,
    notes: string[],
    measure: (client: ClientName) => Measure,
  ) => {
    const section: Section = {
      title,
      rows: [],
      ratioTo: LABELS[target][target === 'server' ? 'plain' : 'lib-storage'],
      notes,
    };
    sections.push(section);
    for (const client of clients) {
      if (target === 'server' && client === 'curl') continue;
      const row: Row = { client: LABELS[target][client], bytes: size, samples: [] };
      section.rows.push(row);
      const skip = client === 'aws-cli' || client === 'curl' ? externalSkip(setup.tools, client) : undefined;
      if (skip) row.note = skip;
      else cases.push({ target, client, row, measure: measure(client) });
    }
    return section;
  };

  let serverSection: Section | undefined;
  let idleRss: number | undefined;
  let sinkSection: Section | undefined;
  try {
    if (targets.includes('server')) {
      const world = await startServerWorld(resources, join(workDir, 'server'), partSize);
      serverSection = addSection(
        'server',
        `(a) ${formatSize(size)} to Hoist's local S3 server (the engine through the broker, sts mode) — ${runs} run(s), medians`,
        SERVER_NOTES,
        (client) => serverMeasure(setup, external, world, client),
      );
    }
    if (targets.includes('sink')) {
      const world = await setup.sinkWorld();
      sinkSection = addSection(
        'sink',
        `(b) ${formatSize(size)} to an S3-shaped sink that drops the bytes (stub broker for the engine) — ${runs} run(s), medians`,
        SINK_NOTES,
        (client) => sinkMeasure(setup, external, world, client),
      );
    }
    await runCases(cases, runs);
    idleRss = await idleRssMiB(setup);

    const engineToSink = findRow(sinkSection, LABELS.sink.engine);
    if (bigSize !== undefined) {
      const { section, budget } = await bigSection(setup, workDir, bigSize, engineToSink);
      sections.push(section);
      budgets.push(budget);
    } else
      budgets.push({
        what: 'engine peak RSS independent of file size',
        pass: undefined,
        detail: 'run with --big',
      });

    const context: UploadBenchContext = {
      file,
      size,
      runs,
      partSize,
      concurrency,
      workDir,
      resources,
      sinkWorld: setup.sinkWorld,
      engineToSink,
    };
    for (const extension of values['no-browser'] ? [] : EXTENSIONS) {
      try {
        const out = await extension.run(context);
        sections.push(...out.sections);
        budgets.push(...out.budgets);
      } catch (error) {
        budgets.push({ what: extension.name, pass: false, detail: `FAILED: ${(error as Error).message}` });
      }
    }
  } finally {
    await sinkWorld?.close();
    await resources.stopChildren();
    resources.removeWorkDir();
  }

  // ── report ──
  const startups = external.medians();
  console.log(
    '\nMB/s = file bytes ÷ wall time of the upload (10^6 B/s). Node clients time themselves from just before the\n' +
      'upload (process start and module loading excluded). AWS CLI and curl: wall time and CPU of the process\n' +
      'minus their startup (a 0-byte upload to the sink just before; medians' +
      (startups.length ? `: ${startups.join('; ')}).` : ').') +
      '\nCPU s/GiB = CPU seconds (user + system, all threads) of the uploading process per GiB. Peak RSS = the\n' +
      "process's high-water mark (the highest of the runs)" +
      (idleRss === undefined
        ? '.'
        : `; a Node client process that uploads nothing peaks at ${idleRss.toFixed(0)} MiB.`),
  );
  for (const section of sections) console.log(`\n${renderSection(section)}`);
  console.log(`\n${renderBudgets([...mainBudgets(serverSection, sinkSection), ...budgets])}`);
  const failed = sections.flatMap((s) => s.rows).filter((row) => row.note?.startsWith('FAILED'));
  if (failed.length) {
    process.exitCode = 1;
    console.log(`\n${failed.length} client(s) FAILED: their rows measure nothing.`);
  }
  if (setup.profileDir) printProfiles(setup.profileDir, started);
  console.log(
    `total ${((performance.now() - started) / 1000).toFixed(0)} s, load average now ${loadAverage()}`,
  );
}

try {
  await main();
} catch (error) {
  process.stderr.write(`bench:upload failed: ${(error as Error)?.stack ?? String(error)}\n`);
  await resources.stopChildren(2_000);
  resources.removeWorkDir();
  process.exitCode = 1;
}
