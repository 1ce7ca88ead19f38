/**
 * `hoist aws doctor`: checks a live deployment and says how to fix what is wrong. Reads go
 * through the operator's clients (bucket CORS and lifecycle, the role's trust and policies);
 * the live check goes through the broker's own clients, as the broker calls: it mints
 * credentials for a test key with the real session policy, then uploads a part and a small
 * object with them, and makes sure they cannot read or list. Everything it creates is removed.
 * Each job is its own module: doctor-store.ts, doctor-role.ts, doctor-capabilities.ts,
 * doctor-live.ts and doctor-presign.ts.
 */
import type { StoreCapabilities } from '@hoist/broker';
import type { DoctorFinding, DoctorOptions } from './doctor-findings.ts';
import { checkLive } from './doctor-live.ts';
import { checkRole } from './doctor-role.ts';
import { checkBucket, checkCors, checkLifecycle } from './doctor-store.ts';

export { type DoctorFinding, type DoctorOptions, formatFindings } from './doctor-findings.ts';

export async function runDoctor(options: DoctorOptions): Promise<DoctorFinding[]> {
  const findings: DoctorFinding[] = [];
  const add = (finding: DoctorFinding) => findings.push(finding);
  const reachable = await checkBucket(options, add);
  if (reachable) {
    await checkCors(options, add);
    await checkLifecycle(options, add);
  }
  await checkRole(options, add);
  // Before the live check: it uploads the way the store's capabilities make the broker upload.
  let caps: StoreCapabilities | undefined;
  if (options.capabilities && reachable) {
    const found = await options.capabilities({ deployment: options.deployment, broker: options.broker });
    for (const finding of found.findings) add(finding);
    caps = found.caps;
  }
  if (!options.skipLive && reachable) await checkLive(options, caps, add);
  return findings;
}
