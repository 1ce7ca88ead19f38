/**
 * The broker's one view of its store's capabilities: pinned ones from the config, the rest
 * probed once (store-probe.ts), logged, and checked against the mode. `startBroker` awaits it
 * before listening (so an unsuitable store stops the start); `createBroker` apps meet it on the
 * first create or complete. A probe that fails (store down) is tried again on the next call;
 * a verdict, once reached, is kept.
 */
import type { UploadMode } from '@hoist/protocol';
import {
  CAPABILITY_NAMES,
  type CapabilityName,
  capabilityPlan,
  checkModeSupported,
  type StoreCapabilities,
} from './capabilities.ts';
import type { StoreConfig } from './config.ts';

export interface CapabilityGateOptions {
  mode: UploadMode;
  store: StoreConfig;
  /** Finds out the named capabilities (probeStore bound to the broker's clients). */
  probe(names: readonly CapabilityName[]): Promise<Partial<StoreCapabilities>>;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
}

/** Resolves to the store's capabilities, or rejects with StoreCapabilityError / StoreProbeError. */
export type CapabilityGate = () => Promise<StoreCapabilities>;

export function createCapabilityGate(options: CapabilityGateOptions): CapabilityGate {
  let verdict: Promise<StoreCapabilities> | undefined;
  let inFlight: Promise<StoreCapabilities> | undefined;
  const decide = async (): Promise<StoreCapabilities> => {
    const { known, toProbe } = capabilityPlan(options.mode, options.store);
    const probed = toProbe.length > 0 ? await options.probe(toProbe) : {};
    const caps = {} as StoreCapabilities;
    for (const name of CAPABILITY_NAMES) {
      // Pins win: a probe may learn more than it was asked (minting tells whether federation works).
      const value = known[name] ?? probed[name];
      // A probe that could not tell (e.g. no credentials to try the policy with) counts as absent.
      caps[name] = value ?? false;
    }
    // Lists of names, not a name → boolean map: the log scrubber hides values under keys such
    // as "federationToken".
    const summary = {
      present: CAPABILITY_NAMES.filter((name) => caps[name]),
      absent: CAPABILITY_NAMES.filter((name) => !caps[name]),
      probed: toProbe,
      mode: options.mode,
    };
    options.logger?.info(
      summary,
      toProbe.length > 0 ? 'store capabilities probed' : 'store capabilities pinned by config',
    );
    try {
      for (const warning of checkModeSupported(options.mode, caps, options.store))
        options.logger?.warn(summary, warning);
    } catch (error) {
      options.logger?.warn(
        { capabilities: caps, mode: options.mode, err: error },
        'store unsuitable for mode',
      );
      throw error;
    }
    return caps;
  };
  return () => {
    if (verdict) return verdict;
    inFlight ??= decide().then(
      (caps) => {
        verdict = Promise.resolve(caps);
        return caps;
      },
      (error: unknown) => {
        inFlight = undefined;
        // A refusal is about the store and the config, which do not change: keep it.
        if ((error as { name?: string }).name === 'StoreCapabilityError') verdict = Promise.reject(error);
        verdict?.catch(() => {});
        throw error;
      },
    );
    return inFlight;
  };
}
