import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concurrencyProblem, MAX_CONCURRENCY } from './concurrency.ts';
import { GiB, MiB } from './limits.ts';
import { choosePartSize, partSizeFromText, partSizeProblem } from './part-size.ts';

test('part sizes: whole MiB from 5 MiB to 5 GiB, each refusal saying why', () => {
  assert.equal(partSizeProblem(5 * MiB), undefined);
  assert.equal(partSizeProblem(5 * GiB), undefined);
  assert.equal(partSizeProblem(4 * MiB), 'must be at least 5 MiB');
  assert.equal(partSizeProblem(5 * GiB + MiB), 'must be at most 5 GiB');
  assert.equal(partSizeProblem(5 * MiB + 1), 'must be a whole number of MiB');
  assert.equal(partSizeProblem(6.5 * MiB), 'must be a whole number of MiB');
  assert.equal(partSizeProblem(Number.NaN), 'must be a whole number of bytes');
  assert.equal(partSizeProblem('8MiB'), 'must be a whole number of bytes');
});

test('part sizes as text are rounded up to whole MiB: 8MB and 8MiB are both 8 MiB', () => {
  assert.equal(partSizeFromText('8MB'), 8 * MiB);
  assert.equal(partSizeFromText('8MiB'), 8 * MiB);
  assert.equal(partSizeFromText('8 MiB'), 8 * MiB);
  assert.equal(partSizeFromText(String(5 * MiB + 1)), 6 * MiB);
  assert.equal(partSizeFromText('4MiB'), 4 * MiB, 'in range or not is partSizeProblem’s to say');
  assert.equal(partSizeFromText('big'), undefined);
  // The rounded value is always a whole number of MiB, so only the bounds can refuse it.
  assert.equal(partSizeProblem(partSizeFromText('100MB')!), undefined);
  assert.equal(choosePartSize(1, partSizeFromText('16MB')), 16 * MiB);
});

test('concurrency: an integer from 1 to 64', () => {
  assert.equal(MAX_CONCURRENCY, 64);
  for (const good of [1, 4, 64]) assert.equal(concurrencyProblem(good), undefined);
  for (const bad of [0, 65, 1.5, -1, Number.NaN, '4', undefined])
    assert.equal(concurrencyProblem(bad), 'must be an integer from 1 to 64', String(bad));
  assert.equal(concurrencyProblem(4, 8), 'must be an integer from 8 to 64');
});
