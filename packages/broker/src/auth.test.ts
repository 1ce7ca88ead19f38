import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { base64url, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createAuthenticator } from './auth.ts';
import type { JwtConfig } from './config.ts';
import { BrokerProblem } from './errors.ts';

const NOW = 1_750_000_000_000;
const now = () => NOW;
const secs = (ms: number) => Math.floor(ms / 1000);
const SECRET = 'an-hmac-secret-of-at-least-32-characters!';
const hmacJwt: JwtConfig = {
  secret: SECRET,
  issuer: 'https://idp.example',
  audience: 'hoist',
  algorithms: ['HS256'],
  userClaim: 'sub',
  clockToleranceSeconds: 30,
};

const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });

function sign(claims: Record<string, unknown>, options: { secret?: string; exp?: number } = {}) {
  return new SignJWT({ iss: 'https://idp.example', aud: 'hoist', sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt(secs(NOW))
    .setExpirationTime(options.exp ?? secs(NOW) + 300)
    .sign(new TextEncoder().encode(options.secret ?? SECRET));
}

async function rejects(promise: Promise<unknown>, reason: RegExp, secret?: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BrokerProblem);
    assert.equal(error.type, 'unauthorized');
    assert.equal(error.status, 401);
    assert.match(error.message, reason);
    if (secret) assert.ok(!error.message.includes(secret));
    return true;
  });
}

test('static tokens: right token gives the user, wrong token is refused, no header is anonymous', async () => {
  const auth = createAuthenticator({ tokens: { alice: 'tok-alice-1', bob: 'tok:bob/2=' } });
  assert.deepEqual(await auth.authenticate(bearer('tok-alice-1')), { id: 'alice' });
  assert.deepEqual(await auth.authenticate(new Headers({ authorization: 'bearer tok:bob/2=' })), {
    id: 'bob',
  });
  await rejects(auth.authenticate(bearer('tok-alice-2')), /unknown token/, 'tok-alice-2');
  await rejects(auth.authenticate(bearer('tok-alice-1x')), /unknown token/);
  await rejects(auth.authenticate(new Headers({ authorization: 'Basic dXNlcjpwYXNz' })), /Bearer/);
  assert.equal(await auth.authenticate(new Headers()), undefined);
});

test('createAuthenticator refuses an empty configuration', () => {
  assert.throws(() => createAuthenticator({}), TypeError);
});

test('JWT HS256: a valid token gives the user and its claims', async () => {
  const auth = createAuthenticator({ jwt: hmacJwt }, { now });
  const user = await auth.authenticate(bearer(await sign({ role: 'editor' })));
  assert.equal(user?.id, 'alice');
  assert.equal(user?.claims?.role, 'editor');
});

test('JWT: a wrong signature is refused', async () => {
  const auth = createAuthenticator({ jwt: hmacJwt }, { now });
  const token = await sign({}, { secret: 'another-secret-that-is-32-characters-long' });
  await rejects(auth.authenticate(bearer(token)), /signature/, token);
});

test('JWT: alg "none" is refused', async () => {
  const auth = createAuthenticator({ jwt: hmacJwt }, { now });
  const json = (value: unknown) => base64url.encode(JSON.stringify(value));
  const payload = { iss: 'https://idp.example', aud: 'hoist', sub: 'alice', exp: secs(NOW) + 300 };
  const unsigned = `${json({ alg: 'none', typ: 'JWT' })}.${json(payload)}.`;
  await rejects(auth.authenticate(bearer(unsigned)), /algorithm not allowed/);
  await rejects(
    auth.authenticate(bearer(`${json({ alg: 'NONE' })}.${json(payload)}.`)),
    /algorithm not allowed/,
  );
});

test('JWT: wrong issuer, wrong audience, expired, not yet valid, no expiry are refused', async () => {
  const auth = createAuthenticator({ jwt: hmacJwt }, { now });
  await rejects(auth.authenticate(bearer(await sign({ iss: 'https://evil.example' }))), /issuer/);
  await rejects(auth.authenticate(bearer(await sign({ aud: 'other-app' }))), /audience/);
  await rejects(auth.authenticate(bearer(await sign({}, { exp: secs(NOW) - 31 }))), /expired/);
  await rejects(auth.authenticate(bearer(await sign({ nbf: secs(NOW) + 60 }))), /not yet valid/);
  const noExp = await new SignJWT({ iss: 'https://idp.example', aud: 'hoist', sub: 'alice' })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET));
  await rejects(auth.authenticate(bearer(noExp)), /expiry/);
});

test('JWT: expiry honours the clock tolerance and the injected clock', async () => {
  const token = await sign({}, { exp: secs(NOW) - 10 });
  assert.equal(
    (await createAuthenticator({ jwt: hmacJwt }, { now }).authenticate(bearer(token)))?.id,
    'alice',
  );
  const later = createAuthenticator({ jwt: hmacJwt }, { now: () => NOW + 3_600_000 });
  await rejects(later.authenticate(bearer(await sign({}))), /expired/);
});

