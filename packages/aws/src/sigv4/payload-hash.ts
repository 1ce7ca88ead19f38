/** The x-amz-content-sha256 literals S3 accepts besides a hex SHA-256 (SigV4a ones excluded). */
export const PAYLOAD_LITERALS = [
  'UNSIGNED-PAYLOAD',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
] as const;

export type PayloadLiteral = (typeof PAYLOAD_LITERALS)[number];

const LITERALS: ReadonlySet<string> = new Set(PAYLOAD_LITERALS);

export function isSha256Hex(value: string): boolean {
  return value.length === 64 && /^[0-9a-fA-F]{64}$/.test(value);
}

/** A hex SHA-256 or one of `PAYLOAD_LITERALS`. */
export function isPayloadHash(value: unknown): boolean {
  return typeof value === 'string' && (LITERALS.has(value) || isSha256Hex(value));
}
