/**
 * `hoist aws doctor`'s capability check: the broker's own store probe (store-probe.ts), run in
 * every mode, as findings — what the store can do, how uploads will be verified there, and
 * whether the configured mode can keep its no-overwrite promise. The same decision the broker
 * makes at start (capabilities.ts), so doctor and broker never disagree.
 */
import type { AwsClients } from '@hoist/broker';
import {
  CAPABILITY_NAMES,
  type CapabilityName,
  integrityFor,
  type ResolvedCapabilities,
  resolveCapabilities,
  type StoreCapabilities,
  storeProbe,
} from '@hoist/broker';
import type { Deployment } from './context.ts';
import type { DoctorFinding } from './doctor.ts';

const MEANING: Record<CapabilityName, { present: string; absent: string }> = {
  flexibleChecksums: {
    present: 'the store verifies and keeps x-amz-checksum-* checksums',
    absent: 'the store keeps no flexible checksums: uploads are verified by Content-MD5 and the ETag chain',
  },
  ifNoneMatchOnPut: {
    present: 'If-None-Match: * refuses a PutObject over an existing object',
    absent: 'the store ignores If-None-Match on PutObject',
  },
  ifNoneMatchOnComplete: {
    present: 'If-None-Match: * refuses a CompleteMultipartUpload over an existing object',
    absent:
      'the store ignores If-None-Match on CompleteMultipartUpload (the broker checks the key is free first)',
  },
  conditionalWriteKeys: {
    present: 'session policies can demand If-None-Match (s3:if-none-match, s3:ObjectCreationOperation)',
    absent:
      'session policies cannot demand If-None-Match: upload credentials could overwrite finished objects',
  },
  federationToken: {
    present: 'STS answers GetFederationToken',
    absent: 'STS has no GetFederationToken',
  },
};

/** Probes the store with the broker's clients, as the broker would at start in this mode. */
export async function capabilityFindings(options: {
  deployment: Deployment;
  broker: AwsClients;
}): Promise<{ findings: DoctorFinding[]; caps?: StoreCapabilities }> {
  const { config } = options.deployment;
  let resolved: ResolvedCapabilities;
  try {
    resolved = await resolveCapabilities(config.mode, config.store, storeProbe(config, options.broker));
  } catch (error) {
    return {
      findings: [
        {
          level: 'error',
          check: 'capability',
          message: (error as Error).message,
          fix: 'the broker runs the same probe at start: grant its identity the bucket actions `hoist aws policy --broker` lists, or pin the store.* capabilities in the config',
        },
      ],
    };
  }
  const { caps, source, warnings, refusal } = resolved;
  const findings: DoctorFinding[] = [];
  for (const name of CAPABILITY_NAMES) {
    if (source[name] === 'not needed') continue;
    findings.push({
      level: caps[name] ? 'ok' : 'warning',
      check: 'capability',
      message: `${name} (${source[name]}): ${caps[name] ? MEANING[name].present : MEANING[name].absent}`,
    });
  }
  findings.push({
    level: 'ok',
    check: 'integrity',
    message:
      integrityFor(caps) === 'checksum'
        ? 'uploads are verified by flexible checksums'
        : 'uploads are verified by Content-MD5 on every request and the ETag chain at completion',
  });
  for (const warning of warnings) findings.push({ level: 'warning', check: 'mode', message: warning });
  if (refusal)
    findings.push({
      level: 'error',
      check: 'mode',
      message: `${refusal.message} (missing: ${refusal.missing.join(', ')})`,
      fix: 'HOIST_MODE=presign, or accept the risk with HOIST_STORE_ACCEPT_OVERWRITE_RISK=true',
    });
  else if (warnings.length === 0)
    findings.push({ level: 'ok', check: 'mode', message: `${config.mode} mode can run on this store` });
  return { findings, caps };
}
