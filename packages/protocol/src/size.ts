/**
 * Sizes as people write them, read by one rule everywhere (broker config, CLI flags, uploader
 * attributes): a number of bytes, or a number with a unit, with or without a space. Binary
 * units (`KiB` `MiB` `GiB` `TiB`) are powers of 1024; decimal ones (`KB` `MB` `GB` `TB`) powers
 * of 1000, so `8MB` is 8,000,000 bytes and `8MiB` 8,388,608. Units are case-insensitive.
 */
import { GiB, MiB, TiB } from './limits.ts';

const UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: MiB,
  gib: GiB,
  tib: TiB,
};

/** What every size error says it wants. */
export const SIZE_SYNTAX = 'a number of bytes or a size such as 8MiB, 8 MiB or 8MB';

/**
 * `5GiB`, `500MB`, `8 MiB`, `1.5KB`, `1024` → bytes; undefined when the text is not a size or
 * not a whole number of bytes (`1.5B`). Fractions are read exactly: `1.1MB` is 1,100,000.
 */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+)(?:\.(\d+))?\s*([a-z]*)\s*$/i.exec(text);
  if (!match) return undefined;
  const factor = UNITS[(match[3] || 'b').toLowerCase()];
  if (factor === undefined) return undefined;
  const fraction = match[2] ?? '';
  // Integer digits times the unit, then one exact division: no binary-fraction error.
  const bytes = (Number(match[1] + fraction) * factor) / 10 ** fraction.length;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `5 GiB`, `8 MiB`, `1000 bytes`: an exact size for messages about limits. */
export function formatSize(bytes: number): string {
  for (const [unit, scale] of [
    ['TiB', TiB],
    ['GiB', GiB],
    ['MiB', MiB],
  ] as const) {
    if (bytes >= scale && bytes % scale === 0) return `${bytes / scale} ${unit}`;
  }
  return `${bytes} bytes`;
}
