import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nodeSigV4Crypto } from '../node/sigv4-crypto.ts';
import {
  canonicalHeaders,
  canonicalQueryString,
  canonicalRequest,
  canonicalUri,
  credentialScope,
  EMPTY_SHA256,
  formatAmzDate,
  stringToSign,
} from './canonical.ts';
import { toHex } from './crypto.ts';
import { presignUrl, signRequest } from './sign.ts';
import { deriveSigningKey } from './signing-key.ts';
import { parseHttpDate, SigV4Error, type VerifyInput, verifyRequest } from './verify.ts';

const AKID = 'AKIAHOIST';
const SECRET = 'hoist/secret+KEY';
const REGION = 'us-east-1';
const HOST = 'localhost:9000';
const T0 = Date.UTC(2024, 0, 2, 3, 4, 5);
const AMZ_T0 = '20240102T030405Z';

interface Req {
  method: string;
  rawPath: string;
  rawQuery: string;
  rawHeaders: string[];
}

interface SignOpts {
  method?: string;
  path?: string;
  query?: string;
  headers?: [string, string][];
  payloadHash?: string;
  sessionToken?: string;
  time?: number;
  contentSha256Header?: boolean;
  region?: string;
}

const credentials = (sessionToken?: string) => ({
  accessKeyId: AKID,
  secretAccessKey: SECRET,
  ...(sessionToken ? { sessionToken } : {}),
});

function split(target: string): { rawPath: string; rawQuery: string } {
  const q = target.indexOf('?');
  return q < 0
    ? { rawPath: target, rawQuery: '' }
    : { rawPath: target.slice(0, q), rawQuery: target.slice(q + 1) };
}

async function signed(o: SignOpts = {}): Promise<Req> {
  const target = `${o.path ?? '/bucket/key.bin'}${o.query ? `?${o.query}` : ''}`;
  const added = await signRequest({
    method: o.method ?? 'PUT',
    url: `http://${HOST}${target}`,
    headers: o.headers ?? [],
    service: 's3',
    region: o.region ?? REGION,
    credentials: credentials(o.sessionToken),
    datetime: new Date(o.time ?? T0),
    payloadHash: o.payloadHash ?? EMPTY_SHA256,
    contentSha256Header: o.contentSha256Header ?? true,
    crypto: nodeSigV4Crypto,
  });
  const rawHeaders = [['Host', HOST], ...(o.headers ?? []), ...Object.entries(added)].flat();
  return { method: o.method ?? 'PUT', ...split(target), rawHeaders };
}

async function presigned(o: SignOpts & { expiresIn?: number } = {}): Promise<Req> {
  const target = `${o.path ?? '/bucket/key.bin'}${o.query ? `?${o.query}` : ''}`;
  const url = await presignUrl({
    method: o.method ?? 'GET',
    url: `http://${HOST}${target}`,
    headers: o.headers ?? [],
    service: 's3',
    region: o.region ?? REGION,
    credentials: credentials(o.sessionToken),
    datetime: new Date(o.time ?? T0),
    expiresIn: o.expiresIn ?? 3600,
    crypto: nodeSigV4Crypto,
  });
  const rawHeaders = [['Host', HOST], ...(o.headers ?? [])].flat();
  return { method: o.method ?? 'GET', ...split(url.slice(`http://${HOST}`.length)), rawHeaders };
}

