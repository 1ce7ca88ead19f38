/**
 * Engine errors in plain words, each with what the user can do about it. The engine's own
 * message (technical, for developers) goes to the event detail and the console, not here.
 */
import type { UploadErrorCode } from '@hoist/client/core';

export interface Explanation {
  text: string;
  /** Offer a Retry button (the same file, resumed where it stopped). */
  retry: boolean;
}

const PLAIN: Partial<Record<UploadErrorCode, Explanation>> = {
  unauthorized: { text: 'Your session has expired — sign in again, then retry.', retry: true },
  network: { text: 'Connection lost — check your connection, then retry.', retry: true },
  stalled: { text: 'Connection lost — the upload stopped moving. Retry to continue.', retry: true },
  'quota-exceeded': {
    text: 'You have reached your upload limit for now — wait a little, then retry.',
    retry: true,
  },
  'access-denied': { text: 'You are not allowed to upload this file here.', retry: false },
  'upload-gone': {
    text: 'This upload expired or was cancelled on the server — retry to upload the file again.',
    retry: true,
  },
  'upload-rejected': {
    text: 'The server refused the uploaded file (it did not match what was announced). Retry to send it again.',
    retry: true,
  },
  'checksum-mismatch': {
    text: 'The stored copy does not match your file — retry to upload it again.',
    retry: true,
  },
  'read-failed': {
    text: 'The file could not be read: it may have been moved or changed. Pick it again.',
    retry: false,
  },
  'resume-mismatch': {
    text: "That's a different file — pick the same file again to resume.",
    retry: false,
  },
  'etag-not-exposed': {
    text:
      'Uploads are blocked by the storage bucket’s CORS settings. For the site’s developer: ' +
      'the bucket’s CORS rules must expose the ETag header.',
    retry: false,
  },
};

/** What to tell the user about a failure with this code; `message` is the engine's wording. */
export function explain(code: UploadErrorCode, message: string): Explanation {
  const known = PLAIN[code];
  if (known) return known;
  if (code === 'too-large')
    return { text: `This file is too large for this site. ${tail(message)}`, retry: false };
  if (code === 'unsupported-type')
    return { text: `This type of file is not accepted here. ${tail(message)}`, retry: false };
  if (code === 'invalid-options')
    return {
      text: `The uploader is not set up correctly (for the site’s developer: ${message}).`,
      retry: false,
    };
  return { text: `The upload failed — retry to continue. (${tail(message)})`, retry: true };
}

/** The broker's own detail after the engine's `operation:` prefix. */
function tail(message: string): string {
  const detail = message.replace(/^[\w ]+: /, '').trim();
  if (detail === '') return '';
  const sentence = detail.charAt(0).toUpperCase() + detail.slice(1);
  return /[.!?)]$/.test(sentence) ? sentence : `${sentence}.`;
}
