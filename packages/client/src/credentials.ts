/**
 * Temporary credentials for sts/federation uploads: refreshed through the broker before they
 * expire and when S3 says they have, with one refresh in flight at a time.
 */
import type { TemporaryCredentials } from '@hoist/protocol';

export interface CredentialManagerOptions {
  initial: TemporaryCredentials;
  refresh: () => Promise<TemporaryCredentials>;
  /** Refresh this long before expiry (capped at half the credentials' lifetime). */
  marginMs: number;
  /** The clock credentials' expiration is compared with (corrected for skew). */
  now: () => number;
  onRefresh?: (credentials: TemporaryCredentials) => void;
}

export class CredentialManager {
  readonly #options: CredentialManagerOptions;
  #current: TemporaryCredentials;
  #refreshAt: number;
  #pending: Promise<TemporaryCredentials> | undefined;

  constructor(options: CredentialManagerOptions) {
    this.#options = options;
    this.#current = options.initial;
    this.#refreshAt = this.#deadline(options.initial);
  }

  /** Credentials good for at least the margin; refreshes first when they are not. */
  async get(): Promise<TemporaryCredentials> {
    if (this.#pending) return this.#pending;
    if (this.#options.now() < this.#refreshAt) return this.#current;
    return this.#refresh();
  }

  /** S3 refused `used` as expired: refresh unless another request already did. */
  async replace(used: TemporaryCredentials): Promise<TemporaryCredentials> {
    if (used !== this.#current) return this.get();
    return this.#refresh();
  }

  #refresh(): Promise<TemporaryCredentials> {
    this.#pending ??= this.#options
      .refresh()
      .then((fresh) => {
        this.#current = fresh;
        this.#refreshAt = this.#deadline(fresh);
        this.#options.onRefresh?.(fresh);
        return fresh;
      })
      .finally(() => {
        this.#pending = undefined;
      });
    return this.#pending;
  }

  #deadline(credentials: TemporaryCredentials): number {
    const expires = Date.parse(credentials.expiration);
    if (!Number.isFinite(expires)) return 0;
    const lifetime = expires - this.#options.now();
    return expires - Math.min(this.#options.marginMs, Math.max(0, lifetime / 2));
  }
}
