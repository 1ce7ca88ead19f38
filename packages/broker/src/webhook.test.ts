import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import {
  createWebhookSender,
  signWebhook,
  verifyWebhookSignature,
  type WebhookSenderOptions,
} from './webhook.ts';

const SECRET = 'whsec-test-0123456789abcdef';
const NOW = 1_750_000_000_000;

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real receiver on 127.0.0.1; `respond` decides each answer (the nth request is 1-based). */
async function startReceiver(
  t: { after(fn: () => unknown): void },
  respond: (n: number, req: IncomingMessage, res: ServerResponse) => unknown = (_n, _req, res) =>
    res.writeHead(204).end(),
) {
  const received: Received[] = [];
  const arrivals: (() => void)[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
    for (const arrived of arrivals.splice(0)) arrived();
    await respond(received.length, req, res);
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/hoist`,
    received,
    /** Resolves once at least `count` requests have arrived. */
    async arrived(count: number) {
      while (received.length < count) await new Promise<void>((resolve) => arrivals.push(resolve));
    },
  };
}

function sender(url: string, overrides: Partial<WebhookSenderOptions> = {}) {
  const warnings: string[] = [];
  const webhook = createWebhookSender({
    url,
    secret: SECRET,
    clock: () => NOW,
    baseDelayMs: 1,
    random: () => 0,
    onWarning: (message) => warnings.push(message),
    ...overrides,
  });
  return { webhook, warnings };
}

describe('webhook sender', () => {
  it('POSTs a signed JSON event the receiver can verify', async (t) => {
    const receiver = await startReceiver(t);
    const { webhook, warnings } = sender(receiver.url);
    const id = webhook.send({
      type: 'upload.completed',
      data: { id: 'up_1', key: 'u/a/up_1/v.mp4', size: 42 },
    });
    assert.deepEqual(await webhook.close(), { undelivered: 0 });

    assert.equal(receiver.received.length, 1);
    const [{ headers, body }] = receiver.received as [Received];
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['x-hoist-event-id'], id);
    assert.equal(headers['x-hoist-timestamp'], String(NOW / 1000));
    assert.match(String(headers['x-hoist-signature']), /^v1=[0-9a-f]{64}$/);
    assert.ok(
      verifyWebhookSignature(
        SECRET,
        headers['x-hoist-timestamp'] as string,
        body,
        headers['x-hoist-signature'] as string,
        {
          now: NOW,
        },
      ),
    );
    assert.deepEqual(JSON.parse(body), {
      id,
      type: 'upload.completed',
      createdAt: new Date(NOW).toISOString(),
      data: { id: 'up_1', key: 'u/a/up_1/v.mp4', size: 42 },
    });
    assert.deepEqual(webhook.stats(), { queued: 0, inFlight: 0, delivered: 1, failed: 0, dropped: 0 });
    assert.deepEqual(warnings, []);
  });

  it('settle() waits for deliveries in flight (bounded) and keeps accepting events', async (t) => {
    let release: (() => void) | undefined;
    const receiver = await startReceiver(t, async (n, _req, res) => {
      // The second delivery hangs until released: settle must give up after its timeout.
      if (n === 2) await new Promise<void>((resolve) => (release = resolve));
      res.writeHead(204).end();
    });
    const { webhook } = sender(receiver.url);
    webhook.send({ type: 'upload.completed', data: { id: 'a' } });
    assert.deepEqual(await webhook.settle({ timeoutMs: 10_000 }), { pending: 0 });
    assert.equal(receiver.received.length, 1);
    assert.deepEqual(await webhook.settle(), { pending: 0 });

    webhook.send({ type: 'upload.completed', data: { id: 'b' } });
    await receiver.arrived(2);
    assert.deepEqual(await webhook.settle({ timeoutMs: 20 }), { pending: 1 });
    release?.();
    assert.deepEqual(await webhook.settle({ timeoutMs: 10_000 }), { pending: 0 });
    assert.equal(webhook.stats().delivered, 2);
    await webhook.close();
  });

  it('retries after a 500 and after a dropped connection, with the same event id', async (t) => {
    const receiver = await startReceiver(t, (n, req, res) => {
      if (n === 1) res.writeHead(500).end('boom');
      else if (n === 2) req.socket.destroy();
      else res.writeHead(200).end('ok');
    });
    const { webhook, warnings } = sender(receiver.url);
    const id = webhook.send({ type: 'upload.completed', data: {} });
    await webhook.close();
    assert.equal(receiver.received.length, 3);
    assert.deepEqual(
      receiver.received.map((r) => r.headers['x-hoist-event-id']),
      [id, id, id],
    );
    for (const { headers, body } of receiver.received) {
      assert.ok(
        verifyWebhookSignature(
          SECRET,
          headers['x-hoist-timestamp'] as string,
          body,
          headers['x-hoist-signature'] as string,
          { now: NOW },
        ),
      );
    }
    assert.equal(webhook.stats().delivered, 1);
    assert.deepEqual(warnings, []);
  });

  it('gives up after maxAttempts with a warning that carries no secret', async (t) => {
    const receiver = await startReceiver(t, (_n, _req, res) => res.writeHead(503).end());
    const { webhook, warnings } = sender(receiver.url, { maxAttempts: 3 });
    const id = webhook.send({ type: 'upload.completed', data: {} });
    await webhook.close();
    assert.equal(receiver.received.length, 3);
    assert.deepEqual(webhook.stats(), { queued: 0, inFlight: 0, delivered: 0, failed: 1, dropped: 0 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`${id}.*HTTP 503`));
    assert.doesNotMatch(warnings[0]!, new RegExp(SECRET));
  });

  it('send() returns before the delivery, which the API never waits for', async (t) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const receiver = await startReceiver(t, async (_n, _req, res) => {
      await gate;
      res.writeHead(204).end();
    });
    const { webhook } = sender(receiver.url);
    const id = webhook.send({ type: 'upload.completed', data: {} });
    assert.equal(typeof id, 'string', 'send() is synchronous: no promise to await');
    assert.equal(receiver.received.length, 0);
    await receiver.arrived(1);
    // The receiver holds the response: the delivery is still in flight, the caller long gone.
    assert.deepEqual(webhook.stats(), { queued: 0, inFlight: 1, delivered: 0, failed: 0, dropped: 0 });
    release();
    await webhook.close();
    assert.equal(webhook.stats().delivered, 1);
  });

  it('drops the oldest queued event past maxQueue, with a warning', async (t) => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const receiver = await startReceiver(t, async (_n, _req, res) => {
      await gate;
      res.writeHead(204).end();
    });
    const { webhook, warnings } = sender(receiver.url, { concurrency: 1, maxQueue: 2 });
    const ids = [1, 2, 3, 4].map((n) => webhook.send({ type: 'upload.completed', data: { n } }));
    assert.deepEqual(webhook.stats(), { queued: 2, inFlight: 1, delivered: 0, failed: 0, dropped: 1 });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`dropped event ${ids[1]}`));
    release();
    await webhook.close();
    assert.deepEqual(
      receiver.received.map((r) => r.headers['x-hoist-event-id']),
      [ids[0], ids[2], ids[3]],
    );
  });

  it('close() waits up to its timeout, then aborts what is still in flight', async (t) => {
    const receiver = await startReceiver(t, () => {
      // Never answers.
    });
    const { webhook, warnings } = sender(receiver.url);
    webhook.send({ type: 'upload.completed', data: {} });
    await receiver.arrived(1);
    assert.deepEqual(await webhook.close({ timeoutMs: 1 }), { undelivered: 1 });
    assert.deepEqual(webhook.stats(), { queued: 0, inFlight: 0, delivered: 0, failed: 1, dropped: 0 });
    assert.match(warnings.join('\n'), /sender closed/);
    webhook.send({ type: 'upload.completed', data: {} });
    assert.equal(webhook.stats().dropped, 1, 'events sent after close are dropped, not thrown');
  });

  it('validates its options and events, naming the field', () => {
    assert.throws(() => createWebhookSender({ url: 'ftp://x', secret: SECRET }), /url/);
    assert.throws(() => createWebhookSender({ url: 'http://x', secret: 'short' }), /secret/);
    assert.throws(
      () => createWebhookSender({ url: 'http://x', secret: SECRET, maxAttempts: 0 }),
      /maxAttempts/,
    );
    assert.throws(() => createWebhookSender({ url: 'http://x', secret: SECRET, clock: 1 as never }), /clock/);
    const { webhook } = sender('http://127.0.0.1:9/');
    assert.throws(() => webhook.send({ type: '', data: {} }), { name: 'TypeError', message: /event\.type/ });
    assert.throws(() => webhook.send({ type: 'x', data: [] as never }), /event\.data/);
  });
});

describe('verifyWebhookSignature', () => {
  const body = JSON.stringify({ id: 'e1', type: 'upload.completed', data: { size: 1 } });
  const ts = String(NOW / 1000);
  const header = signWebhook(SECRET, ts, body);

  it('accepts the genuine signature, also among rotated ones and as bytes', () => {
    assert.ok(verifyWebhookSignature(SECRET, ts, body, header, { now: NOW }));
    assert.ok(verifyWebhookSignature(SECRET, ts, Buffer.from(body), header, { now: NOW }));
    const rotated = `${signWebhook('an-older-secret-000000', ts, body)}, ${header}`;
    assert.ok(verifyWebhookSignature(SECRET, ts, body, rotated, { now: NOW }));
    assert.ok(
      verifyWebhookSignature(SECRET, ts, body, header.toUpperCase().replace('V1=', 'v1='), { now: NOW }),
    );
    assert.ok(
      verifyWebhookSignature(SECRET, ts, body, header, { now: NOW + 299_000 }),
      'within the tolerance',
    );
  });

  it('refuses a tampered body, timestamp or signature, another secret, and old or future timestamps', () => {
    assert.equal(verifyWebhookSignature(SECRET, ts, body.replace('1', '2'), header, { now: NOW }), false);
    assert.equal(verifyWebhookSignature(SECRET, String(NOW / 1000 + 1), body, header, { now: NOW }), false);
    const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
    assert.equal(verifyWebhookSignature(SECRET, ts, body, flipped, { now: NOW }), false);
    assert.equal(verifyWebhookSignature('another-secret-0123456', ts, body, header, { now: NOW }), false);
    assert.equal(
      verifyWebhookSignature(SECRET, ts, body, header, { now: NOW + 301_000 }),
      false,
      'replayed later',
    );
    assert.equal(
      verifyWebhookSignature(SECRET, ts, body, header, { now: NOW - 301_000 }),
      false,
      'from the future',
    );
    assert.equal(
      verifyWebhookSignature(SECRET, ts, body, header, { now: NOW + 3_600_000, toleranceSeconds: 3600 }),
      true,
    );
  });

  it('refuses malformed input without throwing', () => {
    for (const [timestamp, value] of [
      [undefined, header],
      ['', header],
      ['12.5', header],
      [ts, undefined],
      [ts, ''],
      [ts, 'v0=abc'],
      [ts, header.slice(3)],
      [ts, `v1=${'z'.repeat(64)}`],
      [ts, `${header}x`],
      [ts, 'v1='.padEnd(2000, 'a')],
    ] as const) {
      assert.equal(verifyWebhookSignature(SECRET, timestamp, body, value, { now: NOW }), false);
    }
    assert.throws(() => verifyWebhookSignature('', ts, body, header), /secret/);
  });
});
