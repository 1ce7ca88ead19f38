// Runs every case of AWS's SigV4 test suite through signing (header + query form) and
// through verifyRequest, including tampered variants.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { nodeSigV4Crypto } from '../node/sigv4-crypto.ts';
import { type SigV4Crypto, webSigV4Crypto } from './crypto.ts';
import { presignUrlDetailed, signRequestDetailed } from './sign.ts';
import { type SigV4Error, verifyRequest } from './verify.ts';

// AWS's suite (Apache-2.0; see its NOTICE), kept in the repository.
const SUITE = join(import.meta.dirname, '..', '..', 'test', 'vectors', 'sigv4');

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  expiration_in_seconds: number;
  normalize: boolean;
  region: string;
  service: string;
  sign_body: boolean;
  timestamp: string;
}

interface RawRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: string;
}

/** Parses the suite's request files: request line, `Name:value` lines (indented = continuation), body. */
function parseRequest(text: string): RawRequest {
  const lines = text.split('\n');
  const first = lines[0] ?? '';
  const method = first.slice(0, first.indexOf(' '));
  const target = first.slice(first.indexOf(' ') + 1, first.lastIndexOf(' '));
  const headers: [string, string][] = [];
  let i = 1;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const line = lines[i] as string;
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last) last[1] += `\n${line}`;
    else headers.push([line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]);
  }
  return { method, target, headers, body: lines.slice(i + 1).join('\n') };
}

function splitTarget(target: string): { rawPath: string; rawQuery: string } {
  const q = target.indexOf('?');
  return q < 0
    ? { rawPath: target, rawQuery: '' }
    : { rawPath: target.slice(0, q), rawQuery: target.slice(q + 1) };
}

