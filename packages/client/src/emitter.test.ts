import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { Emitter } from './emitter.ts';

interface Events {
  progress: { fraction: number };
  state: { state: string };
}

/**
 * Runs `fn` with node:test's uncaught-exception handler swapped for a collector, so an error the
 * emitter reports asynchronously is checked here instead of failing the test run.
 */
async function collectUncaught(fn: () => void): Promise<unknown[]> {
  const saved = process.listeners('uncaughtException');
  const caught: unknown[] = [];
  const collect = (error: unknown) => caught.push(error);
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', collect);
  try {
    fn();
    await tick();
  } finally {
    process.off('uncaughtException', collect);
    for (const listener of saved) process.on('uncaughtException', listener);
  }
  return caught;
}

describe('Emitter', () => {
  test('calls every listener of the event, in order, with the event', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    emitter.on('progress', (e) => calls.push(`a:${e.fraction}`));
    emitter.on('progress', (e) => calls.push(`b:${e.fraction}`));
    emitter.on('state', (e) => calls.push(`state:${e.state}`));
    emitter.emit('progress', { fraction: 0.5 });
    assert.deepEqual(calls, ['a:0.5', 'b:0.5']);
  });

  test('emitting with no listeners is fine', () => {
    new Emitter<Events>().emit('state', { state: 'idle' });
  });

  test('a throwing listener does not stop the others; its error is reported, not swallowed', async () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    const boom = new Error('listener bug');
    emitter.on('progress', () => calls.push('first'));
    emitter.on('progress', () => {
      throw boom;
    });
    emitter.on('progress', () => calls.push('third'));
    let returned = false;
    const uncaught = await collectUncaught(() => {
      emitter.emit('progress', { fraction: 1 });
      returned = true;
    });
    assert.ok(returned, 'emit returned normally');
    assert.deepEqual(calls, ['first', 'third']);
    assert.deepEqual(uncaught, [boom]);
  });

  test('the unsubscribe function returned by on() removes the listener', () => {
    const emitter = new Emitter<Events>();
    const calls: number[] = [];
    const off = emitter.on('progress', (e) => calls.push(e.fraction));
    emitter.emit('progress', { fraction: 0.1 });
    off();
    emitter.emit('progress', { fraction: 0.2 });
    off(); // twice is harmless
    assert.deepEqual(calls, [0.1]);
  });

  test('off() removes only that listener of that event', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    const a = () => calls.push('a');
    const b = () => calls.push('b');
    emitter.on('progress', a);
    emitter.on('progress', b);
    emitter.on('state', a);
    emitter.off('progress', a);
    emitter.emit('progress', { fraction: 0 });
    emitter.emit('state', { state: 'x' });
    assert.deepEqual(calls, ['b', 'a']);
  });

  test('off() of a listener never added is harmless', () => {
    const emitter = new Emitter<Events>();
    emitter.off('progress', () => undefined);
  });

  test('a listener that unsubscribes another during emit does not break the current emit', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    let offB: () => void = () => undefined;
    emitter.on('progress', () => {
      calls.push('a');
      offB();
    });
    offB = emitter.on('progress', () => calls.push('b'));
    emitter.emit('progress', { fraction: 0 });
    const afterFirst = calls.length;
    emitter.emit('progress', { fraction: 0 });
    // Whether b still hears the emit that removed it is the emitter's choice; not the next one.
    assert.ok(afterFirst === 1 || afterFirst === 2);
    assert.deepEqual(calls.slice(afterFirst), ['a']);
  });

  test('a listener added during emit is called from the next emit on', () => {
    const emitter = new Emitter<Events>();
    const calls: string[] = [];
    emitter.on('progress', () => {
      calls.push('a');
      if (calls.length === 1) emitter.on('progress', () => calls.push('late'));
    });
    emitter.emit('progress', { fraction: 0 });
    emitter.emit('progress', { fraction: 0 });
    assert.deepEqual(calls, ['a', 'a', 'late']);
  });
});
