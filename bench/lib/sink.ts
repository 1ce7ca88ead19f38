/**
 * The plain node:http servers the S3 servers are measured against. They ignore
 * auth and S3 semantics but store the same bytes with the same durability as
 * Hoist's server: each PUT body goes to a new file that is fdatasync'ed, closed,
 * and its directory entry fsync'ed before the 200 is sent.
 *
 * - `ceiling`: as cheap as we can honestly make it. Received chunks are never
 *   copied: they are gathered into ~WRITE_BYTES batches and written with one
 *   positional writev each, up to MAX_IN_FLIGHT batches at once while the socket
 *   keeps being read (the request is paused beyond that), with a background
 *   fdatasync every SYNC_EVERY bytes so the disk works while the body arrives.
 *   GET streams the file with READ_BYTES reads.
 * - `naive`: `req.pipe(fs.createWriteStream())` then fdatasync; GET is
 *   `fs.createReadStream().pipe(res)` with default buffer sizes.
 *
 * Multipart is modelled as PUTs with `?partNumber=N`, each to its own file; a GET
 * of the key without a query streams the key's file, or else its part files in
 * order. Nothing "completes": no work is the cheapest possible completion.
 */
import { once } from 'node:events';
import { close, createReadStream, createWriteStream, fdatasync, fsync, open, unlink, writev } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';

export type SinkMode = 'ceiling' | 'naive';

const WRITE_BYTES = 4 * 1024 * 1024;
const MAX_IN_FLIGHT = 3;
/**
 * Start writeback early: with default dirty-page limits (10% of RAM) a 1 GiB body
 * stays dirty until the final fdatasync, which then writes it all while the
 * socket sits idle. An fdatasync every SYNC_EVERY bytes (one at a time, in the
 * background) overlaps the disk writes with receiving; on this machine that took
 * a plain 1 GiB write + fdatasync from ~0.3–0.45 to ~0.5–0.57 GB/s.
 */
const SYNC_EVERY = 16 * 1024 * 1024;
const READ_BYTES = 4 * 1024 * 1024;

type Done = (error: Error | null) => void;

/** fsync of a directory, so a new entry in it survives a power loss (as Hoist does). */
function syncDir(dir: string, done: Done): void {
  open(dir, 'r', (error, fd) => {
    if (error) return done(error);
    fsync(fd, (syncError) => close(fd, (closeError) => done(syncError ?? closeError ?? null)));
  });
}

/** Positional writev of `buffers` (`length` bytes) at `position`, retrying short writes. */
function writevAll(fd: number, buffers: Buffer[], length: number, position: number, done: Done): void {
  writev(fd, buffers, position, (error, written) => {
    if (error) return done(error);
    if (written === length) return done(null);
    let skip = written;
    const rest: Buffer[] = [];
    for (const buffer of buffers) {
      if (skip >= buffer.length) skip -= buffer.length;
      else {
        rest.push(skip > 0 ? buffer.subarray(skip) : buffer);
        skip = 0;
      }
    }
    writevAll(fd, rest, length - written, position + written, done);
  });
}

/** Receives the body into `path` with coalesced, overlapping writes; durable when `done(null)`. */
function receiveCeiling(req: IncomingMessage, path: string, dir: string, done: Done): void {
  open(path, 'wx', (openError, fd) => {
    if (openError) {
      req.resume();
      return done(openError);
    }
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let position = 0;
    let inFlight = 0;
    let ended = false;
    let failed: Error | undefined;
    let finished = false;
    let syncing = false;
    let unsynced = 0;
    const finish = (): void => {
      if (finished || inFlight > 0 || syncing || !(ended || failed)) return;
      finished = true;
      if (failed) {
        const error = failed;
        close(fd, () => unlink(path, () => done(error)));
        return;
      }
      fdatasync(fd, (syncError) =>
        close(fd, (closeError) => {
          const error = syncError ?? closeError;
          if (error) return done(error);
          syncDir(dir, done);
        }),
      );
    };
    const flush = (): void => {
      const buffers = batch;
      const length = batchBytes;
      const at = position;
      batch = [];
      batchBytes = 0;
      position += length;
      inFlight++;
      writevAll(fd, buffers, length, at, (error) => {
        inFlight--;
        if (error) failed ??= error;
        unsynced += length;
        if (unsynced >= SYNC_EVERY && !syncing && !ended && !failed) {
          syncing = true;
          unsynced = 0;
          fdatasync(fd, (syncError) => {
            syncing = false;
            if (syncError) failed ??= syncError;
            finish();
          });
        }
        if (inFlight < MAX_IN_FLIGHT && req.isPaused() && !failed) req.resume();
        finish();
      });
      if (inFlight >= MAX_IN_FLIGHT) req.pause();
    };
    req.on('data', (chunk: Buffer) => {
      // Chunks from the HTTP parser are slices of per-read buffers that are never reused: safe to keep.
      batch.push(chunk);
      batchBytes += chunk.length;
      if (batchBytes >= WRITE_BYTES) flush();
    });
    req.on('end', () => {
      if (batchBytes > 0) flush();
      ended = true;
      finish();
    });
    req.on('error', (error) => {
      failed ??= error;
      finish();
    });
  });
}

