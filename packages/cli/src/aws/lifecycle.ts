/**
 * The lifecycle rule that aborts abandoned multipart uploads under the key prefix: their parts
 * are billed as storage until someone aborts them, and the broker's sweeper only sees uploads
 * while it runs.
 */

/** The ID of Hoist's rule: setup replaces this rule and leaves the bucket's others alone. */
export const LIFECYCLE_RULE_ID = 'hoist-abort-incomplete-uploads';

export interface LifecycleRuleShape {
  ID: string;
  Status: 'Enabled';
  Filter: { Prefix: string };
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: number };
}

/** One day more than uploads live (uploadTtlSeconds), so the broker's own sweep comes first. */
export function defaultAbortDays(uploadTtlSeconds: number): number {
  return Math.ceil(uploadTtlSeconds / 86_400) + 1;
}

export function lifecycleRule(options: { prefix: string; days: number }): LifecycleRuleShape {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 36_500)
    throw new TypeError(`--days must be a whole number of days from 1, got ${options.days}`);
  return {
    ID: LIFECYCLE_RULE_ID,
    Status: 'Enabled',
    Filter: { Prefix: `${options.prefix}/` },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: options.days },
  };
}

export function lifecycleConfiguration(options: { prefix: string; days: number }): {
  Rules: LifecycleRuleShape[];
} {
  return { Rules: [lifecycleRule(options)] };
}