/** Signs arbitrary headers with the primitives (for requests our signer would never make). */
async function craft(
  headers: [string, string][],
  signedHeaders: string[],
  datetime: string,
  payload: string,
) {
  const canonical = canonicalRequest({
    method: 'GET',
    canonicalUri: canonicalUri('/bucket/key.bin', { s3Mode: true }),
    canonicalQuery: canonicalQueryString(''),
    canonicalHeaders: canonicalHeaders(headers, signedHeaders),
    signedHeaders: signedHeaders.join(';'),
    payloadHash: payload,
  });
  const scope = credentialScope(datetime.slice(0, 8), REGION, 's3');
  const toSign = stringToSign(datetime, scope, await nodeSigV4Crypto.sha256Hex(canonical));
  const key = await deriveSigningKey(nodeSigV4Crypto, SECRET, datetime.slice(0, 8), REGION, 's3');
  const signature = toHex(await nodeSigV4Crypto.hmac(key, toSign));
  const authorization = `AWS4-HMAC-SHA256 Credential=${AKID}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return {
    method: 'GET',
    rawPath: '/bucket/key.bin',
    rawQuery: '',
    rawHeaders: [...headers, ['Authorization', authorization]].flat(),
  };
}

const lookups: [string, string | undefined][] = [];

function verify(req: Req, patch: Partial<VerifyInput<string>> = {}) {
  return verifyRequest<string>({
    ...req,
    now: T0,
    region: REGION,
    service: 's3',
    crypto: nodeSigV4Crypto,
    lookup: async (accessKeyId, sessionToken) => {
      lookups.push([accessKeyId, sessionToken]);
      if (accessKeyId !== AKID)
        throw new SigV4Error(
          'InvalidAccessKeyId',
          403,
          'The AWS Access Key Id you provided does not exist in our records.',
        );
      return { secretAccessKey: SECRET, identity: 'alice' };
    },
    ...patch,
  });
}

function header(req: Req, name: string): string | undefined {
  const i = req.rawHeaders.findIndex((v, idx) => idx % 2 === 0 && v.toLowerCase() === name);
  return i < 0 ? undefined : req.rawHeaders[i + 1];
}

function withHeader(req: Req, name: string, value: string | undefined): Req {
  const rawHeaders: string[] = [];
  let replaced = false;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const n = req.rawHeaders[i] as string;
    if (n.toLowerCase() === name.toLowerCase()) {
      if (value !== undefined && !replaced) rawHeaders.push(n, value);
      replaced = true;
    } else rawHeaders.push(n, req.rawHeaders[i + 1] as string);
  }
  if (!replaced && value !== undefined) rawHeaders.push(name, value);
  return { ...req, rawHeaders };
}

const editAuth = (req: Req, edit: (auth: string) => string) =>
  withHeader(req, 'authorization', edit(header(req, 'authorization') ?? ''));

async function expectError(
  promise: Promise<unknown>,
  code: string,
  status: number,
  message?: string | RegExp,
  extra?: Record<string, string>,
): Promise<SigV4Error> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected ${code}`),
    (error: unknown) => {
      caught = error;
    },
  );
  assert.ok(caught instanceof SigV4Error, String(caught));
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, status);
  assert.ok(caught.message.length > 0);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  if (extra) for (const [k, v] of Object.entries(extra)) assert.equal(caught.extra?.[k], v, k);
  return caught;
}

