import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { UploadProgress } from '@hoist/client/internal/types';
import {
  brokerTarget,
  checkContentType,
  configFlags,
  parseConcurrency,
  parsePartSize,
  parseSizeFlag,
  UsageError,
} from './broker-args.ts';
import { defaultStateFile } from './commands/upload.ts';
import { fitWidth, formatBytes, formatDuration } from './format.ts';
import { type FileEntry, jsonReporter } from './upload-output.ts';

const MiB = 1024 * 1024;

describe('hoist upload: argument helpers', () => {
  test('part sizes: binary, decimal (rounded up to whole MiB) and bytes', () => {
    assert.equal(parsePartSize('16MiB'), 16 * MiB);
    assert.equal(parsePartSize('8MB'), 8 * MiB);
    assert.equal(parsePartSize(String(5 * MiB)), 5 * MiB);
    assert.equal(parsePartSize(String(5 * MiB + 1)), 6 * MiB);
    for (const bad of ['4MiB', '6GiB', 'lots', '-5MiB', ''])
      assert.throws(() => parsePartSize(bad), UsageError, bad);
  });

  test('part sizes, sizes, concurrency and content types follow the protocol rules, with clear errors', () => {
    assert.equal(parsePartSize('8 MiB'), 8 * MiB);
    assert.throws(() => parsePartSize('4MiB'), {
      name: 'UsageError',
      message: /--part-size must be at least 5 MiB/,
    });
    assert.throws(() => parsePartSize('6GiB'), {
      name: 'UsageError',
      message: /--part-size must be at most 5 GiB/,
    });
    assert.throws(() => parsePartSize('lots'), { name: 'UsageError', message: /--part-size must be a size/ });
    assert.equal(parseSizeFlag('--max-size', '20MiB'), 20 * MiB);
    assert.equal(parseSizeFlag('--max-size', '1GB'), 1e9);
    assert.throws(() => parseSizeFlag('--max-size', '20 parsecs'), {
      name: 'UsageError',
      message: /^--max-size must be a number of bytes or a size such as 8MiB/,
    });
    assert.equal(parseConcurrency('64'), 64);
    for (const bad of ['0', '65', '1.5', 'four', ''])
      assert.throws(() => parseConcurrency(bad), {
        name: 'UsageError',
        message: /^--concurrency must be an integer from 1 to 64, got/,
      });
    assert.equal(checkContentType('text/plain; charset=utf-8'), 'text/plain; charset=utf-8');
    for (const bad of ['video/*', 'text/plain\r\nx: 1'])
      assert.throws(() => checkContentType(bad), {
        name: 'UsageError',
        message: /^--content-type must be a media type such as video\/mp4/,
      });
  });

  test('flags that set broker config fields name the field and the flag', () => {
    assert.deepEqual(configFlags({ port: '0', config: 'x.json' }, { port: 'port', host: 'host' }), [
      { path: 'port', name: '--port', value: '0' },
    ]);
  });

  test('broker URL and token come from the flags, else the environment', () => {
    const env = { HOIST_BROKER_URL: 'https://env.example/api/', HOIST_TOKEN: 'env-token' };
    assert.deepEqual(brokerTarget({}, env), { brokerUrl: 'https://env.example/api', token: 'env-token' });
    assert.deepEqual(brokerTarget({ broker: 'http://127.0.0.1:8080//', token: 'flag' }, env), {
      brokerUrl: 'http://127.0.0.1:8080',
      token: 'flag',
    });
    assert.throws(() => brokerTarget({}, {}), /--broker URL is required/);
    assert.throws(() => brokerTarget({ broker: 'ftp://x' }, {}), UsageError);
    assert.throws(
      () => brokerTarget({ broker: 'https://user:s3cret@x.example' }, {}),
      (error: Error) => error instanceof UsageError && !error.message.includes('s3cret'),
    );
  });

  test('content types are checked like the engine checks them', () => {
    assert.equal(checkContentType('video/mp4'), 'video/mp4');
    assert.equal(checkContentType(undefined), undefined);
    assert.throws(() => checkContentType('mp4'), UsageError);
  });

  test('the state file follows XDG_STATE_HOME when it is absolute', () => {
    assert.equal(defaultStateFile({ XDG_STATE_HOME: '/var/state' }), '/var/state/hoist/uploads.json');
    assert.match(defaultStateFile({ XDG_STATE_HOME: 'relative' }), /\/\.local\/state\/hoist\/uploads\.json$/);
  });
});

describe('hoist upload: output', () => {
  test('sizes, durations and names for people', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(48 * MiB), '48.0 MiB');
    assert.equal(formatBytes(200 * MiB), '200 MiB');
    assert.equal(formatDuration(null), '–');
    assert.equal(formatDuration(7.4), '7s');
    assert.equal(formatDuration(185), '3m05s');
    assert.equal(formatDuration(8040), '2h14m');
    assert.equal(fitWidth('a.bin', 8), 'a.bin   ');
    const fitted = fitWidth('a-very-long-file-name.mp4', 12);
    assert.equal(fitted.length, 12);
    assert.ok(fitted.endsWith('.mp4') && fitted.includes('…'));
  });

  test('--json: one object per line, progress at most twice a second, failures also on stderr', () => {
    const out: string[] = [];
    const err: string[] = [];
    let now = 0;
    const reporter = jsonReporter(
      (text) => out.push(text),
      (text) => err.push(text),
      () => now,
    );
    const file: FileEntry = { path: 'a.bin', absolute: '/tmp/a.bin', size: 10 };
    const progress: UploadProgress = {
      totalBytes: 10,
      confirmedBytes: 5,
      inFlightBytes: 1,
      fraction: 0.6,
      bytesPerSecond: 3,
      etaSeconds: 2,
    };
    for (const at of [0, 100, 499, 500, 700, 1000]) {
      now = at;
      reporter.progress(file, progress);
    }
    reporter.failed(file, { code: 'network', message: 'reset\nby peer' });
    const events = out.map((line) => {
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'));
      return JSON.parse(line);
    });
    assert.equal(events.filter((e) => e.event === 'progress').length, 3);
    assert.deepEqual(events.at(-1), {
      event: 'failed',
      file: 'a.bin',
      code: 'network',
      message: 'reset\nby peer',
    });
    assert.deepEqual(err, ['hoist: a.bin: reset by peer (network)\n']);
  });
});
