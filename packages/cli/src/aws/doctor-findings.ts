/** What `hoist aws doctor` reports, its options, and how findings are printed. */
import { type AwsClients, deleteObject, type StoreCapabilities } from '@hoist/broker';
import { type AdminClients, awsError, type Deployment } from './context.ts';

export interface DoctorFinding {
  level: 'ok' | 'warning' | 'error';
  /** Which check: `bucket`, `cors`, `lifecycle`, `trust`, `role-policy`, `live`. */
  check: string;
  message: string;
  /** What to run or change (errors and warnings). */
  fix?: string;
}

export interface DoctorOptions {
  deployment: Deployment;
  admin: AdminClients;
  broker: AwsClients;
  /** Web app origins that must be allowed by the bucket's CORS. */
  origins: readonly string[];
  /** The broker's role or user ARN; found with GetCallerIdentity on the broker's credentials when absent. */
  principal?: string | undefined;
  /** Skip the live upload check. */
  skipLive?: boolean;
  /** For the test key's unique part. @default Date.now */
  now?: () => number;
  /**
   * The store's capabilities (flexible checksums, conditional writes, GetFederationToken) as
   * findings, and what they are (the live check then uploads as the broker will there):
   * `hoist aws doctor` passes the broker's own probe (doctor-capabilities.ts).
   */
  capabilities?: (options: {
    deployment: Deployment;
    broker: AwsClients;
  }) => Promise<{ findings: DoctorFinding[]; caps?: StoreCapabilities | undefined }>;
}

export type Add = (finding: DoctorFinding) => void;

/**
 * `read()`'s answer, or undefined once an error finding says what could not be read (with the
 * AWS error's name) and how to fix it.
 */
export async function readOrReport<T>(
  add: Add,
  finding: { check: string; what: string; fix: string | ((error: unknown) => string) },
  read: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await read();
  } catch (error) {
    add({
      level: 'error',
      check: finding.check,
      message: `cannot ${finding.what} (${awsError(error).name})`,
      fix: typeof finding.fix === 'function' ? finding.fix(error) : finding.fix,
    });
    return undefined;
  }
}

export function formatFindings(findings: readonly DoctorFinding[]): string {
  const mark = { ok: 'ok   ', warning: 'WARN ', error: 'ERROR' } as const;
  const lines = findings.map(
    (f) =>
      `${mark[f.level]} ${f.check.padEnd(11)} ${f.message}${f.fix ? `\n${' '.repeat(18)}fix: ${f.fix}` : ''}`,
  );
  const errors = findings.filter((f) => f.level === 'error').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  lines.push(
    errors === 0
      ? `All checks passed${warnings ? ` (${warnings} warning(s))` : ''}.`
      : `${errors} error(s), ${warnings} warning(s).`,
  );
  return `${lines.join('\n')}\n`;
}

/** Deletes the object a live check wrote; one that stays is a warning saying how to remove it. */
export async function removeTestObject(
  broker: AwsClients,
  bucket: string,
  key: string,
  add: Add,
): Promise<void> {
  await deleteObject(broker.s3, { bucket, key }).catch((error: unknown) => {
    add({
      level: 'warning',
      check: 'live',
      message: `could not delete the test object ${key} (${awsError(error).name})`,
      fix: `delete it: aws s3 rm s3://${bucket}/${key}`,
    });
  });
}
