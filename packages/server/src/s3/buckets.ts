/** Bucket operations: CreateBucket, HeadBucket, ListBuckets, DeleteBucket, GetBucketLocation, GetBucketVersioning. */
import { parseXmlBody, S3Error, textOf, xmlTimestamp } from '@hoist/aws/s3';
import { type BucketRecord, StorageError } from '../storage/types.ts';
import { requireBucketName, type S3Context, sendEmpty, sendXml } from './context.ts';
import { readSmallBody } from './payload.ts';

const MAX_CONFIG_BYTES = 64 * 1024;

/** S3's general-purpose bucket naming rules. */
export function validateBucketName(name: string): void {
  const ok =
    name.length >= 3 &&
    name.length <= 63 &&
    /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !name.startsWith('xn--') &&
    !name.startsWith('sthree-') &&
    !name.endsWith('-s3alias') &&
    !name.endsWith('--ol-s3');
  if (!ok) throw new S3Error('InvalidBucketName', undefined, { extra: { BucketName: name } });
}

/** The bucket a request names, or NoSuchBucket. */
export function existingBucket(ctx: S3Context): BucketRecord {
  const name = requireBucketName(ctx);
  const bucket = ctx.storage.getBucket(name);
  if (!bucket) throw new S3Error('NoSuchBucket', undefined, { extra: { BucketName: name } });
  return bucket;
}

export async function createBucket(ctx: S3Context): Promise<void> {
  const name = requireBucketName(ctx);
  validateBucketName(name);
  const body = await readSmallBody(ctx, MAX_CONFIG_BYTES);
  let region = ctx.options.region;
  if (body.length > 0) {
    const config = parseXmlBody(body.toString('utf8'), 'CreateBucketConfiguration');
    const constraint = textOf(config, 'LocationConstraint');
    // us-east-1 is the absence of a constraint; naming it is refused (S3: InvalidLocationConstraint).
    if (constraint === 'us-east-1')
      throw new S3Error('InvalidLocationConstraint', undefined, {
        extra: { LocationConstraint: constraint },
      });
    if (constraint !== undefined && constraint !== '' && constraint !== ctx.options.region) {
      throw new S3Error(
        'IllegalLocationConstraintException',
        `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
    if (constraint) region = constraint;
  }
  if (ctx.storage.getBucket(name)) {
    // us-east-1 keeps S3's legacy answer: re-creating your own bucket succeeds.
    if (ctx.options.region !== 'us-east-1') {
      throw new S3Error('BucketAlreadyOwnedByYou', undefined, { extra: { BucketName: name } });
    }
  } else {
    try {
      ctx.storage.createBucket(name, region);
    } catch (error) {
      if (
        !(error instanceof StorageError && error.code === 'BucketAlreadyOwnedByYou') ||
        ctx.options.region !== 'us-east-1'
      )
        throw error;
    }
  }
  sendEmpty(ctx, 200, { location: `/${name}` });
}

export function headBucket(ctx: S3Context): void {
  const bucket = existingBucket(ctx);
  sendEmpty(ctx, 200, { 'x-amz-bucket-region': bucket.region, 'x-amz-access-point-alias': 'false' });
}

/** S3's page size when any paging or filter parameter is given without max-buckets. */
const DEFAULT_BUCKET_PAGE = 10_000;

function invalidListArgument(name: string, value: string, message: string): S3Error {
  return new S3Error('InvalidArgument', message, { extra: { ArgumentName: name, ArgumentValue: value } });
}

/** The opaque continuation token: the last name of the previous page, base64url. */
function decodeBucketToken(token: string): string {
  const name = /^[A-Za-z0-9_-]{1,1024}$/.test(token) ? Buffer.from(token, 'base64url').toString('utf8') : '';
  if (name === '' || Buffer.from(name).toString('base64url') !== token)
    throw invalidListArgument('continuation-token', token, 'The continuation token provided is incorrect');
  return name;
}

export function listBuckets(ctx: S3Context): void {
  const owner = ownerOf(ctx);
  const maxText = ctx.query.get('max-buckets');
  const prefix = ctx.query.get('prefix');
  const region = ctx.query.get('bucket-region');
  const token = ctx.query.get('continuation-token');
  if (maxText !== null && (!/^\d{1,5}$/.test(maxText) || Number(maxText) < 1 || Number(maxText) > 10_000))
    throw invalidListArgument(
      'max-buckets',
      maxText,
      'Argument max-buckets must be an integer between 1 and 10000',
    );
  // Without any of the four, S3 lists every bucket in one answer, as before paging existed.
  const paged = maxText !== null || prefix !== null || region !== null || token !== null;
  const after = token !== null ? decodeBucketToken(token) : undefined;
  const matching = ctx.storage
    .listBuckets()
    .filter(
      (b) =>
        (prefix === null || b.name.startsWith(prefix)) &&
        (region === null || b.region === region) &&
        (after === undefined || b.name > after),
    );
  const limit = paged ? Number(maxText ?? DEFAULT_BUCKET_PAGE) : matching.length;
  const page = matching.slice(0, limit);
  const last = page.at(-1);
  sendXml(ctx, 200, 'ListAllMyBucketsResult', {
    Owner: owner,
    Buckets: {
      Bucket: page.map((b) => ({
        Name: b.name,
        CreationDate: xmlTimestamp(b.createdAt),
        BucketRegion: b.region,
      })),
    },
    ContinuationToken:
      matching.length > page.length && last ? Buffer.from(last.name).toString('base64url') : undefined,
    Prefix: prefix ?? undefined,
  });
}

export function deleteBucket(ctx: S3Context): void {
  existingBucket(ctx);
  ctx.storage.deleteBucket(requireBucketName(ctx));
  sendEmpty(ctx, 204);
}

export function getBucketLocation(ctx: S3Context): void {
  const bucket = existingBucket(ctx);
  // us-east-1 is reported as an empty constraint, as S3 does.
  const location = bucket.region === 'us-east-1' ? '' : bucket.region;
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${location}</LocationConstraint>`;
  ctx.res.writeHead(200, {
    ...ctx.responseHeaders,
    'content-type': 'application/xml',
    'content-length': String(Buffer.byteLength(xml)),
  });
  ctx.res.end(xml);
}

/** Buckets here are never versioned: an empty configuration, as S3 answers for a never-versioned bucket. */
export function getBucketVersioning(ctx: S3Context): void {
  existingBucket(ctx);
  sendXml(ctx, 200, 'VersioningConfiguration', {});
}

export function ownerOf(ctx: S3Context): { ID: string; DisplayName: string } {
  return { ID: ctx.auth.identity.accountId, DisplayName: 'hoist' };
}