const cases = readdirSync(SUITE, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

function load(name: string) {
  const read = (file: string) => readFileSync(join(SUITE, name, file), 'utf8');
  const ctx = JSON.parse(read('context.json')) as Context;
  return {
    ctx,
    request: parseRequest(read('request.txt')),
    read,
    host: parseRequest(read('request.txt')).headers.find(([n]) => n.toLowerCase() === 'host')?.[1] ?? '',
  };
}

function signOptions(name: string) {
  const { ctx, request, host } = load(name);
  return {
    method: request.method,
    url: `https://${host}${request.target}`,
    headers: request.headers,
    service: ctx.service,
    region: ctx.region,
    credentials: {
      accessKeyId: ctx.credentials.access_key_id,
      secretAccessKey: ctx.credentials.secret_access_key,
      sessionToken: ctx.credentials.token,
    },
    datetime: ctx.timestamp,
    // The suite's normalize:false cases are S3's rules; normalize:true the generic signer.
    s3Mode: !ctx.normalize,
    body: ctx.sign_body ? request.body : undefined,
  };
}

const cryptos: [string, SigV4Crypto][] = [
  ['webcrypto', webSigV4Crypto],
  ['node', nodeSigV4Crypto],
];

it('the suite is present and complete', () => {
  assert.ok(cases.length >= 28, `expected the AWS suite at ${SUITE}, found ${cases.length} cases`);
});

describe('sign: every suite case', () => {
  for (const name of cases) {
    for (const [cryptoName, crypto] of cryptos) {
      it(`${name} header form (${cryptoName})`, async () => {
        const { ctx, request, read } = load(name);
        const result = await signRequestDetailed({
          ...signOptions(name),
          contentSha256Header: ctx.sign_body,
          crypto,
        });
        assert.equal(result.canonicalRequest, read('header-canonical-request.txt'));
        assert.equal(result.stringToSign, read('header-string-to-sign.txt'));
        assert.equal(result.signature, read('header-signature.txt').trim());
        // The signed request is the original plus exactly the headers we add.
        const signed = parseRequest(read('header-signed-request.txt'));
        const lower = (pairs: [string, string][]) => pairs.map(([n, v]) => `${n.toLowerCase()}:${v}`).sort();
        assert.deepEqual(
          lower([...request.headers, ...Object.entries(result.headers)]),
          lower(signed.headers),
        );
      });

      it(`${name} query form (${cryptoName})`, async () => {
        const { ctx, read, host } = load(name);
        const result = await presignUrlDetailed({
          ...signOptions(name),
          expiresIn: ctx.expiration_in_seconds,
          crypto,
        });
        assert.equal(result.canonicalRequest, read('query-canonical-request.txt'));
        assert.equal(result.stringToSign, read('query-string-to-sign.txt'));
        assert.equal(result.signature, read('query-signature.txt').trim());
        assert.equal(result.url, `https://${host}${parseRequest(read('query-signed-request.txt')).target}`);
      });
    }
  }
});

type Mutate = (r: RawRequest) => void;

async function verifyCase(
  name: string,
  form: 'header' | 'query',
  tweak: { mutate?: Mutate; secret?: string; clockShiftMs?: number } = {},
) {
  const { ctx, read } = load(name);
  const request = parseRequest(read(`${form}-signed-request.txt`));
  tweak.mutate?.(request);
  const { rawPath, rawQuery } = splitTarget(request.target);
  return verifyRequest({
    method: request.method,
    rawPath,
    rawQuery,
    rawHeaders: request.headers.flat(),
    now: Date.parse(ctx.timestamp) + (tweak.clockShiftMs ?? 0),
    region: ctx.region,
    service: ctx.service,
    s3Mode: !ctx.normalize,
    crypto: nodeSigV4Crypto,
    ...(ctx.sign_body ? { bodySha256: createHash('sha256').update(request.body).digest('hex') } : {}),
    lookup: async (accessKeyId, sessionToken) => {
      assert.equal(accessKeyId, ctx.credentials.access_key_id);
      assert.equal(sessionToken, ctx.credentials.token);
      return {
        secretAccessKey: tweak.secret ?? ctx.credentials.secret_access_key,
        identity: { user: 'vector' },
      };
    },
  });
}

const flipLast = (sig: string) => sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');

const setHeader =
  (name: string, value: string): Mutate =>
  (r) => {
    const pair = r.headers.find(([n]) => n.toLowerCase() === name);
    assert.ok(pair, `no ${name} header`);
    pair[1] = value;
  };

function rejects(promise: Promise<unknown>, code: string) {
  return assert.rejects(promise, (error: SigV4Error) => {
    assert.equal(error.code, code, `${error.code}: ${error.message}`);
    assert.ok(error.message.length > 0);
    return true;
  });
}

describe('verify: every suite case', () => {
  for (const name of cases) {
    it(`${name} header form`, async () => {
      const { ctx, read } = load(name);
      const ok = await verifyCase(name, 'header');
      assert.equal(ok.presigned, false);
      assert.equal(ok.signature, read('header-signature.txt').trim());
      assert.deepEqual(ok.identity, { user: 'vector' });
      assert.equal(ok.datetime, '20150830T123600Z');
      assert.equal(ok.scope, `20150830/${ctx.region}/${ctx.service}/aws4_request`);

      const sig = read('header-signature.txt').trim();
      await rejects(
        verifyCase(name, 'header', { mutate: setHeader('authorization', setSig(read, sig, flipLast(sig))) }),
        'SignatureDoesNotMatch',
      );
      await rejects(
        verifyCase(name, 'header', { mutate: setHeader('host', 'example.amazonaws.org') }),
        'SignatureDoesNotMatch',
      );
      await rejects(verifyCase(name, 'header', { secret: 'wrong-secret' }), 'SignatureDoesNotMatch');
      await rejects(verifyCase(name, 'header', { clockShiftMs: 16 * 60_000 }), 'RequestTimeTooSkewed');
      await rejects(verifyCase(name, 'header', { clockShiftMs: -16 * 60_000 }), 'RequestTimeTooSkewed');
    });

    it(`${name} query form`, async () => {
      const { ctx, read } = load(name);
      const sig = read('query-signature.txt').trim();
      const ok = await verifyCase(name, 'query');
      assert.equal(ok.presigned, true);
      assert.equal(ok.signature, sig);

      const flipQuery: Mutate = (r) => {
        r.target = r.target.replace(`X-Amz-Signature=${sig}`, `X-Amz-Signature=${flipLast(sig)}`);
      };
      await rejects(verifyCase(name, 'query', { mutate: flipQuery }), 'SignatureDoesNotMatch');
      await rejects(
        verifyCase(name, 'query', { mutate: setHeader('host', 'example.amazonaws.org') }),
        'SignatureDoesNotMatch',
      );
      await rejects(verifyCase(name, 'query', { secret: 'wrong-secret' }), 'SignatureDoesNotMatch');
      await rejects(verifyCase(name, 'query', { clockShiftMs: -16 * 60_000 }), 'AccessDenied');
      await rejects(
        verifyCase(name, 'query', { clockShiftMs: ctx.expiration_in_seconds * 1000 + 1000 }),
        'AccessDenied',
      );
      // Within the expiry window the URL still verifies, however skewed the clock.
      await verifyCase(name, 'query', { clockShiftMs: 16 * 60_000 });
    });
  }
});

function setSig(read: (file: string) => string, sig: string, replacement: string): string {
  const auth = parseRequest(read('header-signed-request.txt')).headers.find(
    ([n]) => n === 'Authorization',
  )?.[1];
  assert.ok(auth);
  return auth.replace(`Signature=${sig}`, `Signature=${replacement}`);
}
