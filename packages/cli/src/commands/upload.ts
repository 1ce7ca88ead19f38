/**
 * `hoist upload <files…>`: the Node engine behind a command line. Files go one after another,
 * each with parallel parts: one file at a time already fills the link with `--concurrency`
 * parts in flight, keeps memory at `concurrency × partSize`, and makes the order of output,
 * failures and resumes obvious. Resume state lives in one JSON file keyed by broker URL and
 * absolute path, so rerunning the same command continues an interrupted upload.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ResumeStore, Upload } from '@hoist/client/core';
import { isUploadError } from '@hoist/client/core';
import { createJsonFileStore, createNodeUpload, nodeResumeKey } from '@hoist/client/node';
import { type ChecksumAlgorithm, parseChecksumAlgorithm, partCount } from '@hoist/protocol';
import {
  BROKER_ARG_OPTIONS,
  type BrokerTarget,
  brokerTarget,
  checkContentType,
  parseConcurrency,
  parsePartSize,
  UsageError,
  withUsageErrors,
} from '../broker-args.ts';
import { barsReporter } from '../progress-bars.ts';
import {
  type FileEntry,
  jsonReporter,
  plainReporter,
  quietReporter,
  type UploadReporter,
} from '../upload-output.ts';

const HELP = `Usage: hoist upload <files…> --broker URL [--token T] [options]

Uploads each file through the broker straight to S3: checksummed parts sent in parallel,
each retried on its own. Progress and resume state are kept, so rerunning the same command
after an interruption (Ctrl-C, a crash, a lost network) continues where it stopped.

  --broker URL        the broker's base URL (default: $HOIST_BROKER_URL)
  --token T           bearer token for the broker (default: $HOIST_TOKEN, which keeps it
                      out of the process list)
  --concurrency N     parallel part requests, 1..64 (default: 4, adapting between 1 and 16;
                      with N given: at most N, fewer while S3 asks to slow down)
  --part-size SIZE    preferred part size: 16MiB, 8MB (read as 8 MiB) or bytes, rounded up
                      to whole MiB, 5MiB..5GiB (default: the broker's, which has the last word)
  --checksum ALG      CRC32 (default: native, the cheapest), CRC32C, CRC64NVME, SHA1 or SHA256
  --content-type T    MIME type of every file (default: from the extension)
  --state-file PATH   resume state (default: $XDG_STATE_HOME/hoist/uploads.json,
                      ~/.local/state/hoist/uploads.json without XDG_STATE_HOME)
  --no-resume         neither read nor keep resume state
  --json              JSON lines on stdout, one per event: started, resumed, progress
                      (at most 2 a second), part, completed, failed, interrupted
  --quiet             print failures only
  -h, --help          show this help

Files are sent one after another. The first Ctrl-C pauses and exits, keeping the state for
resuming; a second one exits at once.

Exit status: 0 every file uploaded, 1 some failed (one line each on stderr:
"hoist: <file>: <message> (<code>)"), 2 usage error (nothing sent), 130 interrupted.
`;

const OPTIONS = {
  ...BROKER_ARG_OPTIONS,
  concurrency: { type: 'string' },
  'part-size': { type: 'string' },
  checksum: { type: 'string' },
  'content-type': { type: 'string' },
  'state-file': { type: 'string' },
  'no-resume': { type: 'boolean' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Settings extends BrokerTarget {
  files: FileEntry[];
  concurrency: number | undefined;
  partSize: number | undefined;
  checksumAlgorithm: ChecksumAlgorithm | undefined;
  contentType: string | undefined;
  /** undefined with --no-resume. */
  stateFile: string | undefined;
  output: 'bars' | 'plain' | 'json' | 'quiet';
}

/** `$XDG_STATE_HOME/hoist/uploads.json`; XDG says to ignore a relative XDG_STATE_HOME. */
export function defaultStateFile(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME)
      ? env.XDG_STATE_HOME
      : join(homedir(), '.local', 'state');
  return join(base, 'hoist', 'uploads.json');
}

export function runUpload(args: string[]): Promise<void> {
  return withUsageErrors('upload', async () => {
    const { values, positionals } = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(HELP);
      return;
    }
    const settings = await settingsFrom(values, positionals);
    process.exitCode = await uploadAll(settings);
  });
}

async function settingsFrom(
  values: { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean },
  positionals: string[],
): Promise<Settings> {
  if (positionals.length === 0) throw new UsageError('no files given');
  if (values.json && values.quiet) throw new UsageError('--json and --quiet do not go together');
  if (values['no-resume'] && values['state-file'] !== undefined)
    throw new UsageError('--state-file and --no-resume do not go together');
  const target = brokerTarget(values);
  const concurrency = values.concurrency === undefined ? undefined : parseConcurrency(values.concurrency);
  const partSize = values['part-size'] === undefined ? undefined : parsePartSize(values['part-size']);
  let checksumAlgorithm: ChecksumAlgorithm | undefined;
  if (values.checksum !== undefined) {
    checksumAlgorithm = parseChecksumAlgorithm(values.checksum);
    if (!checksumAlgorithm)
      throw new UsageError(
        `--checksum must be CRC32, CRC32C, CRC64NVME, SHA1 or SHA256, got "${values.checksum}"`,
      );
  }
  const contentType = checkContentType(values['content-type']);
  const files = await checkFiles(positionals);
  const stateFile = values['no-resume'] ? undefined : resolve(values['state-file'] ?? defaultStateFile());
  const output = values.json ? 'json' : values.quiet ? 'quiet' : process.stderr.isTTY ? 'bars' : 'plain';
  return { ...target, files, concurrency, partSize, checksumAlgorithm, contentType, stateFile, output };
}

