/**
 * What the S3 store behind the broker can do, and what the broker decides from it: how the
 * bytes are verified (flexible checksums, or Content-MD5 and the ETag chain), whether the
 * credential modes can keep their no-overwrite promise, and whether completion must first check
 * that the key is free. Pure: the probing itself is store-probe.ts.
 */
import type { UploadIntegrity, UploadMode } from '@hoist/protocol';
import type { CapabilitySetting, StoreConfig } from './config.ts';

export interface StoreCapabilities {
  /** x-amz-checksum-* verified on write and returned by HeadObject/ListParts. */
  flexibleChecksums: boolean;
  /** `If-None-Match: *` refuses a PutObject over an existing object (412). */
  ifNoneMatchOnPut: boolean;
  /** `If-None-Match: *` refuses a CompleteMultipartUpload over an existing object (412). */
  ifNoneMatchOnComplete: boolean;
  /** Session policies can require If-None-Match (s3:if-none-match, s3:ObjectCreationOperation). */
  conditionalWriteKeys: boolean;
  /** STS answers GetFederationToken. */
  federationToken: boolean;
}

export type CapabilityName = keyof StoreCapabilities;

export const CAPABILITY_NAMES: readonly CapabilityName[] = [
  'flexibleChecksums',
  'ifNoneMatchOnPut',
  'ifNoneMatchOnComplete',
  'conditionalWriteKeys',
  'federationToken',
];

/** Assumed for what a mode never uses, so it is neither probed nor held against the store. */
const IRRELEVANT: Record<UploadMode, readonly CapabilityName[]> = {
  sts: ['federationToken'],
  federation: [],
  presign: ['conditionalWriteKeys', 'federationToken'],
};

/** The capabilities a mode needs to know: the config's pins, and which ones are left to probe. */
export function capabilityPlan(
  mode: UploadMode,
  store: Pick<StoreConfig, CapabilityName>,
): { known: Partial<StoreCapabilities>; toProbe: CapabilityName[] } {
  const known: Partial<StoreCapabilities> = {};
  const toProbe: CapabilityName[] = [];
  for (const name of CAPABILITY_NAMES) {
    const setting: CapabilitySetting = store[name];
    if (setting !== 'auto') known[name] = setting;
    else if (IRRELEVANT[mode].includes(name)) known[name] = true;
    else toProbe.push(name);
  }
  return { known, toProbe };
}

/** Where each capability's value came from. */
export type CapabilitySource = 'probed' | 'pinned' | 'not needed';

export interface ResolvedCapabilities {
  caps: StoreCapabilities;
  /** The capabilities the probe was asked for (none when all were pinned or not needed). */
  probed: CapabilityName[];
  source: Record<CapabilityName, CapabilitySource>;
  /** Warnings to log at every start (a risk the config accepted). */
  warnings: string[];
  /** Why the mode cannot run on this store; absent when it can. */
  refusal?: StoreCapabilityError;
}

/**
 * The store's capabilities for `mode`: the config's pins, the rest from `probe` (asked only
 * for those), and the mode's verdict on them. Pins win over what a probe learns besides
 * (minting tells whether federation works); what a probe could not tell counts as absent.
 * The broker's start (store-gate.ts) and `hoist aws doctor` decide through this one function.
 */
export async function resolveCapabilities(
  mode: UploadMode,
  store: Pick<StoreConfig, CapabilityName | 'acceptOverwriteRisk'>,
  probe: (names: readonly CapabilityName[]) => Promise<Partial<StoreCapabilities>>,
): Promise<ResolvedCapabilities> {
  const { known, toProbe } = capabilityPlan(mode, store);
  const found = toProbe.length > 0 ? await probe(toProbe) : {};
  const caps = {} as StoreCapabilities;
  const source = {} as Record<CapabilityName, CapabilitySource>;
  for (const name of CAPABILITY_NAMES) {
    caps[name] = known[name] ?? found[name] ?? false;
    source[name] = toProbe.includes(name) ? 'probed' : store[name] === 'auto' ? 'not needed' : 'pinned';
  }
  try {
    return { caps, probed: toProbe, source, warnings: checkModeSupported(mode, caps, store) };
  } catch (error) {
    if (!(error instanceof StoreCapabilityError)) throw error;
    return { caps, probed: toProbe, source, warnings: [], refusal: error };
  }
}

