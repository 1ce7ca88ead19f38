/** What the broker decides from its store's capabilities, and how the gate pins, probes and keeps them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CapabilityName,
  capabilityPlan,
  checkModeSupported,
  FULL_CAPABILITIES,
  integrityFor,
  resolveCapabilities,
  type StoreCapabilities,
  StoreCapabilityError,
} from './capabilities.ts';
import type { StoreConfig } from './config.ts';
import { createCapabilityGate } from './store-gate.ts';
import { StoreProbeError } from './store-probe.ts';

const AUTO: StoreConfig = {
  flexibleChecksums: 'auto',
  ifNoneMatchOnPut: 'auto',
  ifNoneMatchOnComplete: 'auto',
  conditionalWriteKeys: 'auto',
  federationToken: 'auto',
  acceptOverwriteRisk: false,
  probeTimeoutSeconds: 10,
};
/** Ceph RGW 16.2 as observed: If-None-Match on PutObject only, no checksums, no policy keys, no federation. */
const RGW: StoreCapabilities = {
  flexibleChecksums: false,
  ifNoneMatchOnPut: true,
  ifNoneMatchOnComplete: false,
  conditionalWriteKeys: false,
  federationToken: false,
};

test('each mode probes only what it uses; pins are never probed', () => {
  assert.deepEqual(capabilityPlan('presign', AUTO).toProbe, [
    'flexibleChecksums',
    'ifNoneMatchOnPut',
    'ifNoneMatchOnComplete',
  ]);
  assert.deepEqual(capabilityPlan('sts', AUTO).toProbe, [
    'flexibleChecksums',
    'ifNoneMatchOnPut',
    'ifNoneMatchOnComplete',
    'conditionalWriteKeys',
  ]);
  assert.equal(capabilityPlan('federation', AUTO).toProbe.length, 5);
  const pinned = capabilityPlan('sts', { ...AUTO, flexibleChecksums: false, conditionalWriteKeys: true });
  assert.deepEqual(pinned.toProbe, ['ifNoneMatchOnPut', 'ifNoneMatchOnComplete']);
  assert.equal(pinned.known.flexibleChecksums, false);
  assert.equal(pinned.known.conditionalWriteKeys, true);
});

test('integrity: checksums where the store keeps them, Content-MD5 and ETags where it does not', () => {
  assert.equal(integrityFor(FULL_CAPABILITIES), 'checksum');
  assert.equal(integrityFor(RGW), 'content-md5');
});

test('presign runs on any store; sts and federation only where no-overwrite holds', () => {
  assert.deepEqual(checkModeSupported('presign', RGW, { acceptOverwriteRisk: false }), []);
  assert.deepEqual(checkModeSupported('sts', FULL_CAPABILITIES, { acceptOverwriteRisk: false }), []);
  assert.throws(
    () => checkModeSupported('sts', RGW, { acceptOverwriteRisk: false }),
    (error: unknown) =>
      error instanceof StoreCapabilityError &&
      error.code === 'overwrite-not-preventable' &&
      error.missing.join() === 'conditionalWriteKeys,ifNoneMatchOnComplete' &&
      /presign/.test(error.message) &&
      /acceptOverwriteRisk/.test(error.message),
  );
  for (const name of [
    'conditionalWriteKeys',
    'ifNoneMatchOnPut',
    'ifNoneMatchOnComplete',
  ] as CapabilityName[]) {
    assert.throws(
      () =>
        checkModeSupported('sts', { ...FULL_CAPABILITIES, [name]: false }, { acceptOverwriteRisk: false }),
      (error: unknown) => error instanceof StoreCapabilityError && error.missing.join() === name,
    );
  }
  const warnings = checkModeSupported('sts', RGW, { acceptOverwriteRisk: true });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /acceptOverwriteRisk.*overwrite/);
  assert.throws(
    () =>
      checkModeSupported(
        'federation',
        { ...FULL_CAPABILITIES, federationToken: false },
        { acceptOverwriteRisk: true },
      ),
    (error: unknown) => error instanceof StoreCapabilityError && error.code === 'federation-unavailable',
  );
});

