/**
 * `hoist aws doctor`: checks a live deployment and says how to fix what is wrong. Reads go
 * through the operator's clients (bucket CORS and lifecycle, the role's trust and policies);
 * the live check goes through the broker's own clients, as the broker calls: it mints
 * credentials for a test key with the real session policy, then uploads a part and a small
 * object with them, and makes sure they cannot read or list. Everything it creates is removed.
 */
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import {
  type AwsClients,
  buildSessionPolicy,
  deleteObject,
  describeStoreError,
  isUnsupportedOperation,
  mintCredentials,
  publicEndpoint,
  remedyFor,
  storeAnswer,
  storeRequestHandler,
} from '@hoist/broker';
import type { UploadIntegrity } from '@hoist/protocol';
import {
  type AdminClients,
  awsError,
  type Deployment,
  decodePolicyDocument,
  isNoSuchEntity,
} from './context.ts';
import { EXPOSED_HEADERS } from './cors.ts';
import { checkPresignLive } from './doctor-presign.ts';
import { checkUploadRolePolicy } from './policies.ts';
import { brokerPrincipalArn, checkTrustPolicy } from './trust.ts';

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
   * findings, and how uploads are verified there (which the live check then follows):
   * `hoist aws doctor` passes the broker's own probe (doctor-capabilities.ts).
   */
  capabilities?: (options: {
    deployment: Deployment;
    broker: AwsClients;
  }) => Promise<{ findings: DoctorFinding[]; integrity?: UploadIntegrity }>;
}

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
  let integrity: UploadIntegrity = 'checksum';
  if (options.capabilities && reachable) {
    const found = await options.capabilities({ deployment: options.deployment, broker: options.broker });
    for (const finding of found.findings) add(finding);
    integrity = found.integrity ?? integrity;
  }
  if (!options.skipLive && reachable) await checkLive(options, integrity, add);
  return findings;
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

type Add = (finding: DoctorFinding) => void;

/**
 * `read()`'s answer, or undefined once an error finding says what could not be read (with the
 * AWS error's name) and how to fix it.
 */
