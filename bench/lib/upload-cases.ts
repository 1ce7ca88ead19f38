/**
 * How the upload benchmark measures one upload of each client against each target: which
 * process runs, what is timed, and how the result is checked (stored size at the server,
 * byte count at the sink) before it counts.
 *
 * Node clients time themselves from just before the upload. The AWS CLI and curl are timed
 * from outside, so their startup (a 0-byte upload to the sink just before) is subtracted from
 * their wall time and CPU.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ChecksumAlgorithm } from '@hoist/protocol';
import { median } from './cli.ts';
import { cpuTimes } from './proc.ts';
import type { BenchResources } from './resources.ts';
import type { ClientJob, ClientResult, NodeClient } from './upload-client-child.ts';
import {
  awsCliEnv,
  awsCpArgs,
  curlPutArgs,
  type ExternalRun,
  type ExternalTools,
  runExternal,
} from './upload-external.ts';
import type { Row, Sample } from './upload-report.ts';
import { SINK_BUCKET } from './upload-sink.ts';
import {
  deleteStored,
  runNodeClient,
  type ServerWorld,
  SINK_CREDENTIALS,
  type SinkWorld,
  storedSize,
} from './upload-world.ts';

export const CLIENTS = ['plain', 'engine', 'lib-storage', 'aws-cli', 'curl'] as const;
export type ClientName = (typeof CLIENTS)[number];
type ExternalClient = 'aws-cli' | 'curl';

/** A client that cannot run here (not installed, engine not built): a note, not a failure. */
export class Unavailable extends Error {
  override name = 'Unavailable';
}

export interface Setup {
  file: string;
  /** A 0-byte file, for the external tools' startup. */
  emptyFile: string;
  size: number;
  partSize: number;
  concurrency: number;
  /** HOME and config files of the AWS CLI. */
  awsDir: string;
  tools: ExternalTools;
  resources: BenchResources;
  sinkWorld(): Promise<SinkWorld>;
  /** The engine's checksum algorithm; undefined: its default. */
  engineChecksum: ChecksumAlgorithm | undefined;
  /** Run the engine's processes with --cpu-prof into `<profileDir>/<target>`. */
  profileDir: string | undefined;
}

