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
  resolveCapabilities,
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
    const { caps, probed, warnings, refusal } = await resolveCapabilities(
      options.mode,
      options.store,
      options.probe,
    );
    // Lists of names, not a name → boolean map: the log scrubber hides values under keys such
    // as "federationToken".
    const summary = {
      present: CAPABILITY_NAMES.filter((name) => caps[name]),
      absent: CAPABILITY_NAMES.filter((name) => !caps[name]),
      probed,
      mode: options.mode,
    };
    options.logger?.info(
      summary,
      probed.length > 0 ? 'store capabilities probed' : 'store capabilities pinned by config',
    );
    if (refusal) {
      options.logger?.warn(
        { capabilities: caps, mode: options.mode, err: refusal },
        'store unsuitable for mode',
      );
      throw refusal;
    }
    for (const warning of warnings) options.logger?.warn(summary, warning);
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
