/**
 * What `hoist upload` tells the user, in one of four forms: progress bars on a terminal,
 * plain lines now and then when stderr is a file or pipe, JSON lines on stdout (`--json`),
 * or failures only (`--quiet`). Failures are always one stderr line each:
 * `hoist: <file>: <message> (<code>)`.
 */
import type { UploadProgress } from '@hoist/client/core';
import type { UploadView } from '@hoist/protocol';
import { formatBytes, formatDuration, formatRate } from './format.ts';

export interface FileEntry {
  /** The path as given on the command line (what every message names). */
  path: string;
  absolute: string;
  size: number;
}

export interface Failure {
  code: string;
  message: string;
}

export interface UploadReporter {
  started(file: FileEntry): void;
  /** Rerun of an interrupted upload: `done` of `total` parts were already in S3. */
  resumed(file: FileEntry, done: number, total: number): void;
  progress(file: FileEntry, progress: UploadProgress): void;
  part(file: FileEntry, part: { partNumber: number; size: number }): void;
  completed(file: FileEntry, upload: UploadView): void;
  failed(file: FileEntry, failure: Failure): void;
  /** Informational line for people (not shown with --json or --quiet). */
  note(text: string): void;
  /** Ctrl-C: the line that says how to go on (shown in every mode). */
  interrupted(text: string, file: FileEntry | undefined): void;
  /** Restores the terminal; idempotent. */
  stop(): void;
}

type Write = (text: string) => void;

const toStderr: Write = (text) => void process.stderr.write(text);
const toStdout: Write = (text) => void process.stdout.write(text);

export function failureLine(file: FileEntry, failure: Failure): string {
  // One line whatever the message holds (S3 and broker messages may span lines).
  const message = failure.message.replace(/\s*\n\s*/g, ' ');
  return `hoist: ${file.path}: ${message} (${failure.code})\n`;
}

/** `--quiet`: failures and the interruption line only. */
export function quietReporter(err: Write = toStderr): UploadReporter {
  return {
    started() {},
    resumed() {},
    progress() {},
    part() {},
    completed() {},
    failed: (file, failure) => err(failureLine(file, failure)),
    note() {},
    interrupted: (text) => err(`${text}\n`),
    stop() {},
  };
}

/** JSON lines emitted at most this often for progress (the last one may be skipped; `completed` follows). */
const JSON_PROGRESS_EVERY_MS = 500;

/** `--json`: one JSON object per line on stdout, nothing else there. */
export function jsonReporter(out: Write = toStdout, err: Write = toStderr, now = Date.now): UploadReporter {
  let lastProgress = Number.NEGATIVE_INFINITY;
  const emit = (event: Record<string, unknown>) => out(`${JSON.stringify(event)}\n`);
  return {
    started: (file) => emit({ event: 'started', file: file.path, size: file.size }),
    resumed: (file, done, total) =>
      emit({ event: 'resumed', file: file.path, partsDone: done, partCount: total }),
    progress(file, p) {
      const t = now();
      if (t - lastProgress < JSON_PROGRESS_EVERY_MS) return;
      lastProgress = t;
      emit({
        event: 'progress',
        file: file.path,
        confirmedBytes: p.confirmedBytes,
        inFlightBytes: p.inFlightBytes,
        totalBytes: p.totalBytes,
        bytesPerSecond: p.bytesPerSecond,
        etaSeconds: p.etaSeconds,
      });
    },
    part: (file, part) =>
      emit({ event: 'part', file: file.path, partNumber: part.partNumber, size: part.size }),
    completed: (file, upload) =>
      emit({
        event: 'completed',
        file: file.path,
        id: upload.id,
        key: upload.key,
        size: upload.size,
        checksumAlgorithm: upload.checksumAlgorithm,
        checksum: upload.checksum ?? null,
      }),
    failed(file, failure) {
      emit({ event: 'failed', file: file.path, code: failure.code, message: failure.message });
      err(failureLine(file, failure));
    },
    note() {},
    interrupted(text, file) {
      emit({ event: 'interrupted', file: file?.path ?? null });
      err(`${text}\n`);
    },
    stop() {},
  };
}

/** Plain progress lines for one file at most this often (stderr is a log, not a screen). */
const PLAIN_PROGRESS_EVERY_MS = 5000;

/** stderr is not a terminal: a line when a file starts, every few seconds, and when it ends. */
export function plainReporter(err: Write = toStderr, now = Date.now): UploadReporter {
  let lastProgress = 0;
  return {
    started(file) {
      lastProgress = now();
      err(`uploading ${file.path} (${formatBytes(file.size)})\n`);
    },
    resumed: (file, done, total) =>
      err(`resuming ${file.path}: ${done} of ${total} parts already uploaded\n`),
    progress(file, p) {
      const t = now();
      if (t - lastProgress < PLAIN_PROGRESS_EVERY_MS) return;
      lastProgress = t;
      const done = Math.round(p.fraction * p.totalBytes);
      err(
        `${file.path}: ${Math.floor(p.fraction * 100)}% (${formatBytes(done)} of ${formatBytes(p.totalBytes)}), ` +
          `${formatRate(p.bytesPerSecond)}, ETA ${formatDuration(p.etaSeconds)}\n`,
      );
    },
    part() {},
    completed: (file, upload) =>
      err(`uploaded ${file.path} (${formatBytes(upload.size)}) as ${upload.key}\n`),
    failed: (file, failure) => err(failureLine(file, failure)),
    note: (text) => err(`${text}\n`),
    interrupted: (text) => err(`${text}\n`),
    stop() {},
  };
}
