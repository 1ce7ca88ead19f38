import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type RowState, rowButtons, rowText } from './row-view.ts';

const MB = 1_000_000;
const idle = { fraction: 0, bytesPerSecond: 0, etaSeconds: null };

describe('row view', () => {
  test('uploading: bar value and spoken text with speed and time left', () => {
    const text = rowText(
      'uploading',
      { fraction: 0.42, bytesPerSecond: 12.3 * MB, etaSeconds: 8 },
      100 * MB,
      'a.mp4',
    );
    assert.deepEqual(text, {
      fraction: 0.42,
      valueNow: 42,
      valueText: '42% — 12.3 MB/s, 8 s left',
      status: '42.0 MB of 100 MB',
      speed: '12.3 MB/s',
      eta: '8 s left',
    });
  });

  test('no speed or ETA shown unless sending', () => {
    const paused = rowText('paused', { fraction: 0.5, bytesPerSecond: 9 * MB, etaSeconds: 3 }, 10 * MB, 'a');
    assert.equal(paused.status, 'Paused at 5.00 MB of 10.0 MB');
    assert.equal(paused.valueText, '50% — paused');
    assert.equal(paused.speed, '');
    assert.equal(paused.eta, '');
  });

  test('a stored upload waits for its file; completed is 100 whatever the last progress said', () => {
    assert.equal(
      rowText('waiting', { ...idle, fraction: 0.33 }, 6, 'data.csv').status,
      'Paused — pick data.csv again to resume',
    );
    const done = rowText('completed', { ...idle, fraction: 0.97 }, 2 * MB, 'a');
    assert.equal(done.valueNow, 100);
    assert.equal(done.fraction, 1);
    assert.equal(done.status, 'Uploaded — 2.00 MB');
  });

  test('buttons offered per state', () => {
    const offered = (state: RowState, retryable = false) =>
      Object.entries(rowButtons(state, retryable))
        .filter(([, on]) => on)
        .map(([name, on]) => (typeof on === 'string' ? on : name))
        .join(' ');
    assert.equal(offered('uploading'), 'pause cancel');
    assert.equal(offered('paused'), 'resume cancel');
    assert.equal(offered('completing'), 'pause toggleDisabled');
    assert.equal(offered('waiting'), 'pick cancel');
    assert.equal(offered('failed', true), 'retry cancel');
    assert.equal(offered('failed', false), 'cancel');
    assert.equal(offered('refused'), 'dismiss');
    assert.equal(offered('completed'), 'dismiss');
  });
});