/** The store cannot do what the configured mode needs; `code` is stable, `missing` names why. */
export class StoreCapabilityError extends Error {
  readonly code: 'overwrite-not-preventable' | 'federation-unavailable';
  readonly missing: CapabilityName[];
  constructor(code: StoreCapabilityError['code'], missing: CapabilityName[], message: string) {
    super(message);
    this.name = 'StoreCapabilityError';
    this.code = code;
    this.missing = missing;
  }
}

const WHAT: Record<CapabilityName, string> = {
  flexibleChecksums: 'flexible checksums (x-amz-checksum-*)',
  ifNoneMatchOnPut: 'If-None-Match on PutObject',
  ifNoneMatchOnComplete: 'If-None-Match on CompleteMultipartUpload',
  conditionalWriteKeys: 'the conditional-write policy keys (s3:if-none-match, s3:ObjectCreationOperation)',
  federationToken: 'STS GetFederationToken',
};

/**
 * Whether `mode` can run on a store with these capabilities. Credentials that hold s3:PutObject
 * on the key can overwrite a finished object unless the store both lets the policy demand
 * If-None-Match and honours it on PutObject and CompleteMultipartUpload; presign mode hands out
 * no such right (the broker alone completes), so it runs everywhere.
 * @returns warnings to log at every start (the risk accepted)
 * @throws {StoreCapabilityError} when the mode cannot keep its promises and no risk was accepted
 */
export function checkModeSupported(
  mode: UploadMode,
  caps: StoreCapabilities,
  options: { acceptOverwriteRisk: boolean },
): string[] {
  if (mode === 'presign') return [];
  if (mode === 'federation' && !caps.federationToken)
    throw new StoreCapabilityError(
      'federation-unavailable',
      ['federationToken'],
      'federation mode needs STS GetFederationToken, which this store does not offer: use mode "sts" (AssumeRole) or "presign"',
    );
  const missing = (['conditionalWriteKeys', 'ifNoneMatchOnPut', 'ifNoneMatchOnComplete'] as const).filter(
    (name) => !caps[name],
  );
  if (missing.length === 0) return [];
  const lacks = missing.map((name) => WHAT[name]).join(', ');
  if (!options.acceptOverwriteRisk)
    throw new StoreCapabilityError(
      'overwrite-not-preventable',
      missing,
      `${mode} mode cannot stop upload credentials from overwriting a finished object on this store: it lacks ${lacks}. ` +
        'Use mode "presign" (the broker alone completes and never overwrites), or set store.acceptOverwriteRisk: true ' +
        '(HOIST_STORE_ACCEPT_OVERWRITE_RISK=true) to run anyway',
    );
  return [
    `store.acceptOverwriteRisk: upload credentials can overwrite finished objects on this store (it lacks ${lacks})`,
  ];
}

/**
 * How uploads are verified: by flexible checksums where the store keeps them, else by Content-MD5
 * on every request and the ETag chain at completion.
 */
export function integrityFor(caps: Pick<StoreCapabilities, 'flexibleChecksums'>): UploadIntegrity {
  return caps.flexibleChecksums ? 'checksum' : 'content-md5';
}

/** Everything AWS S3 and the local server do: what a broker without a probe assumes. */
export const FULL_CAPABILITIES: Readonly<StoreCapabilities> = Object.freeze({
  flexibleChecksums: true,
  ifNoneMatchOnPut: true,
  ifNoneMatchOnComplete: true,
  conditionalWriteKeys: true,
  federationToken: true,
});
