/**
 * `hoist aws doctor`'s live check in sts and federation mode, through the broker's own clients
 * as the broker calls: credentials minted for a test key with the real session policy must
 * upload a part and a small object (with If-None-Match), and must not overwrite, read or list.
 * Everything it creates is removed. Presign mode has its own check (doctor-presign.ts).
 */
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  buildSessionPolicy,
  describeStoreError,
  isUnsupportedOperation,
  mintCredentials,
  publicEndpoint,
  remedyFor,
  type StoreCapabilities,
  sessionS3Client,
  storeAnswer,
} from '@hoist/broker';
import { awsError } from './context.ts';
import { type Add, type DoctorFinding, type DoctorOptions, removeTestObject } from './doctor-findings.ts';
import { checkPresignLive } from './doctor-presign.ts';

export async function checkLive(
  options: DoctorOptions,
  caps: StoreCapabilities | undefined,
  add: Add,
): Promise<void> {
  const { deployment, broker } = options;
  const { config } = deployment;
  const now = (options.now ?? Date.now)();
  const id = `${now}-${Math.random().toString(36).slice(2, 8)}`;
  const key = `${deployment.prefix}/hoist-doctor/${id}/check.bin`;
  // Presign mode hands out no credentials: check the broker's own presigned upload instead.
  if (config.mode === 'presign') return checkPresignLive({ deployment, broker, key, now, caps }, add);
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
  const s3 = sessionS3Client(
    {
      region: deployment.region,
      endpoint: publicEndpoint(config.s3),
      forcePathStyle: config.s3.forcePathStyle,
    },
    credentials,
    config.upstream,
  );
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
    await removeTestObject(broker, bucket, key, add);
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
