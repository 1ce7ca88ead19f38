/**
 * POST Object: a browser form upload signed with a SigV4 POST policy. The signer's
 * credentials (temporary ones and their session policies included) are authorized for
 * s3:PutObject on the key exactly as a PUT would be, and the policy's conditions bound
 * what the form may carry; the file streams to a blob like a PUT body.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeSigV4Crypto } from '@hoist/aws/node';
import { s3ObjectArn } from '@hoist/aws/policy';
import { renderXml, S3Error } from '@hoist/aws/s3';
import type { VerifiedRequest } from '@hoist/aws/sigv4';
import { deriveSigningKey, toHex } from '@hoist/aws/sigv4';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, checksumHeaderName, S3_LIMITS } from '@hoist/protocol';
import type { Authorizer } from '../authz.ts';
import type { HashPool } from '../checksum/hash-pool.ts';
import type { HashAlgorithm } from '../checksum/hash-worker.ts';
import { isValidChecksumValue } from '../checksum/index.ts';
import type { CredentialLookup, Identity } from '../identity.ts';
import type { ResolvedServerOptions } from '../options.ts';
import { safeEqual } from '../safe-equal.ts';
import type { Storage } from '../storage/types.ts';
import { s3ConditionKeys } from './authz-requests.ts';
import type { S3Context } from './context.ts';
import { sendEmpty } from './context.ts';
import { SSE_S3_HEADER, storedHeadersFrom } from './object-headers.ts';
import { formBoundary, readPostForm } from './post-form.ts';
import { checkPostPolicy, parsePostPolicy } from './post-policy.ts';
import { rejectUnsupportedHeaders } from './unsupported-headers.ts';

/** S3 replaces this in the `key` field with the uploaded file's name. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: S3's literal variable, not a template.
const FILENAME_VARIABLE = '${filename}';

export interface PostObjectDeps {
  storage: Storage;
  hashPool: HashPool;
  options: ResolvedServerOptions;
  lookup: CredentialLookup;
  authorizer: Authorizer;
  requestId: string;
  now: number;
  responseHeaders: Record<string, string>;
}

/** Is this a browser form upload (POST to a bucket with a multipart/form-data body)? */
export function isPostObject(
  req: IncomingMessage,
  bucket: string | undefined,
  key: string | undefined,
): boolean {
  return (
    req.method === 'POST' &&
    bucket !== undefined &&
    key === undefined &&
    formBoundary(req.headers['content-type']) !== undefined
  );
}

function missingField(name: string): S3Error {
  return new S3Error(
    'InvalidArgument',
    `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`,
    {
      extra: { ArgumentName: name, ArgumentValue: '' },
    },
  );
}

interface SignedForm {
  identity: Identity;
  accessKeyId: string;
  signature: string;
  signingKey: Uint8Array;
  datetime: string;
  scope: string;
}

/** Verifies `x-amz-signature` = HMAC(signing key of the credential scope, policy). */
async function verifyFormSignature(fields: Map<string, string>, deps: PostObjectDeps): Promise<SignedForm> {
  if (fields.has('awsaccesskeyid') || fields.has('signature'))
    throw new S3Error(
      'InvalidRequest',
      'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
    );
  // Without a signature the request is anonymous, and nothing here is writable anonymously.
  if (!fields.has('x-amz-signature') && !fields.has('policy')) throw new S3Error('AccessDenied');
  for (const name of ['policy', 'x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'])
    if (!fields.has(name)) throw missingField(name);
  const algorithm = fields.get('x-amz-algorithm') ?? '';
  if (algorithm !== 'AWS4-HMAC-SHA256')
    throw new S3Error('InvalidArgument', `Unsupported x-amz-algorithm: ${algorithm}`, {
      extra: { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm },
    });
  const credential = fields.get('x-amz-credential') ?? '';
  const datetime = fields.get('x-amz-date') ?? '';
  const [accessKeyId = '', day = '', region = '', service = '', terminator = '', ...rest] =
    credential.split('/');
  const badCredential = (why: string) =>
    new S3Error('InvalidArgument', `Error parsing the X-Amz-Credential parameter; ${why}`, {
      extra: { ArgumentName: 'x-amz-credential', ArgumentValue: credential },
    });
  if (!accessKeyId || rest.length > 0 || !/^\d{8}$/.test(day) || terminator !== 'aws4_request')
    throw badCredential(
      'the credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  if (region !== deps.options.region)
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; the region '${region}' is wrong; expecting '${deps.options.region}'`,
      {
        extra: { Region: deps.options.region },
      },
    );
  if (service !== 's3') throw badCredential(`incorrect service "${service}". This endpoint belongs to "s3".`);
  if (!/^\d{8}T\d{6}Z$/.test(datetime) || datetime.slice(0, 8) !== day)
    throw new S3Error(
      'InvalidArgument',
      `x-amz-date must be yyyyMMddTHHmmssZ and on the credential's date ${day}.`,
      {
        extra: { ArgumentName: 'x-amz-date', ArgumentValue: datetime },
      },
    );
  const { secretAccessKey, identity } = await deps.lookup(accessKeyId, fields.get('x-amz-security-token'));
  const signingKey = await deriveSigningKey(nodeSigV4Crypto, secretAccessKey, day, region, service);
  const expected = toHex(await nodeSigV4Crypto.hmac(signingKey, fields.get('policy') ?? ''));
  const signature = (fields.get('x-amz-signature') ?? '').toLowerCase();
  if (!safeEqual(signature, expected)) {
    throw new S3Error('SignatureDoesNotMatch', undefined, {
      extra: { AWSAccessKeyId: accessKeyId, StringToSign: fields.get('policy') ?? '' },
    });
  }
  return {
    identity,
    accessKeyId,
    signature,
    signingKey,
    datetime,
    scope: `${day}/${region}/${service}/aws4_request`,
  };
}