function receiveNaive(req: IncomingMessage, path: string, dir: string, done: Done): void {
  open(path, 'wx', (openError, fd) => {
    if (openError) {
      req.resume();
      return done(openError);
    }
    const out = createWriteStream('', { fd, autoClose: false });
    req.pipe(out);
    out.on('error', (error) => close(fd, () => done(error)));
    out.on('finish', () =>
      fdatasync(fd, (syncError) =>
        close(fd, (closeError) => {
          const error = syncError ?? closeError;
          if (error) return done(error);
          syncDir(dir, done);
        }),
      ),
    );
  });
}

async function sendFiles(res: ServerResponse, paths: string[], mode: SinkMode): Promise<void> {
  for (const path of paths) {
    const file = createReadStream(path, mode === 'ceiling' ? { highWaterMark: READ_BYTES } : {});
    if (mode === 'naive') {
      file.pipe(res, { end: false });
      await once(file, 'end');
      continue;
    }
    for await (const chunk of file as AsyncIterable<Buffer>) {
      if (!res.write(chunk)) await once(res, 'drain');
    }
  }
  res.end();
}

export interface SinkServer {
  server: Server;
  url: string;
}

export async function startSink(mode: SinkMode, dir: string): Promise<SinkServer> {
  /** `/bucket/key` or `/bucket/key#partNumber` → file. */
  const files = new Map<string, { path: string; size: number }>();
  let counter = 0;

  const reply = (res: ServerResponse, status: number, body = ''): void => {
    res.writeHead(status, { 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const key = q < 0 ? url : url.slice(0, q);
    const partNumber = q < 0 ? undefined : /(?:^|&)partNumber=(\d+)/.exec(url.slice(q + 1))?.[1];
    const entry = partNumber === undefined ? key : `${key}#${partNumber}`;

    if (req.method === 'PUT') {
      const path = join(dir, `${++counter}.bin`);
      const size = Number(req.headers['content-length']);
      const receive = mode === 'ceiling' ? receiveCeiling : receiveNaive;
      receive(req, path, dir, (error) => {
        if (error) return reply(res, 500, String(error));
        const previous = files.get(entry);
        files.set(entry, { path, size });
        if (previous) unlink(previous.path, () => {});
        reply(res, 200);
      });
      return;
    }
    if (req.method === 'GET') {
      let paths: { path: string; size: number }[] = [];
      const whole = files.get(entry);
      if (whole) paths = [whole];
      else if (partNumber === undefined) {
        paths = [...files.entries()]
          .filter(([name]) => name.startsWith(`${key}#`))
          .sort(([a], [b]) => Number(a.slice(key.length + 1)) - Number(b.slice(key.length + 1)))
          .map(([, file]) => file);
      }
      if (paths.length === 0) {
        reply(res, 404);
        return;
      }
      res.writeHead(200, { 'content-length': String(paths.reduce((sum, file) => sum + file.size, 0)) });
      sendFiles(
        res,
        paths.map((file) => file.path),
        mode,
      ).catch((error: unknown) => res.destroy(error as Error));
      return;
    }
    if (req.method === 'DELETE') {
      const doomed = [...files.entries()].filter(([name]) => name === key || name.startsWith(`${key}#`));
      let pending = doomed.length;
      if (pending === 0) {
        reply(res, 204);
        return;
      }
      for (const [name, file] of doomed) {
        files.delete(name);
        unlink(file.path, () => {
          if (--pending === 0) reply(res, 204);
        });
      }
      return;
    }
    req.resume();
    reply(res, 405);
  };

  const server = createServer({ requestTimeout: 0, keepAliveTimeout: 60_000 }, handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('sink: no TCP address');
  return { server, url: `http://127.0.0.1:${address.port}` };
}