describe('verifyRequest: header auth', () => {
  it('verifies a signed S3 request', async () => {
    const req = await signed({ headers: [['x-amz-meta-color', 'blue']], payloadHash: 'UNSIGNED-PAYLOAD' });
    const result = await verify(req);
    assert.equal(result.identity, 'alice');
    assert.equal(result.accessKeyId, AKID);
    assert.equal(result.presigned, false);
    assert.equal(result.payloadHash, 'UNSIGNED-PAYLOAD');
    assert.equal(result.datetime, AMZ_T0);
    assert.equal(result.scope, `20240102/${REGION}/s3/aws4_request`);
    assert.deepEqual(result.signedHeaders, [
      'host',
      'x-amz-content-sha256',
      'x-amz-date',
      'x-amz-meta-color',
    ]);
    assert.equal(result.signingKey.length, 32);
    assert.match(header(req, 'authorization') ?? '', new RegExp(`Signature=${result.signature}$`));
  });

  it('returns streaming literals and lowercases a hex payload hash', async () => {
    for (const literal of ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']) {
      assert.equal((await verify(await signed({ payloadHash: literal }))).payloadHash, literal);
    }
    const upper = 'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855';
    assert.equal((await verify(await signed({ payloadHash: upper }))).payloadHash, EMPTY_SHA256);
  });

  it('canonicalises odd but equivalent S3 paths and queries', async () => {
    const req = await signed({
      path: '/bucket/dir/%C3%BC%20file+name~',
      query: 'partNumber=2&uploadId=a%2Fb',
    });
    await verify(req);
    // Lowercase escapes and an encoded unreserved character mean the same bytes.
    await verify({
      ...req,
      rawPath: '/bucket/dir/%c3%bc%20file+name%7E',
      rawQuery: 'uploadId=a%2fb&partNumber=2',
    });
  });

  it('passes the session token to lookup and propagates its errors', async () => {
    lookups.length = 0;
    await verify(await signed({ sessionToken: 'session/token+=' }));
    assert.deepEqual(lookups.at(-1), [AKID, 'session/token+=']);
    const other = editAuth(await signed(), (a) => a.replace(`Credential=${AKID}/`, 'Credential=AKIAOTHER/'));
    await expectError(verify(other), 'InvalidAccessKeyId', 403);
  });

  it('rejects anonymous requests and double auth', async () => {
    await expectError(
      verify({ method: 'GET', rawPath: '/b/k', rawQuery: '', rawHeaders: ['Host', HOST] }),
      'AccessDenied',
      403,
    );
    const both = { ...(await signed()), rawQuery: 'X-Amz-Credential=x&X-Amz-Signature=y' };
    await expectError(verify(both), 'InvalidArgument', 400, /^Only one auth mechanism allowed/, {
      ArgumentName: 'Authorization',
    });
  });

  it('rejects a malformed Authorization header', async () => {
    const req = await signed();
    const cases: ((a: string) => string)[] = [
      (a) => a.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA512'),
      (a) => a.replace('AWS4-HMAC-SHA256 ', 'AWS '),
      (a) => a.replace(/, Signature=[0-9a-f]+/, ''),
      (a) => a.replace(/Credential=[^,]+, /, ''),
      (a) => a.replace(/SignedHeaders=[^,]+, /, ''),
      (a) => a.replace('SignedHeaders=', 'SignedHeaders=;'),
      (a) => `${a}, Extra=1`,
      (a) => a.replace('/aws4_request', '/aws4_reques'),
      (a) => a.replace('/20240102/', '/2024012/'),
      (a) => a.replace('/20240102/', '/20240101/'),
      (a) => a.replace('/s3/', '/sts/'),
      (a) => a.replace(`Credential=${AKID}/`, 'Credential=/'),
      (a) => a.replace(`/${REGION}/`, '/'),
      (a) => `${a}${'0'.repeat(8192)}`,
    ];
    for (const edit of cases)
      await expectError(verify(editAuth(req, edit)), 'AuthorizationHeaderMalformed', 400);
    // A long SignedHeaders list is no malformation (AWS caps none): it is checked like any other.
    const many = (a: string) =>
      a.replace(
        'SignedHeaders=',
        `SignedHeaders=${Array.from({ length: 70 }, (_, i) => `h${i}`).join(';')};`,
      );
    await expectError(verify(editAuth(req, many)), 'SignatureDoesNotMatch', 403);
  });

  it('names the expected region', async () => {
    const req = await signed({ region: 'eu-west-1' });
    await expectError(
      verify(req),
      'AuthorizationHeaderMalformed',
      400,
      "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'",
      { Region: 'us-east-1' },
    );
  });

  it('requires a valid x-amz-date or Date header, in the scope day', async () => {
    const req = await signed();
    await expectError(
      verify(withHeader(req, 'x-amz-date', undefined)),
      'AccessDenied',
      403,
      'AWS authentication requires a valid Date or x-amz-date header',
    );
    await expectError(verify(withHeader(req, 'x-amz-date', '2024-01-02T03:04:05Z')), 'AccessDenied', 403);
    // A Date header alone works: its time is the one signed.
    const httpDate = new Date(T0).toUTCString();
    const crafted = await craft(
      [
        ['Host', HOST],
        ['Date', httpDate],
        ['x-amz-content-sha256', EMPTY_SHA256],
      ],
      ['date', 'host', 'x-amz-content-sha256'],
      AMZ_T0,
      EMPTY_SHA256,
    );
    assert.equal((await verify(crafted)).datetime, AMZ_T0);
    // botocore's form when a caller sets Date: RFC 2822 with a numeric zone.
    const numeric = httpDate.replace('GMT', '-0000');
    const botocore = await craft(
      [
        ['Host', HOST],
        ['Date', numeric],
        ['x-amz-content-sha256', EMPTY_SHA256],
      ],
      ['date', 'host', 'x-amz-content-sha256'],
      AMZ_T0,
      EMPTY_SHA256,
    );
    assert.equal((await verify(botocore)).datetime, AMZ_T0);
    // Scope day differs from x-amz-date's day.
    const mismatch = withHeader(await signed(), 'x-amz-date', formatAmzDate(T0 + 86_400_000));
    await expectError(
      verify(mismatch, { now: T0 + 86_400_000 }),
      'AuthorizationHeaderMalformed',
      400,
      /Invalid credential date/,
    );
  });

  it('rejects clock skew beyond 15 minutes either way', async () => {
    const req = await signed();
    await verify(req, { now: T0 + 14 * 60_000 });
    await verify(req, { now: T0 - 14 * 60_000 });
    for (const shift of [16 * 60_000, -16 * 60_000]) {
      await expectError(verify(req, { now: T0 + shift }), 'RequestTimeTooSkewed', 403, /too large/, {
        RequestTime: AMZ_T0,
        ServerTime: new Date(T0 + shift).toISOString().replace('.000', ''),
        MaxAllowedSkewMilliseconds: '900000',
      });
    }
  });

  it('requires a valid x-amz-content-sha256 for S3', async () => {
    await expectError(
      verify(await signed({ contentSha256Header: false })),
      'InvalidRequest',
      400,
      'Missing required header for this request: x-amz-content-sha256',
    );
    await expectError(
      verify(withHeader(await signed(), 'x-amz-content-sha256', 'abc')),
      'InvalidArgument',
      400,
      /x-amz-content-sha256 must be/,
      {
        ArgumentName: 'x-amz-content-sha256',
      },
    );
    // Not required for STS-style services (the body hash comes from the caller).
    const body = 'Action=GetCallerIdentity&Version=2011-06-15';
    const bodySha256 = await nodeSigV4Crypto.sha256Hex(body);
    const added = await signRequest({
      method: 'POST',
      url: `http://${HOST}/`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      service: 'sts',
      region: REGION,
      credentials: credentials(),
      datetime: new Date(T0),
      body,
      crypto: nodeSigV4Crypto,
    });
    const sts: Req = {
      method: 'POST',
      rawPath: '/',
      rawQuery: '',
      rawHeaders: [
        ['Host', HOST],
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ...Object.entries(added),
      ].flat(),
    };
    assert.equal((await verify(sts, { service: 'sts', bodySha256 })).payloadHash, bodySha256);
    await expectError(verify(sts, { service: 'sts' }), 'SignatureDoesNotMatch', 403);
  });

  it('requires host and every x-amz-* header to be signed', async () => {
    const req = withHeader(await signed(), 'X-Amz-Meta-Extra', 'v');
    await expectError(
      verify(req),
      'AccessDenied',
      403,
      'There were headers present in the request which were not signed',
      {
        HeadersNotSigned: 'x-amz-meta-extra',
      },
    );
    const noHost = await craft(
      [
        ['Host', HOST],
        ['x-amz-date', AMZ_T0],
        ['x-amz-content-sha256', EMPTY_SHA256],
      ],
      ['x-amz-content-sha256', 'x-amz-date'],
      AMZ_T0,
      EMPTY_SHA256,
    );
    await expectError(verify(noHost), 'AccessDenied', 403, undefined, { HeadersNotSigned: 'host' });
  });

  it('rejects duplicate Host or Authorization headers', async () => {
    const req = await signed();
    await expectError(
      verify({ ...req, rawHeaders: [...req.rawHeaders, 'host', HOST] }),
      'InvalidRequest',
      400,
    );
    const auth = header(req, 'authorization') ?? '';
    await expectError(
      verify({ ...req, rawHeaders: [...req.rawHeaders, 'Authorization', auth] }),
      'InvalidRequest',
      400,
    );
  });

  it('treats a signed header missing from the request as a mismatch', async () => {
    const req = await signed({ headers: [['x-custom', 'v']] });
    await verify(req);
    await expectError(verify(withHeader(req, 'x-custom', undefined)), 'SignatureDoesNotMatch', 403);
  });

  it('reports a mismatch without leaking the expected signature or secret', async () => {
    const req = await signed({ headers: [['Content-Type', 'text/plain']] });
    const expected = /Signature=([0-9a-f]{64})/.exec(header(req, 'authorization') ?? '')?.[1] ?? '';
    const tampered = withHeader(req, 'content-type', 'text/html');
    const error = await expectError(
      verify(tampered),
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      { AWSAccessKeyId: AKID },
    );
    assert.match(error.extra?.StringToSign ?? '', /^AWS4-HMAC-SHA256\n20240102T030405Z\n/);
    assert.match(error.extra?.CanonicalRequest ?? '', /\ncontent-type:text\/html\n/);
    const everything = `${error.message}${JSON.stringify(error.extra)}${error.stack}`;
    assert.ok(!everything.includes(SECRET));
    // The signature we computed for the tampered request must not appear either.
    const flipped = editAuth(req, (a) =>
      a.replace(
        expected,
        expected.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
      ),
    );
    const error2 = await expectError(verify(flipped), 'SignatureDoesNotMatch', 403);
    assert.ok(!`${error2.message}${JSON.stringify(error2.extra)}`.includes(expected));
    // Wrong length and uppercase signatures simply mismatch.
    await expectError(
      verify(editAuth(req, (a) => a.replace(expected, expected.slice(1)))),
      'SignatureDoesNotMatch',
      403,
    );
    await expectError(
      verify(editAuth(req, (a) => a.replace(expected, expected.toUpperCase()))),
      'SignatureDoesNotMatch',
      403,
    );
  });
});

