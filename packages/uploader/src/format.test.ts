import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeBrokerUrl, parseConcurrency, parseMaxSize, parsePartSize } from './config.ts';
import { formatBytes, formatDuration, parseSize, percent, progressText } from './format.ts';

const MiB = 1024 * 1024;

describe('format', () => {
  test('bytes in decimal units, three significant digits at most', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1024), '1.02 kB');
    assert.equal(formatBytes(150 * MiB), '157 MB');
    assert.equal(formatBytes(12_345_678), '12.3 MB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.37 GB');
    assert.equal(formatBytes(999_999), '1.00 MB');
    assert.equal(formatBytes(-1), '—');
  });

  test('durations round up and read short', () => {
    assert.equal(formatDuration(0.2), '1 s');
    assert.equal(formatDuration(8), '8 s');
    assert.equal(formatDuration(125), '2 min 5 s');
    assert.equal(formatDuration(120), '2 min');
    assert.equal(formatDuration(4320), '1 h 12 min');
  });

  test('percent reaches 100 only when done', () => {
    assert.equal(percent(0), 0);
    assert.equal(percent(0.999), 99);
    assert.equal(percent(1), 100);
    assert.equal(percent(0.42), 42);
    assert.equal(percent(Number.NaN), 0);
  });

  test('progress text: percent, then speed and time left once measured', () => {
    assert.equal(progressText({ fraction: 0.42, bytesPerSecond: 0, etaSeconds: null }), '42%');
    assert.equal(
      progressText({ fraction: 0.42, bytesPerSecond: 12_300_000, etaSeconds: 8 }),
      '42% — 12.3 MB/s, 8 s left',
    );
    assert.equal(progressText({ fraction: 0.5, bytesPerSecond: 2000, etaSeconds: null }), '50% — 2.00 kB/s');
  });

  test('sizes as the broker config reads them', () => {
    assert.equal(parseSize('5GiB'), 5 * 1024 ** 3);
    assert.equal(parseSize('500 MB'), 500_000_000);
    assert.equal(parseSize('1024'), 1024);
    assert.equal(parseSize('1.5MiB'), 1.5 * MiB);
    assert.equal(parseSize('5 parsecs'), undefined);
    assert.equal(parseSize('-1'), undefined);
    assert.equal(parseSize(''), undefined);
  });
});

describe('config', () => {
  test('broker URL without trailing slash, as the engine writes it in resume records', () => {
    assert.equal(normalizeBrokerUrl('http://127.0.0.1:8787/'), 'http://127.0.0.1:8787');
    assert.equal(normalizeBrokerUrl('https://app.example/api/hoist/'), 'https://app.example/api/hoist');
    assert.throws(() => normalizeBrokerUrl('ftp://x'), { name: 'TypeError', message: /broker-url/ });
    assert.throws(() => normalizeBrokerUrl('not a url'), { name: 'TypeError', message: /broker-url/ });
  });

  test('each attribute is checked and named in the error', () => {
    assert.equal(parseConcurrency('6'), 6);
    assert.equal(parseConcurrency(null), undefined);
    assert.throws(() => parseConcurrency('0'), { name: 'TypeError', message: /concurrency/ });
    assert.throws(() => parseConcurrency(2.5), { name: 'TypeError', message: /concurrency/ });
    assert.equal(parseMaxSize('5GiB'), 5 * 1024 ** 3);
    assert.equal(parseMaxSize(1000), 1000);
    assert.equal(parseMaxSize(''), undefined);
    assert.throws(() => parseMaxSize('big'), { name: 'TypeError', message: /max-size/ });
    assert.equal(parsePartSize('8MiB'), 8 * MiB);
    assert.throws(() => parsePartSize('4MiB'), { name: 'TypeError', message: /part-size/ });
    assert.throws(() => parsePartSize(8 * MiB + 1), { name: 'TypeError', message: /part-size/ });
  });

  test('sizes read like the CLI and the broker read them: 8MB, 8MiB, 8 MiB and bytes', () => {
    // Text is rounded up to whole MiB, as `hoist upload --part-size 8MB` is; a number must be exact.
    assert.equal(parsePartSize('8MB'), 8 * MiB);
    assert.equal(parsePartSize('8 MiB'), 8 * MiB);
    assert.equal(parsePartSize(String(8 * MiB)), 8 * MiB);
    assert.equal(parseMaxSize('8MB'), 8_000_000);
    assert.equal(parseMaxSize('8 MiB'), 8 * MiB);
    assert.throws(() => parsePartSize('6GiB'), {
      name: 'TypeError',
      message: 'hoist-uploader: part-size must be at most 5 GiB (whole MiB from 5MiB to 5GiB), got 6GiB',
    });
    assert.throws(() => parsePartSize('lots'), {
      name: 'TypeError',
      message: /^hoist-uploader: part-size must be a number of bytes or a size such as 8MiB/,
    });
    assert.throws(() => parseMaxSize('1.5B'), {
      name: 'TypeError',
      message: /^hoist-uploader: max-size must be/,
    });
    assert.throws(() => parseConcurrency('65'), {
      name: 'TypeError',
      message: 'hoist-uploader: concurrency must be an integer from 1 to 64, got 65',
    });
  });
});
