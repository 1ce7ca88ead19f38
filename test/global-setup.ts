/**
 * `npm test`'s global setup: one throwaway Ceph RGW cluster for the whole run (the real
 * third-party S3 + STS store the e2e suites also run against), handed to every test file
 * in HOIST_RGW and stopped when the run ends. Where Ceph is not installed the RGW tests skip
 * with the reason (and CI, which must install it, fails): see test/helpers/rgw.ts.
 * Also a directory (HOIST_CONSUMER_PACKS) where the consumer tests pack the workspaces once
 * for the run (test/consumer/helpers.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RgwCluster, rgwUnavailable, startRgw } from './helpers/rgw.ts';

let cluster: RgwCluster | undefined;
let packs: string | undefined;

export async function globalSetup(): Promise<void> {
  if (!process.env.HOIST_CONSUMER_PACKS) {
    packs = await mkdtemp(join(tmpdir(), 'hoist-consumer-packs-'));
    process.env.HOIST_CONSUMER_PACKS = packs;
  }
  if (process.env.HOIST_RGW) return; // an outer run already shares one
  const unavailable = rgwUnavailable();
  if (unavailable) {
    process.stderr.write(`global setup: no shared Ceph RGW: ${unavailable}\n`);
    return;
  }
  const started = Date.now();
  cluster = await startRgw();
  const { stop: _stop, ...endpoint } = cluster;
  process.env.HOIST_RGW = JSON.stringify(endpoint);
  process.stderr.write(
    `global setup: Ceph RGW at ${cluster.endpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
}

export async function globalTeardown(): Promise<void> {
  await cluster?.stop();
  cluster = undefined;
  if (packs) await rm(packs, { recursive: true, force: true });
  packs = undefined;
}