test('the gate probes once and keeps the answer; a failed probe is tried again', async () => {
  const asked: CapabilityName[][] = [];
  let fail = true;
  const gate = createCapabilityGate({
    mode: 'presign',
    store: { ...AUTO, ifNoneMatchOnComplete: false },
    async probe(names) {
      asked.push([...names]);
      if (fail) {
        fail = false;
        throw new StoreProbeError('PutObject', new Error('connection refused'));
      }
      return { flexibleChecksums: false, ifNoneMatchOnPut: true, ifNoneMatchOnComplete: true };
    },
  });
  await assert.rejects(gate(), StoreProbeError);
  const caps = await gate();
  // The pin wins over what the probe reported.
  assert.deepEqual(caps, { ...RGW, conditionalWriteKeys: true, federationToken: true });
  await gate();
  assert.deepEqual(asked, [
    ['flexibleChecksums', 'ifNoneMatchOnPut'],
    ['flexibleChecksums', 'ifNoneMatchOnPut'],
  ]);
});

test('the gate keeps a refusal, warns at each start when the risk is accepted, and needs no probe when all is pinned', async () => {
  let probes = 0;
  const warnings: string[] = [];
  const logger = { info() {}, warn: (_: object, msg?: string) => warnings.push(msg ?? '') };
  const probe = async () => {
    probes++;
    return { ...RGW };
  };
  const refusing = createCapabilityGate({ mode: 'sts', store: AUTO, probe, logger });
  await assert.rejects(refusing(), StoreCapabilityError);
  await assert.rejects(refusing(), StoreCapabilityError);
  assert.equal(probes, 1);
  const risky = createCapabilityGate({
    mode: 'sts',
    store: { ...AUTO, acceptOverwriteRisk: true },
    probe,
    logger,
  });
  assert.equal((await risky()).conditionalWriteKeys, false);
  assert.ok(warnings.some((w) => /acceptOverwriteRisk/.test(w)));
  const pinned = createCapabilityGate({
    mode: 'sts',
    store: {
      ...AUTO,
      flexibleChecksums: false,
      ifNoneMatchOnPut: true,
      ifNoneMatchOnComplete: true,
      conditionalWriteKeys: true,
    },
    probe,
  });
  assert.equal((await pinned()).flexibleChecksums, false);
  assert.equal(probes, 2);
});

test('resolveCapabilities: pins win, the probe is asked for the rest only, and the verdict comes back instead of a throw', async () => {
  const asked: (readonly CapabilityName[])[] = [];
  const probe = async (names: readonly CapabilityName[]) => {
    asked.push(names);
    // The probe learns more than it was asked (minting tells about federation): the pin wins.
    return { ...RGW, federationToken: true };
  };
  const store: StoreConfig = { ...AUTO, flexibleChecksums: true };
  const sts = await resolveCapabilities('sts', store, probe);
  assert.deepEqual(asked, [['ifNoneMatchOnPut', 'ifNoneMatchOnComplete', 'conditionalWriteKeys']]);
  assert.deepEqual(sts.caps, { ...RGW, flexibleChecksums: true, federationToken: true });
  assert.deepEqual(sts.source, {
    flexibleChecksums: 'pinned',
    ifNoneMatchOnPut: 'probed',
    ifNoneMatchOnComplete: 'probed',
    conditionalWriteKeys: 'probed',
    federationToken: 'not needed',
  });
  assert.ok(sts.refusal instanceof StoreCapabilityError);
  assert.equal(sts.refusal.code, 'overwrite-not-preventable');
  assert.deepEqual(sts.warnings, []);

  const risky = await resolveCapabilities('sts', { ...store, acceptOverwriteRisk: true }, probe);
  assert.equal(risky.refusal, undefined);
  assert.equal(risky.warnings.length, 1);

  // A probe that could not tell counts as absent; nothing to probe means no probe at all.
  const unknown = await resolveCapabilities('presign', AUTO, async () => ({}));
  assert.equal(unknown.caps.flexibleChecksums, false);
  assert.equal(unknown.refusal, undefined);
  asked.length = 0;
  const pinned = await resolveCapabilities('presign', { ...AUTO, ...FULL_CAPABILITIES }, probe);
  assert.deepEqual(asked, []);
  assert.deepEqual(pinned.probed, []);
  await assert.rejects(
    resolveCapabilities('sts', AUTO, () =>
      Promise.reject(new StoreProbeError('PutObject', new Error('down'))),
    ),
    StoreProbeError,
  );
});
