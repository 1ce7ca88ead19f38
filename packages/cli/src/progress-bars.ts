/**
 * Progress bars for `hoist upload` on a terminal (cli-progress): a total bar for all files
 * and one bar for the file being sent, each with bytes, percentage, speed and ETA. A file's
 * bar gives way to one summary line when it ends, so the screen stays two bars high
 * however many files there are.
 */

import type { UploadProgress } from '@hoist/client/core';
import cliProgress from 'cli-progress';
import { fitWidth, formatBytes, formatDuration, formatRate } from './format.ts';
import { type FileEntry, failureLine, type UploadReporter } from './upload-output.ts';

const NAME_WIDTH = 28;
const FORMAT = ' {name} {bar} {percentage}% | {done} of {size} | {speed} | ETA {left}';

interface Payload {
  name: string;
  done: string;
  size: string;
  speed: string;
  left: string;
}

function payload(
  name: string,
  done: number,
  size: number,
  bytesPerSecond: number,
  eta: number | null,
): Payload {
  return {
    name: fitWidth(name, NAME_WIDTH),
    done: formatBytes(done),
    size: formatBytes(size),
    speed: formatRate(bytesPerSecond),
    left: formatDuration(eta),
  };
}

export function barsReporter(
  files: FileEntry[],
  stream: NodeJS.WriteStream = process.stderr,
): UploadReporter {
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: FORMAT,
      barsize: 24,
      hideCursor: true,
      autopadding: true,
      // Ctrl-C is ours (pause, keep state, say how to resume); stop() restores the cursor.
      gracefulExit: false,
      fps: 8,
    },
    cliProgress.Presets.shades_classic,
  );
  const totalBytes = files.reduce((sum, f) => sum + f.size, 0);
  let finishedBytes = 0;
  let finishedFiles = 0;
  const totalName = () => `total (${finishedFiles} of ${files.length} files)`;
  // Bars of empty files would divide by zero: they count as one unit.
  const total = multibar.create(Math.max(1, totalBytes), 0, payload(totalName(), 0, totalBytes, 0, null));
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;

  const updateTotal = (current: number, bytesPerSecond: number) => {
    const done = finishedBytes + current;
    const eta = done >= totalBytes ? 0 : bytesPerSecond > 0 ? (totalBytes - done) / bytesPerSecond : null;
    total.update(done, payload(totalName(), done, totalBytes, bytesPerSecond, eta));
  };

  const endFile = (file: FileEntry, line: string, counted: boolean) => {
    if (bar) multibar.remove(bar);
    bar = undefined;
    finishedFiles++;
    if (counted) finishedBytes += file.size;
    updateTotal(0, 0);
    multibar.log(line);
  };

  const stop = () => {
    if (stopped) return;
    stopped = true;
    multibar.update(); // flushes lines logged since the last frame
    multibar.stop();
  };

  return {
    started(file) {
      bar = multibar.create(Math.max(1, file.size), 0, payload(file.path, 0, file.size, 0, null));
    },
    resumed: (file, done, count) =>
      multibar.log(`resuming ${file.path}: ${done} of ${count} parts already uploaded\n`),
    progress(file, p: UploadProgress) {
      const done = Math.round(p.fraction * p.totalBytes);
      bar?.update(done, payload(file.path, done, p.totalBytes, p.bytesPerSecond, p.etaSeconds));
      updateTotal(done, p.bytesPerSecond);
    },
    part() {},
    completed: (file, upload) =>
      endFile(file, `uploaded ${file.path} (${formatBytes(upload.size)}) as ${upload.key}\n`, true),
    failed: (file, failure) => endFile(file, failureLine(file, failure), false),
    note: (text) => multibar.log(`${text}\n`),
    interrupted(text) {
      stop();
      stream.write(`${text}\n`);
    },
    stop,
  };
}
