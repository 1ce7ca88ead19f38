/**
 * How sizes, speeds and times read in the uploader: decimal units as file managers show them
 * (1 MB = 1,000,000 bytes), whole percentages that reach 100 only when done, and short ETAs.
 */
import type { UploadProgress } from '@hoist/client/core';

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

/** `999 B`, `12.3 MB`, `157 MB`, `5.37 GB`: three significant digits at most. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 999.5 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${Math.round(value)} B`;
  const digits = value < 9.995 ? 2 : value < 99.95 ? 1 : 0;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function formatSpeed(bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`;
}

/** `8 s`, `2 min 5 s`, `1 h 12 min`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return s % 60 === 0 ? `${minutes} min` : `${minutes} min ${s % 60} s`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

/** Whole percent, floored: 100 means done, never "almost done". */
export function percent(fraction: number): number {
  if (!Number.isFinite(fraction) || fraction <= 0) return 0;
  return Math.min(100, Math.floor(fraction * 100 + 1e-9));
}

/** `42% — 12.3 MB/s, 8 s left` while sending; the percentage alone when there is no speed yet. */
export function progressText(
  progress: Pick<UploadProgress, 'fraction' | 'bytesPerSecond' | 'etaSeconds'>,
): string {
  const pct = `${percent(progress.fraction)}%`;
  if (progress.bytesPerSecond <= 0) return pct;
  const eta = progress.etaSeconds === null ? '' : `, ${formatDuration(progress.etaSeconds)} left`;
  return `${pct} — ${formatSpeed(progress.bytesPerSecond)}${eta}`;
}

/** Sizes are read by the protocol's one grammar (`5GiB`, `500 MB`, `1024`), as the broker's config and the CLI read them. */
export { parseSize } from '@hoist/protocol';