/** The one checksum field a form may carry (x-amz-checksum-<algorithm>), validated. */
function formChecksum(
  fields: Map<string, string>,
): { algorithm: ChecksumAlgorithm; value: string } | undefined {
  const present = CHECKSUM_ALGORITHMS.filter((algorithm) => fields.has(checksumHeaderName(algorithm)));
  if (present.length === 0) return undefined;
  if (present.length > 1)
    throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- field but found multiple.');
  const algorithm = present[0] as ChecksumAlgorithm;
  const value = fields.get(checksumHeaderName(algorithm)) ?? '';
  if (!isValidChecksumValue(algorithm, value))
    throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(algorithm)} field is invalid.`);
  return { algorithm, value };
}

function userMetadata(fields: Map<string, string>): Record<string, string> {
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of fields) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const key = name.slice('x-amz-meta-'.length);
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
    metadata[key] = value;
  }
  if (bytes > S3_LIMITS.maxUserMetadataBytes)
    throw new S3Error('MetadataTooLarge', undefined, {
      extra: { Size: String(bytes), MaxSizeAllowed: String(S3_LIMITS.maxUserMetadataBytes) },
    });
  return metadata;
}

/** `success_action_redirect` when it is an absolute http(s) URL (S3 ignores anything else). */
function redirectTarget(value: string | undefined): URL | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

export async function handlePostObject(
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  deps: PostObjectDeps,
): Promise<void> {
  if (!deps.storage.getBucket(bucket))
    throw new S3Error('NoSuchBucket', undefined, { extra: { BucketName: bucket } });
  const boundary = formBoundary(req.headers['content-type']) ?? '';
  const form = await readPostForm(req, boundary);
  const { fields } = form;
  const signed = await verifyFormSignature(fields, deps);
  const policy = parsePostPolicy(fields.get('policy') ?? '');

  const rawKey = fields.get('key');
  if (rawKey === undefined) throw missingField('key');
  const key = rawKey.replaceAll(FILENAME_VARIABLE, form.filename);
  if (key === '')
    throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', {
      extra: { ArgumentName: 'key', ArgumentValue: '' },
    });
  if (Buffer.byteLength(key) > S3_LIMITS.maxKeyBytes)
    throw new S3Error('KeyTooLongError', undefined, {
      extra: { Size: String(Buffer.byteLength(key)), MaxSizeAllowed: String(S3_LIMITS.maxKeyBytes) },
    });
  const compared = new Map(fields);
  compared.set('key', key);
  compared.set('bucket', bucket);
  const range = checkPostPolicy(policy, compared, deps.now);

  // The form's fields play the part of a PUT's headers (acl is x-amz-acl there).
  const headers: Record<string, string> = Object.fromEntries(fields);
  if (fields.has('acl')) headers['x-amz-acl'] = fields.get('acl') ?? '';
  if (fields.has('tagging')) headers['x-amz-tagging'] = fields.get('tagging') ?? '';
  rejectUnsupportedHeaders(headers);

  const auth: VerifiedRequest<Identity> = {
    ...signed,
    presigned: false,
    payloadHash: 'UNSIGNED-PAYLOAD',
    signedHeaders: [],
  };
  const conditionKeys = {
    ...s3ConditionKeys({
      operation: 'PutObject',
      bucket,
      key,
      query: new URLSearchParams(),
      headers,
      presigned: false,
      payloadHash: 'UNSIGNED-PAYLOAD',
      signatureAgeMs: 0,
    }),
    's3:authType': 'POST',
    'aws:SourceIp': req.socket.remoteAddress ?? '',
  };
  if (!deps.authorizer.isAllowed(auth.identity, 's3:PutObject', s3ObjectArn(bucket, key), conditionKeys))
    throw new S3Error('AccessDenied');

  const ctx: S3Context = {
    req,
    res,
    operation: 'PutObject',
    bucket,
    key,
    query: new URLSearchParams(),
    headers,
    auth,
    requestId: deps.requestId,
    storage: deps.storage,
    hashPool: deps.hashPool,
    options: deps.options,
    now: deps.now,
    authorize: (action, resource) =>
      deps.authorizer.isAllowed(auth.identity, action, resource, conditionKeys),
    responseHeaders: deps.responseHeaders,
  };
  const stored = storedHeadersFrom(ctx);
  const metadata = userMetadata(fields);
  const claimed = formChecksum(fields);
  const max = Math.min(range?.max ?? S3_LIMITS.maxPutObjectSize, S3_LIMITS.maxPutObjectSize);

  const algorithms: HashAlgorithm[] = claimed ? ['MD5', claimed.algorithm] : ['MD5'];
  const hashing = deps.hashPool.open(algorithms);
  let size = 0;
  async function* counted(): AsyncGenerator<Buffer> {
    for await (const chunk of form.file) {
      size += chunk.length;
      // Refused as soon as it is too large, not after storing it.
      if (size > max)
        throw new S3Error('EntityTooLarge', undefined, {
          extra: { ProposedSize: String(size), MaxSizeAllowed: String(max) },
        });
      const backpressure = hashing.update(chunk);
      if (backpressure) await backpressure;
      yield chunk;
    }
  }
  let blob: Awaited<ReturnType<Storage['writeBlob']>>;
  try {
    blob = await deps.storage.writeBlob(counted());
  } catch (error) {
    hashing.close();
    throw error;
  }
  let etag: string;
  let checksum: string | undefined;
  try {
    if (range && size < range.min)
      throw new S3Error('EntityTooSmall', undefined, {
        extra: { ProposedSize: String(size), MinSizeAllowed: String(range.min) },
      });
    const digests = await hashing.digest();
    etag = `"${(digests.get('MD5') as Buffer).toString('hex')}"`;
    if (claimed) {
      checksum = (digests.get(claimed.algorithm) as Buffer).toString('base64');
      if (checksum !== claimed.value)
        throw new S3Error(
          'BadDigest',
          `The ${claimed.algorithm} you specified did not match the calculated checksum.`,
        );
    }
    deps.storage.putObject(bucket, key, {
      ...stored,
      size,
      etag,
      userMetadata: metadata,
      segments: [{ blobId: blob.blobId, size: blob.size }],
      ...(claimed && checksum
        ? { checksum: { algorithm: claimed.algorithm, type: 'FULL_OBJECT' as const, value: checksum } }
        : {}),
    });
  } catch (error) {
    hashing.close();
    await deps.storage.discardBlob(blob.blobId);
    throw error;
  }

  const location = `http://${req.headers.host ?? deps.options.host}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const out: Record<string, string> = { etag, location, ...SSE_S3_HEADER };
  if (claimed && checksum) out[checksumHeaderName(claimed.algorithm)] = checksum;
  const redirect = redirectTarget(fields.get('success_action_redirect'));
  if (redirect) {
    redirect.searchParams.set('bucket', bucket);
    redirect.searchParams.set('key', key);
    redirect.searchParams.set('etag', etag);
    sendEmpty(ctx, 303, { ...out, location: redirect.toString() });
    return;
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    // S3's PostResponse carries no namespace.
    const xml = Buffer.from(
      renderXml(
        'PostResponse',
        { Location: location, Bucket: bucket, Key: key, ETag: etag },
        { xmlns: false },
      ),
    );
    res.writeHead(201, {
      ...deps.responseHeaders,
      ...out,
      'content-type': 'application/xml',
      'content-length': String(xml.length),
    });
    res.end(xml);
    return;
  }
  sendEmpty(ctx, status === '200' ? 200 : 204, out);
}