/** Every file must be a readable regular file before anything is sent; all problems in one line. */
async function checkFiles(paths: string[]): Promise<FileEntry[]> {
  const problems: string[] = [];
  const files: FileEntry[] = [];
  const seen = new Set<string>();
  for (const path of paths) {
    const absolute = resolve(path);
    if (seen.has(absolute)) {
      problems.push(`${path} is listed twice`);
      continue;
    }
    seen.add(absolute);
    try {
      const info = await stat(absolute);
      if (!info.isFile()) problems.push(`${path} is not a regular file`);
      else files.push({ path, absolute, size: info.size });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      problems.push(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${String(code)})`);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return files;
}

function reporterFor(settings: Settings): UploadReporter {
  switch (settings.output) {
    case 'bars':
      return barsReporter(settings.files);
    case 'plain':
      return plainReporter();
    case 'json':
      return jsonReporter();
    case 'quiet':
      return quietReporter();
  }
}

interface Run {
  settings: Settings;
  reporter: UploadReporter;
  store: ResumeStore | undefined;
  current: { file: FileEntry; upload: Upload } | undefined;
}

/** Uploads every file in turn; the exit status. */
async function uploadAll(settings: Settings): Promise<number> {
  const run: Run = {
    settings,
    reporter: reporterFor(settings),
    store: settings.stateFile ? createJsonFileStore(settings.stateFile) : undefined,
    current: undefined,
  };
  const stopSignals = handleInterrupts(run);
  let failures = 0;
  try {
    for (const [index, file] of settings.files.entries()) {
      const code = await uploadOne(run, file);
      if (code === undefined) continue;
      failures++;
      if (code !== 'unauthorized') continue;
      // The broker refused the token: every other file would fail the same way.
      for (const rest of settings.files.slice(index + 1)) {
        run.reporter.failed(rest, { code, message: 'not attempted: the broker refused the token' });
        failures++;
      }
      break;
    }
  } finally {
    stopSignals();
    run.reporter.stop();
  }
  return failures === 0 ? 0 : 1;
}

/** Uploads one file; undefined when it completed, else the failure's code. */
async function uploadOne(run: Run, file: FileEntry): Promise<string | undefined> {
  const { settings, reporter, store } = run;
  const resumeKey = nodeResumeKey(settings.brokerUrl, file.absolute);
  reporter.started(file);
  try {
    // What the last run left, to tell the user how much a resume saves.
    const previous = await store?.get(resumeKey);
    const upload = await createNodeUpload(file.absolute, {
      brokerUrl: settings.brokerUrl,
      token: settings.token,
      ...(settings.concurrency === undefined
        ? {}
        : { concurrency: settings.concurrency, maxConcurrency: settings.concurrency }),
      partSize: settings.partSize,
      checksumAlgorithm: settings.checksumAlgorithm,
      contentType: settings.contentType,
      store,
      resumeKey,
    });
    run.current = { file, upload };
    upload.on('progress', (progress) => reporter.progress(file, progress));
    upload.on('part', (part) => reporter.part(file, part));
    upload.on('state', ({ state, previous: before }) => {
      if (state !== 'uploading' || before !== 'preparing' || !previous) return;
      if (upload.id === previous.id) {
        const done = Math.ceil(upload.progress.confirmedBytes / previous.partSize);
        reporter.resumed(file, done, partCount(file.size, previous.partSize));
      } else {
        reporter.note(
          `${file.path}: the interrupted upload could not be continued (file changed or upload expired); starting over`,
        );
      }
    });
    const view = await upload.start();
    reporter.completed(file, view);
    return undefined;
  } catch (error) {
    const failure = isUploadError(error)
      ? { code: error.code, message: error.message }
      : { code: 'internal', message: error instanceof Error ? error.message : String(error) };
    reporter.failed(file, failure);
    return failure.code;
  } finally {
    run.current = undefined;
  }
}

/**
 * First Ctrl-C (or SIGTERM): pause the current upload, wait until its state is written, say
 * how to resume, exit 130 (143). A second one exits at once. Returns the uninstaller.
 */
function handleInterrupts(run: Run): () => void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const status = signal === 'SIGINT' ? 130 : 143;
    if (interrupted) process.exit(status);
    interrupted = true;
    void (async () => {
      const current = run.current;
      let text: string;
      if (!current) {
        text = 'hoist: interrupted';
      } else if (!run.store) {
        // Nothing would remember the upload: abort it rather than leave it for the sweeper.
        await current.upload.abort().catch(() => {});
        text = `hoist: interrupted; ${current.file.path} was aborted (--no-resume keeps nothing to resume from)`;
      } else {
        // Resolves once the resume state is on disk.
        await current.upload.pause();
        text = `hoist: interrupted; ${current.file.path} is paused. Run the same command again to resume (state in ${run.settings.stateFile})`;
      }
      run.reporter.interrupted(text, current?.file);
      run.reporter.stop();
      process.exit(status);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
