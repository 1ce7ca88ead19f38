import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BrokerProblem } from '../errors.ts';
import type { Authenticator } from '../types.ts';
import { createCookieAuthenticator, crossSiteReason, readCookie, sessionCookie } from './cookie-auth.ts';

const APP = 'https://app.example.com';
const tokens: Authenticator = {
  async authenticate(headers) {
    return headers.get('authorization') === 'Bearer t;1' ? { id: 'alice' } : undefined;
  },
};

test('readCookie finds the named cookie, decoded, and nothing else', () => {
  assert.equal(readCookie('a=1; hoist_token=t%3B1; b=2', 'hoist_token'), 't;1');
  assert.equal(readCookie('xhoist_token=1', 'hoist_token'), undefined);
  assert.equal(readCookie('hoist_token=', 'hoist_token'), undefined);
  assert.equal(readCookie('hoist_token=%E0%A4%A', 'hoist_token'), undefined, 'bad encoding');
  assert.equal(readCookie(null, 'hoist_token'), undefined);
});

test('crossSiteReason allows only listed origins, or same-origin fetches without Origin', () => {
  const allowed = new Set([APP]);
  assert.equal(crossSiteReason(new Headers({ origin: APP }), allowed), undefined);
  assert.match(
    crossSiteReason(new Headers({ origin: 'https://evil.example' }), allowed) ?? '',
    /not allowed/,
  );
  assert.match(crossSiteReason(new Headers({ origin: 'null' }), allowed) ?? '', /not allowed/);
  assert.equal(crossSiteReason(new Headers({ 'sec-fetch-site': 'same-origin' }), allowed), undefined);
  assert.ok(crossSiteReason(new Headers({ 'sec-fetch-site': 'same-site' }), allowed));
  assert.ok(crossSiteReason(new Headers(), allowed), 'no browser headers at all');
});

test('the cookie authenticator: bearer first, the cookie only from an allowed page, "*" never counts', async () => {
  const auth = createCookieAuthenticator(tokens, { cookieName: 'c', allowedOrigins: [APP, '*'] });
  assert.deepEqual(await auth(new Headers({ authorization: 'Bearer t;1' })), { id: 'alice' });
  assert.deepEqual(await auth(new Headers({ cookie: 'c=t%3B1', origin: APP })), { id: 'alice' });
  assert.equal(await auth(new Headers({ cookie: 'c=wrong', origin: APP })), undefined);
  assert.equal(await auth(new Headers({ origin: APP })), undefined, 'no cookie: not signed in');
  await assert.rejects(
    auth(new Headers({ cookie: 'c=t%3B1', origin: 'https://other.example' })),
    (error: unknown) => error instanceof BrokerProblem && error.type === 'forbidden',
  );
});

test('sessionCookie is HttpOnly and SameSite=Strict, Secure over HTTPS, and clears with Max-Age=0', () => {
  assert.equal(sessionCookie('c', 't;1', false), 'c=t%3B1; Path=/; HttpOnly; SameSite=Strict');
  assert.equal(sessionCookie('c', 't', true), 'c=t; Path=/; HttpOnly; SameSite=Strict; Secure');
  assert.equal(
    sessionCookie('c', undefined, true),
    'c=; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age=0',
  );
});
