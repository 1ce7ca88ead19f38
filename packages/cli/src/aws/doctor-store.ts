/**
 * `hoist aws doctor`'s bucket checks: reachable with the broker's credentials, CORS letting the
 * web app's origins PUT and read ETag and checksums, and a lifecycle rule aborting abandoned
 * multipart uploads under the prefix.
 */
import {
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
} from '@aws-sdk/client-s3';
import { type AdminClients, awsError } from './context.ts';
import { EXPOSED_HEADERS } from './cors.ts';
import { type Add, type DoctorOptions, readOrReport } from './doctor-findings.ts';

export async function checkBucket({ deployment, broker }: DoctorOptions, add: Add): Promise<boolean> {
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

export async function checkCors({ deployment, admin, origins }: DoctorOptions, add: Add): Promise<void> {
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
    // Small files go as the broker's POST form by default (the engine's singleRequest: 'post').
    if (!rule.AllowedMethods?.includes('POST'))
      add({
        level: 'warning',
        check: 'cors',
        message: `the CORS rule for ${origin} does not allow POST (small files are sent as POST forms unless the page sets singleRequest: 'put')`,
        fix,
      });
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

export async function checkLifecycle({ deployment, admin }: DoctorOptions, add: Add): Promise<void> {
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