async function readOrReport<T>(
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

async function checkBucket({ deployment, broker }: DoctorOptions, add: Add): Promise<boolean> {
  try {
    await broker.s3.send(new HeadBucketCommand({ Bucket: deployment.bucket }));
    add({
      level: 'ok',
      check: 'bucket',
      message: `${deployment.bucket} is reachable with the broker's credentials`,
    });
    return true;
  } catch (error) {
    const { name, status } = awsError(error);
    add({
      level: 'error',
      check: 'bucket',
      message: `${deployment.bucket} is not reachable with the broker's credentials (${name}${status ? ` ${status}` : ''})`,
      fix:
        status === 404
          ? 'create it: hoist aws setup (or deploy the template), or fix s3.bucket / s3.region'
          : 'give the broker s3:ListBucket on the bucket: hoist aws policy --broker',
    });
    return false;
  }
}

async function checkCors({ deployment, admin, origins }: DoctorOptions, add: Add): Promise<void> {
  const fix = `hoist aws setup --origin ${origins[0] ?? 'https://app.example.com'} (or: hoist aws cors --origin … > cors.json; aws s3api put-bucket-cors --bucket ${deployment.bucket} --cors-configuration file://cors.json)`;
  const read = await readOrReport(
    add,
    {
      check: 'cors',
      what: "read the bucket's CORS",
      fix: 'run doctor with credentials allowed s3:GetBucketCORS',
    },
    async () => (await readCors(admin, deployment.bucket)) ?? [],
  );
  if (!read) return;
  const rules = read;
  if (rules.length === 0) {
    add({
      level: 'error',
      check: 'cors',
      message: 'the bucket has no CORS rules: browsers cannot upload',
      fix,
    });
    return;
  }
  const anyOrigin = deployment.config.cors.allowAnyOrigin;
  for (const rule of rules) {
    if (rule.AllowedOrigins?.some((o) => o.includes('*')) && !anyOrigin)
      add({
        level: 'error',
        check: 'cors',
        message: `CORS rule ${rule.ID ?? '(no ID)'} allows a wildcard origin (${rule.AllowedOrigins.join(', ')})`,
        fix: `list the web app's origins instead: ${fix}`,
      });
  }
  if (origins.length === 0) {
    add({
      level: 'warning',
      check: 'cors',
      message: 'no origin to check (pass --origin or set cors.origins)',
    });
  }
  for (const origin of origins) {
    const rule = rules.find(
      (r) => r.AllowedOrigins?.some((o) => wildcard(o, origin)) && r.AllowedMethods?.includes('PUT'),
    );
    if (!rule) {
      add({ level: 'error', check: 'cors', message: `no CORS rule allows PUT from ${origin}`, fix });
      continue;
    }
    const exposed = new Set((rule.ExposeHeaders ?? []).map((h) => h.toLowerCase()));
    if (!exposed.has('etag')) {
      add({
        level: 'error',
        check: 'cors',
        message: `the CORS rule for ${origin} does not expose ETag (needed to complete uploads)`,
        fix,
      });
      continue;
    }
    const missing = EXPOSED_HEADERS.filter((h) => h.startsWith('x-amz-checksum-') && !exposed.has(h));
    if (missing.length > 0)
      add({
        level: 'warning',
        check: 'cors',
        message: `the CORS rule for ${origin} does not expose ${missing.join(', ')}`,
        fix,
      });
    else
      add({ level: 'ok', check: 'cors', message: `${origin} may upload (PUT) and read ETag and checksums` });
  }
}

async function readCors(admin: AdminClients, bucket: string) {
  try {
    return (await admin.s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules;
  } catch (error) {
    if (awsError(error).name === 'NoSuchCORSConfiguration') return [];
    throw error;
  }
}

function wildcard(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === value;
  return value.startsWith(pattern.slice(0, star)) && value.endsWith(pattern.slice(star + 1));
}

async function checkLifecycle({ deployment, admin }: DoctorOptions, add: Add): Promise<void> {
  const fix = `hoist aws setup (or: hoist aws lifecycle > lifecycle.json; aws s3api put-bucket-lifecycle-configuration --bucket ${deployment.bucket} --lifecycle-configuration file://lifecycle.json)`;
  const rules = await readOrReport(
    add,
    {
      check: 'lifecycle',
      what: "read the bucket's lifecycle",
      fix: 'run doctor with credentials allowed s3:GetLifecycleConfiguration',
    },
    () => readLifecycle(admin, deployment.bucket),
  );
  if (!rules) return;
  const keyPrefix = `${deployment.prefix}/`;
  const rule = rules.find((r) => {
    if (r.Status !== 'Enabled' || !r.AbortIncompleteMultipartUpload?.DaysAfterInitiation) return false;
    const filter = r.Filter;
    const prefix = filter?.And ? filter.And.Prefix : (filter?.Prefix ?? r.Prefix);
    const narrowed =
      filter?.Tag ||
      filter?.And?.Tags?.length ||
      filter?.ObjectSizeGreaterThan ||
      filter?.And?.ObjectSizeGreaterThan;
    return !narrowed && keyPrefix.startsWith(prefix ?? '');
  });
  if (!rule) {
    add({
      level: 'error',
      check: 'lifecycle',
      message: `no enabled rule aborts incomplete multipart uploads under ${keyPrefix}: abandoned parts are billed forever`,
      fix,
    });
    return;
  }
  add({
    level: 'ok',
    check: 'lifecycle',
    message: `incomplete uploads under ${keyPrefix} are aborted after ${rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation} day(s) (rule ${rule.ID ?? '(no ID)'})`,
  });
}

async function readLifecycle(admin: AdminClients, bucket: string) {
  try {
    return (await admin.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (error) {
    if (awsError(error).name === 'NoSuchLifecycleConfiguration') return [];
    throw error;
  }
}

/** The broker's principal: given, or the identity behind its credentials. */
async function brokerPrincipal(options: DoctorOptions): Promise<string | undefined> {
  if (options.principal) return brokerPrincipalArn(options.principal);
  try {
    const out = await options.broker.sts.send(new GetCallerIdentityCommand({}));
    return out.Arn ? brokerPrincipalArn(out.Arn) : undefined;
  } catch {
    return undefined;
  }
}

async function checkRole(options: DoctorOptions, add: Add): Promise<void> {
  const { deployment, admin } = options;
  const role = deployment.role;
  if (!role) {
    add({ level: 'ok', check: 'role', message: `mode ${deployment.config.mode}: no upload role to check` });
    return;
  }
  const found = await readOrReport(
    add,
    {
      check: 'role',
      what: `read role ${role.name}`,
      fix: (error) =>
        isNoSuchEntity(error)
          ? 'create it: hoist aws setup --principal BROKER_ARN'
          : 'run doctor with iam:GetRole',
    },
    async () => {
      const out = await admin.iam.send(new GetRoleCommand({ RoleName: role.name }));
      return {
        trust: decodePolicyDocument(out.Role?.AssumeRolePolicyDocument),
        maxSession: out.Role?.MaxSessionDuration ?? 3600,
      };
    },
  );
  if (!found) return;
  const { trust, maxSession } = found;
  const principal = await brokerPrincipal(options);
  if (!principal) {
    add({
      level: 'warning',
      check: 'trust',
      message: "the broker's identity is unknown: pass --principal to check the trust policy",
    });
  } else {
    const problems = checkTrustPolicy(trust as object, {
      principal,
      roleArn: role.arn,
      externalId: deployment.config.sts.externalId,
    });
    for (const p of problems)
      add({
        level: p.level,
        check: 'trust',
        message: p.message,
        fix: `hoist aws setup --principal ${principal} (or: hoist aws trust --principal ${principal})`,
      });
    if (problems.length === 0)
      add({ level: 'ok', check: 'trust', message: `${principal} may assume ${role.name}` });
    const duration = deployment.config.sts.durationSeconds;
    if (duration > maxSession)
      add({
        level: 'error',
        check: 'trust',
        message: `sts.durationSeconds ${duration} exceeds the role's MaxSessionDuration ${maxSession}`,
        fix: "lower sts.durationSeconds or raise the role's MaxSessionDuration",
      });
    else if (principal.includes(':role/') && duration > 3600)
      add({
        level: 'error',
        check: 'trust',
        message: `the broker is a role: role chaining caps sessions at 3600 s, sts.durationSeconds is ${duration}`,
        fix: 'set sts.durationSeconds to 3600 or less (the engine refreshes credentials)',
      });
  }
  await checkRolePolicies(options, add);
}

async function checkRolePolicies({ deployment, admin }: DoctorOptions, add: Add): Promise<void> {
  const role = deployment.role!;
  const fix = `hoist aws setup (or: hoist aws policy > role-policy.json; aws iam put-role-policy --role-name ${role.name} --policy-name hoist-upload --policy-document file://role-policy.json, and remove the other policies)`;
  const listed = await readOrReport(
    add,
    {
      check: 'role-policy',
      what: "list the role's policies",
      fix: 'run doctor with iam:ListRolePolicies and iam:ListAttachedRolePolicies',
    },
    async () => ({
      names: (await admin.iam.send(new ListRolePoliciesCommand({ RoleName: role.name }))).PolicyNames ?? [],
      attached: (
        (await admin.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.name })))
          .AttachedPolicies ?? []
      ).map((p) => p.PolicyArn ?? p.PolicyName ?? '?'),
    }),
  );
  if (!listed) return;
  const { names, attached } = listed;
  if (attached.length > 0)
    add({
      level: 'error',
      check: 'role-policy',
      message: `managed policies are attached to ${role.name} (${attached.join(', ')}): the upload role should hold only its inline policy`,
      fix: `aws iam detach-role-policy --role-name ${role.name} --policy-arn …`,
    });
  const documents: unknown[] = [];
  for (const name of names) {
    const out = await admin.iam.send(new GetRolePolicyCommand({ RoleName: role.name, PolicyName: name }));
    documents.push(decodePolicyDocument(out.PolicyDocument));
  }
  const problems = checkUploadRolePolicy(documents as object[], deployment);
  for (const p of problems) add({ level: p.level, check: 'role-policy', message: p.message, fix });
  if (problems.every((p) => p.level !== 'error') && attached.length === 0)
    add({
      level: 'ok',
      check: 'role-policy',
      message: `${role.name} allows multipart uploads on ${deployment.bucket}/${deployment.prefix}/* and nothing broader`,
    });
}

async function checkLive(options: DoctorOptions, integrity: UploadIntegrity, add: Add): Promise<void> {
  const { deployment, broker } = options;
  const { config } = deployment;
  const now = (options.now ?? Date.now)();
  const id = `${now}-${Math.random().toString(36).slice(2, 8)}`;
  const key = `${deployment.prefix}/hoist-doctor/${id}/check.bin`;
  // Presign mode hands out no credentials: check the broker's own presigned upload instead.
  if (config.mode === 'presign') return checkPresignLive({ deployment, broker, key, now, integrity }, add);
  let credentials: Awaited<ReturnType<typeof mintCredentials>>;
  try {
    credentials = await mintCredentials(broker.sts, {
      mode: config.mode,
      policy: buildSessionPolicy({ bucket: deployment.bucket, key, partition: deployment.partition }),
      userId: 'hoist-doctor',
      id,
      durationSeconds: 900,
      roleArn: config.sts.roleArn,
      externalId: config.sts.externalId,
    });
  } catch (error) {
    const d = describeStoreError(error);
    // The store's own remedy first: a store without the operation needs another mode, not a policy.
    const remedy = remedyFor(config.mode === 'sts' ? 'AssumeRole' : 'GetFederationToken', d);
    add({
      level: 'error',
      check: 'live',
      message: `the broker cannot mint credentials (${d.code}: ${d.message || storeAnswer(d)})`,
      fix:
        remedy && (isUnsupportedOperation(d) || d.timeout)
          ? remedy
          : config.mode === 'sts'
            ? "check the role's trust and the broker's sts:AssumeRole permission: hoist aws setup --principal BROKER_ARN"
            : 'give the broker user sts:GetFederationToken: hoist aws policy --broker',
    });
    return;
  }
  const s3 = new S3Client({
    region: deployment.region,
    endpoint: publicEndpoint(config.s3),
    forcePathStyle: config.s3.forcePathStyle,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
    requestHandler: storeRequestHandler(config.upstream),
  });
  const bucket = deployment.bucket;
  const expect = async (what: string, allowed: boolean, call: () => Promise<unknown>) => {
    try {
      await call();
      if (allowed) return true;
      add({
        level: 'error',
        check: 'live',
        message: `the upload credentials can ${what}`,
        fix: "the role or the broker's policy is too broad: hoist aws setup",
      });
    } catch (error) {
      const { name, status } = awsError(error);
      if (!allowed && (status === 403 || name === 'AccessDenied')) return true;
      const finding: DoctorFinding = {
        level: 'error',
        check: 'live',
        message: allowed
          ? `the upload credentials cannot ${what} (${name}${status ? ` ${status}` : ''})`
          : `${what}: expected AccessDenied, got ${name}`,
      };
      if (allowed) finding.fix = "the role's policy is too narrow: hoist aws setup";
      add(finding);
    }
    return false;
  };
  let passed = true;
  let uploadId: string | undefined;
  try {
    passed &&= await expect('start a multipart upload on the test key', true, async () => {
      uploadId = (await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))).UploadId;
    });
    if (uploadId) {
      const upload = uploadId;
      passed &&= await expect('upload a part', true, () =>
        s3.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key: key,
            UploadId: upload,
            PartNumber: 1,
            Body: 'hoist doctor',
          }),
        ),
      );
    }
    passed &&= await expect('put the object with If-None-Match', true, () =>
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hoist doctor', IfNoneMatch: '*' })),
    );
    passed =
      (await expect('overwrite the object (PutObject without If-None-Match)', false, () =>
        s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'again' })),
      )) && passed;
    passed =
      (await expect('read the object (GetObject)', false, () =>
        s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
      )) && passed;
    passed =
      (await expect('list the bucket (ListObjectsV2)', false, () =>
        s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${deployment.prefix}/` })),
      )) && passed;
  } finally {
    if (uploadId) {
      const upload = uploadId;
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload }))
        .catch(() => {
          add({
            level: 'warning',
            check: 'live',
            message: `could not abort the test upload ${upload} on ${key}`,
          });
        });
    }
    await deleteObject(broker.s3, { bucket, key }).catch((error: unknown) => {
      add({
        level: 'warning',
        check: 'live',
        message: `could not delete the test object ${key} (${awsError(error).name})`,
        fix: `delete it: aws s3 rm s3://${bucket}/${key}`,
      });
    });
    s3.destroy();
  }
  if (passed)
    add({
      level: 'ok',
      check: 'live',
      message:
        'credentials for a test key can upload (parts and If-None-Match puts) and cannot overwrite, read or list',
    });
}