/** V8 options of a Node client's process: a CPU profile of the engine when asked for. */
export function clientExecArgv(setup: Setup, client: NodeClient, target: string): string[] {
  if (client !== 'engine' || setup.profileDir === undefined) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${join(setup.profileDir, target)}`];
}

/** Measures one upload (run number from 1) and checks it; throws when it failed. */
export type Measure = (run: number, row: Row) => Promise<Sample>;

export interface Startup {
  wall: number;
  cpu: number;
}

/** Writeback of one upload's bytes must not land in the next one's time. */
export const syncDisks = (): void => void spawnSync('sync');

export const timeoutMs = (bytes: number): number => 60_000 + (bytes / 5e6) * 1000;

/** A client process's result as a sample; throws what went wrong. */
export function sampleOf(result: ClientResult): Sample & { key: string } {
  if (result.unavailable) throw new Unavailable(result.unavailable);
  if (result.error) throw new Error(result.error);
  const { seconds, cpuSeconds, peakRssMiB, key } = result;
  if (seconds === undefined || cpuSeconds === undefined || peakRssMiB === undefined || !key)
    throw new Error(`incomplete result ${JSON.stringify(result)}`);
  return { seconds, cpuSeconds, peakRssMiB, key };
}

function checkExternal(run: ExternalRun, what: string): ExternalRun {
  if (run.code !== 0)
    throw new Error(`${what} exited ${run.code}: ${run.stderr.trim().split('\n').slice(-3).join(' / ')}`);
  return run;
}

export function externalSkip(tools: ExternalTools, client: ExternalClient): string | undefined {
  if (!(client === 'aws-cli' ? tools.aws : tools.curl))
    return `skipped: ${client === 'aws-cli' ? 'aws' : 'curl'} is not installed`;
  if (!tools.python) return 'skipped: python3 (PATH or HOIST_PYTHON) is needed to measure it';
  return undefined;
}

/**
 * Runs the external tools. Their startup is measured right before each upload (a 0-byte upload
 * to the sink, under the same machine load), after one unrecorded warm-up per tool.
 */
export class ExternalRunner {
  /** Every startup measured, per tool (for the report). */
  readonly startups = new Map<ExternalClient, Startup[]>();
  readonly #setup: Setup;

  constructor(setup: Setup) {
    this.#setup = setup;
  }

  env(client: ExternalClient, credentials: ServerWorld['credentials']): Record<string, string> {
    const { awsDir, partSize, concurrency } = this.#setup;
    return client === 'aws-cli'
      ? awsCliEnv(awsDir, credentials, partSize, concurrency)
      : { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  }

  argv(client: ExternalClient, file: string, endpoint: string, bucket: string, key: string): string[] {
    const { tools } = this.#setup;
    return client === 'aws-cli'
      ? awsCpArgs(tools.aws!, file, endpoint, bucket, key)
      : curlPutArgs(tools.curl!, file, `${endpoint}/${bucket}/${key}`);
  }

  async run(argv: string[], env: Record<string, string>, bytes: number, what: string): Promise<ExternalRun> {
    const { resources, tools } = this.#setup;
    return checkExternal(await runExternal(resources, tools.python!, argv, env, timeoutMs(bytes)), what);
  }

  /** Wall and CPU seconds of a 0-byte upload with the tool, to the sink. */
  async startup(client: ExternalClient): Promise<Startup> {
    const world = await this.#setup.sinkWorld();
    const once = async (): Promise<Startup> => {
      const argv = this.argv(client, this.#setup.emptyFile, world.sink.url, SINK_BUCKET, 'startup');
      const ran = await this.run(argv, this.env(client, SINK_CREDENTIALS), 0, `${client} (0 bytes)`);
      world.sink.clear();
      return { wall: ran.wall, cpu: ran.cpu };
    };
    if (!this.startups.has(client)) await once(); // cold caches: not representative
    const startup = await once();
    this.startups.set(client, [...(this.startups.get(client) ?? []), startup]);
    return startup;
  }

  /** The upload's figures without the tool's startup. */
  sample(ran: ExternalRun, startup: Startup): Sample {
    return {
      seconds: Math.max(1e-3, ran.wall - startup.wall),
      cpuSeconds: Math.max(0, ran.cpu - startup.cpu),
      peakRssMiB: ran.peakRssMiB,
    };
  }

  /** Median startup per tool, for the report. */
  medians(): string[] {
    return [...this.startups].map(
      ([client, list]) =>
        `${client} ${median(list.map((s) => s.wall)).toFixed(2)} s, ${median(list.map((s) => s.cpu)).toFixed(2)} CPU-s`,
    );
  }
}

function nodeJob(
  setup: Setup,
  client: NodeClient,
): Pick<ClientJob, 'client' | 'file' | 'size' | 'partSize' | 'concurrency' | 'checksumAlgorithm'> {
  return {
    client,
    file: setup.file,
    size: setup.size,
    partSize: setup.partSize,
    concurrency: setup.concurrency,
    ...(client === 'engine' && setup.engineChecksum ? { checksumAlgorithm: setup.engineChecksum } : {}),
  };
}

/** (a) Hoist's local S3 server: the object's stored size is checked, then it is deleted. */
export function serverMeasure(
  setup: Setup,
  external: ExternalRunner,
  world: ServerWorld,
  client: ClientName,
): Measure {
  const stored = async (key: string): Promise<void> => {
    const bytes = await storedSize(world, key);
    await deleteStored(world, key);
    if (bytes !== setup.size) throw new Error(`the server stored ${bytes} bytes, expected ${setup.size}`);
  };
  const serverCpu = (): number => cpuTimes(world.s3.pid).total;
  if (client === 'aws-cli' || client === 'curl') {
    return async (run) => {
      const key = `bench/${client}-${run}`;
      const startup = await external.startup(client);
      const argv = external.argv(client, setup.file, world.s3.url, world.bucket, key);
      syncDisks();
      const before = serverCpu();
      const ran = await external.run(argv, external.env(client, world.credentials), setup.size, client);
      const serverCpuSeconds = serverCpu() - before;
      await stored(key);
      return { ...external.sample(ran, startup), serverCpuSeconds };
    };
  }
  return async (run) => {
    const job: ClientJob =
      client === 'engine'
        ? { ...nodeJob(setup, client), brokerUrl: world.broker.url, token: world.token }
        : {
            ...nodeJob(setup, client),
            endpoint: world.s3.url,
            bucket: world.bucket,
            key: `bench/${client}-${run}`,
            credentials: world.credentials,
          };
    syncDisks();
    const before = serverCpu();
    const sample = sampleOf(
      await runNodeClient(
        setup.resources,
        job,
        timeoutMs(setup.size),
        clientExecArgv(setup, client, 'server'),
      ),
    );
    const serverCpuSeconds = serverCpu() - before;
    await stored(sample.key);
    return {
      seconds: sample.seconds,
      cpuSeconds: sample.cpuSeconds,
      peakRssMiB: sample.peakRssMiB,
      serverCpuSeconds,
    };
  };
}

/**
 * (b) The sink: the object must have arrived whole; the row records what protected it on the
 * wire. The sink runs in this process, so this process's CPU time is the sink's.
 */
export function sinkMeasure(
  setup: Setup,
  external: ExternalRunner,
  world: SinkWorld,
  client: ClientName,
): Measure {
  const received = (row: Row, key: string): void => {
    const object = world.sink.object(key);
    world.sink.clear();
    if (object?.bytes !== setup.size)
      throw new Error(`the sink got ${object?.bytes ?? 'no'} bytes, expected ${setup.size}`);
    row.integrity = object.integrity.join(', ') || 'none';
  };
  const sinkCpu = (before: NodeJS.CpuUsage): number => {
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1e6;
  };
  if (client === 'aws-cli' || client === 'curl') {
    return async (run, row) => {
      const key = `bench-${client}-${run}`;
      const startup = await external.startup(client);
      const argv = external.argv(client, setup.file, world.sink.url, SINK_BUCKET, key);
      const before = process.cpuUsage();
      const ran = await external.run(argv, external.env(client, SINK_CREDENTIALS), setup.size, client);
      const serverCpuSeconds = sinkCpu(before);
      received(row, key);
      return { ...external.sample(ran, startup), serverCpuSeconds };
    };
  }
  return async (run, row) => {
    const job: ClientJob =
      client === 'engine'
        ? { ...nodeJob(setup, client), brokerUrl: world.broker.url, token: world.broker.token }
        : {
            ...nodeJob(setup, client),
            endpoint: world.sink.url,
            bucket: SINK_BUCKET,
            key: `bench-${client}-${run}`,
            credentials: SINK_CREDENTIALS,
          };
    const before = process.cpuUsage();
    const sample = sampleOf(
      await runNodeClient(setup.resources, job, timeoutMs(setup.size), clientExecArgv(setup, client, 'sink')),
    );
    const serverCpuSeconds = sinkCpu(before);
    received(row, sample.key);
    return {
      seconds: sample.seconds,
      cpuSeconds: sample.cpuSeconds,
      peakRssMiB: sample.peakRssMiB,
      serverCpuSeconds,
    };
  };
}

/** Peak RSS of a Node client process that uploads nothing (the floor under every Node row). */
export async function idleRssMiB(setup: Setup): Promise<number | undefined> {
  try {
    const result = await runNodeClient(
      setup.resources,
      { client: 'idle', file: setup.emptyFile, size: 0, partSize: setup.partSize, concurrency: 1 },
      60_000,
    );
    return result.peakRssMiB;
  } catch {
    return undefined;
  }
}
