import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { REASON_HEADER, reasonPhrasesFor, toReasonPhrase } from './reason-phrase.ts';

test('toReasonPhrase keeps visible ASCII on one line, at most 200 characters', () => {
  assert.equal(toReasonPhrase('Too\r\nlarge: «5 GiB»'), 'Too large: 5 GiB');
  assert.equal(toReasonPhrase('x'.repeat(300)).length, 200);
});

test('a server given reasonPhrasesFor sends x-hoist-reason as the status line', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/plain') res.writeHead(413, { 'content-type': 'text/plain' }).end();
    else res.writeHead(413, { [REASON_HEADER]: 'This file is larger than your 5 GiB limit' }).end();
  });
  reasonPhrasesFor(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  assert.equal((await fetch(`${base}/reason`)).statusText, 'This file is larger than your 5 GiB limit');
  assert.equal((await fetch(`${base}/plain`)).statusText, 'Payload Too Large');
});