describe('verifyRequest: presigned', () => {
  it('verifies a presigned URL with a session token', async () => {
    lookups.length = 0;
    const req = await presigned({ sessionToken: 'tok/en+=', query: 'versionId=1' });
    const result = await verify(req);
    assert.equal(result.presigned, true);
    assert.equal(result.payloadHash, 'UNSIGNED-PAYLOAD');
    assert.deepEqual(result.signedHeaders, ['host']);
    assert.deepEqual(lookups.at(-1), [AKID, 'tok/en+=']);
  });

  it('uses a signed x-amz-content-sha256 header as the payload hash', async () => {
    const hash = await nodeSigV4Crypto.sha256Hex('body');
    const req = await presigned({ method: 'PUT', headers: [['x-amz-content-sha256', hash]] });
    assert.equal((await verify(req)).payloadHash, hash);
  });

  it('requires headers sent with the URL to be signed', async () => {
    const req = await presigned();
    await expectError(
      verify({ ...req, rawHeaders: [...req.rawHeaders, 'x-amz-checksum-crc32', 'AAAAAA=='] }),
      'AccessDenied',
      403,
      undefined,
      {
        HeadersNotSigned: 'x-amz-checksum-crc32',
      },
    );
  });

  it('enforces the validity window', async () => {
    const req = await presigned({ expiresIn: 60 });
    await verify(req, { now: T0 + 60_000 });
    await expectError(verify(req, { now: T0 + 61_000 }), 'AccessDenied', 403, 'Request has expired', {
      'X-Amz-Expires': '60',
      Expires: '2024-01-02T03:05:05Z',
      ServerTime: '2024-01-02T03:05:06Z',
    });
    await verify(req, { now: T0 - 14 * 60_000 });
    await expectError(
      verify(req, { now: T0 - 16 * 60_000 }),
      'AccessDenied',
      403,
      'Request is not valid yet',
    );
  });

  it('validates the query parameters', async () => {
    const req = await presigned();
    const edit = (from: RegExp, to: string) => ({ ...req, rawQuery: req.rawQuery.replace(from, to) });
    const cases: [Req, string | RegExp, Record<string, string>?][] = [
      [
        edit(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604801'),
        'X-Amz-Expires must be less than a week (in seconds) that is 604800',
      ],
      [edit(/X-Amz-Expires=\d+/, 'X-Amz-Expires=-1'), 'X-Amz-Expires must be non-negative'],
      [edit(/X-Amz-Expires=\d+/, 'X-Amz-Expires=1.5'), 'X-Amz-Expires should be a number'],
      [edit(/&X-Amz-Date=[^&]+/, ''), /^Query-string authentication version 4 requires/],
      [edit(/&X-Amz-SignedHeaders=[^&]+/, ''), /^Query-string authentication version 4 requires/],
      [
        edit(/X-Amz-Algorithm=[^&]+/, 'X-Amz-Algorithm=AWS4-HMAC-SHA1'),
        'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
      ],
      [edit(/X-Amz-Date=[^&]+/, 'X-Amz-Date=2024-01-02'), /^X-Amz-Date must be in the ISO8601 Long Format/],
      [
        edit(/%2Fus-east-1%2F/, '%2Fus-west-2%2F'),
        /^Error parsing the X-Amz-Credential parameter; the region 'us-west-2' is wrong; expecting 'us-east-1'/,
        { Region: 'us-east-1' },
      ],
      [edit(/%2Fs3%2F/, '%2Fsts%2F'), /^Error parsing the X-Amz-Credential parameter; incorrect service/],
      [edit(/%2F20240102%2F/, '%2F20240103%2F'), /Invalid credential date "20240103"/],
      [edit(/X-Amz-Credential=[^&]+/, 'X-Amz-Credential=AKIA'), /the Credential is mal-formed/],
      [{ ...req, rawQuery: `${req.rawQuery}&X-Amz-Signature=00` }, /only once/],
    ];
    for (const [bad, message, extra] of cases)
      await expectError(verify(bad), 'AuthorizationQueryParametersError', 400, message, extra);
  });

  it('detects tampering with the query or path', async () => {
    const req = await presigned({ query: 'partNumber=1' });
    await expectError(
      verify({ ...req, rawQuery: req.rawQuery.replace('partNumber=1', 'partNumber=2') }),
      'SignatureDoesNotMatch',
      403,
    );
    await expectError(verify({ ...req, rawPath: '/bucket/other.bin' }), 'SignatureDoesNotMatch', 403);
    await expectError(verify({ ...req, method: 'PUT' }), 'SignatureDoesNotMatch', 403);
  });

  it('treats "+" in the query as a space, like S3', async () => {
    const req = await presigned({ query: 'prefix=a+b' });
    await verify(req);
    await verify({ ...req, rawQuery: req.rawQuery.replace('prefix=a+b', 'prefix=a%20b') });
  });
});

it('rejects invalid input with a TypeError', async () => {
  const req = await signed();
  await assert.rejects(verify({ ...req, rawHeaders: ['Host'] }), TypeError);
  await assert.rejects(verify(req, { now: Number.NaN }), TypeError);
  await assert.rejects(verify(req, { bodySha256: 'x' }), TypeError);
});

describe('parseHttpDate', () => {
  it('reads IMF-fixdate and RFC 2822 numeric zones, and nothing else', () => {
    const t = Date.UTC(2026, 11, 7, 17, 52, 49);
    assert.equal(parseHttpDate('Mon, 07 Dec 2026 17:52:49 GMT'), t);
    assert.equal(parseHttpDate('Mon, 07 Dec 2026 17:52:49 -0000'), t);
    assert.equal(parseHttpDate('Mon, 07 Dec 2026 18:52:49 +0100'), t);
    assert.equal(parseHttpDate('Mon, 07 Dec 2026 12:22:49 -0530'), t);
    assert.equal(parseHttpDate('Mon, 31 Feb 2026 17:52:49 GMT'), undefined);
    assert.equal(parseHttpDate('Mon, 07 Foo 2026 17:52:49 GMT'), undefined);
    assert.equal(parseHttpDate('2026-12-07T17:52:49Z'), undefined);
    assert.equal(parseHttpDate('Mon, 7 Dec 2026 17:52:49 GMT'), undefined);
  });
});