test('JWT: missing or unusable user claim is refused', async () => {
  const auth = createAuthenticator({ jwt: hmacJwt }, { now });
  await rejects(auth.authenticate(bearer(await sign({ sub: undefined }))), /no "sub" claim/);
  await rejects(auth.authenticate(bearer(await sign({ sub: 'alice/../bob' }))), /not a valid user id/);
  await rejects(auth.authenticate(bearer(await sign({ sub: 'a'.repeat(129) }))), /not a valid user id/);
  await rejects(auth.authenticate(bearer(await sign({ sub: 42 }))), /not a valid user id/);
  const byEmail = createAuthenticator({ jwt: { ...hmacJwt, userClaim: 'email' } }, { now });
  assert.equal((await byEmail.authenticate(bearer(await sign({ email: 'a.b+c@x.io' }))))?.id, 'a.b+c@x.io');
});

test('JWT RS256 via a JWKS served over HTTP; HS256 and foreign algorithms refused', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  server.keepAliveTimeout = 0;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const config: JwtConfig = {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    issuer: 'https://idp.example',
    audience: ['hoist', 'hoist-admin'],
    algorithms: ['RS256', 'ES256'],
    userClaim: 'sub',
    clockToleranceSeconds: 30,
  };
  const auth = createAuthenticator({ jwt: config }, { now });
  const rs = (claims: Record<string, unknown>) =>
    new SignJWT({ iss: 'https://idp.example', aud: 'hoist', sub: 'carol', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime(secs(NOW) + 300)
      .sign(privateKey);
  assert.equal((await auth.authenticate(bearer(await rs({}))))?.id, 'carol');
  assert.equal((await auth.authenticate(bearer(await rs({ aud: 'hoist-admin' }))))?.id, 'carol');
  await rejects(auth.authenticate(bearer(await rs({ iss: 'https://other.example' }))), /issuer/);
  await rejects(auth.authenticate(bearer(await rs({ aud: 'someone-else' }))), /audience/);
  // An HS256 token (e.g. signed with the public key as HMAC secret) is refused by the allow-list.
  await rejects(auth.authenticate(bearer(await sign({}))), /algorithm not allowed/);
  const other = await generateKeyPair('RS256');
  const forged = await new SignJWT({ iss: 'https://idp.example', aud: 'hoist', sub: 'carol' })
    .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
    .setExpirationTime(secs(NOW) + 300)
    .sign(other.privateKey);
  await rejects(auth.authenticate(bearer(forged)), /signature/);
  assert.ok(fetches >= 1);

  // The fetch option is used for the JWKS.
  let custom = 0;
  const viaFetch = createAuthenticator(
    { jwt: config },
    {
      now,
      fetch: (input, init) => {
        custom++;
        return fetch(input, init);
      },
    },
  );
  assert.equal((await viaFetch.authenticate(bearer(await rs({}))))?.id, 'carol');
  assert.equal(custom, 1);
});

test('JWKS unreachable is an upstream error, not a 401', async () => {
  const auth = createAuthenticator(
    {
      jwt: {
        jwksUrl: 'http://127.0.0.1:9/jwks',
        algorithms: ['RS256'],
        userClaim: 'sub',
        clockToleranceSeconds: 30,
      },
    },
    { now, fetch: () => Promise.reject(new Error('connection refused')) },
  );
  const { privateKey } = await generateKeyPair('RS256');
  const token = await new SignJWT({ sub: 'x' })
    .setProtectedHeader({ alg: 'RS256' })
    .setExpirationTime(secs(NOW) + 60)
    .sign(privateKey);
  await assert.rejects(auth.authenticate(bearer(token)), (error: unknown) => {
    assert.ok(error instanceof BrokerProblem);
    assert.equal(error.type, 'upstream-error');
    return true;
  });
});

test('static tokens and JWT together; the custom hook is tried first', async () => {
  const auth = createAuthenticator(
    { tokens: { dev: 'dev-token' }, jwt: hmacJwt },
    {
      now,
      custom: async (headers) => (headers.get('x-app-session') === 's1' ? { id: 'session-user' } : undefined),
    },
  );
  assert.deepEqual(await auth.authenticate(new Headers({ 'x-app-session': 's1' })), { id: 'session-user' });
  assert.deepEqual(await auth.authenticate(bearer('dev-token')), { id: 'dev' });
  assert.equal((await auth.authenticate(bearer(await sign({}))))?.id, 'alice');
  await rejects(auth.authenticate(bearer('nope')), /unknown token/);
  const onlyCustom = createAuthenticator({}, { custom: async () => ({ id: 'bad id/with slash' }) });
  await assert.rejects(onlyCustom.authenticate(new Headers()), TypeError);
});
