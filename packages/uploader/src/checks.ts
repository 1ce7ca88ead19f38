/**
 * The checks made before any byte leaves the browser: the file's size against `max-size` and
 * its type against `accept` (same syntax as `<input accept>`). The broker checks again; these
 * only spare the user a wait for a refusal that is certain.
 */
import { formatBytes } from './format.ts';

export interface Refusal {
  /** invalid-options: the uploader's own `max-size` or `accept` cannot be read. */
  code: 'too-large' | 'unsupported-type' | 'invalid-options';
  message: string;
}

export interface FileRules {
  maxSize: number | undefined;
  /** Lower-cased tokens of `accept`: `.mp4`, `video/*`, `image/png`. */
  accept: string[];
}

export function parseAccept(accept: string | null | undefined): string[] {
  return (accept ?? '')
    .split(',')
    .map((token) => token.trim().toLowerCase())
    .filter((token) => token !== '');
}

/** Whether a file of this name and MIME type matches one of the `accept` tokens (all when none). */
export function isAccepted(file: { name: string; type: string }, accept: readonly string[]): boolean {
  if (accept.length === 0) return true;
  const name = file.name.toLowerCase();
  const type = file.type.toLowerCase();
  return accept.some((token) => {
    if (token.startsWith('.')) return name.endsWith(token);
    if (token.endsWith('/*')) return type.startsWith(token.slice(0, -1));
    return type === token;
  });
}

/** The reason to refuse `file` here and now, or undefined when it may be sent. */
export function checkFile(
  file: { name: string; type: string; size: number },
  rules: FileRules,
): Refusal | undefined {
  if (rules.maxSize !== undefined && file.size > rules.maxSize)
    return {
      code: 'too-large',
      message: `This file is too large: ${formatBytes(file.size)}, and the limit is ${formatBytes(rules.maxSize)}.`,
    };
  if (!isAccepted(file, rules.accept))
    return {
      code: 'unsupported-type',
      message: `This type of file is not accepted here. Accepted: ${describeAccept(rules.accept)}.`,
    };
  return undefined;
}

/** `video/*, .mp4` → `videos, .mp4 files`: what the hint under the drop zone says. */
export function describeAccept(accept: readonly string[]): string {
  return accept
    .map((token) => {
      if (token.startsWith('.')) return `${token} files`;
      if (token.endsWith('/*')) return `${token.slice(0, -2)} files`;
      return token;
    })
    .join(', ');
}
