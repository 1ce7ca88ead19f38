/**
 * The hook through which more measurements add rows to `npm run bench:upload` (the browser
 * part: a 1 GiB upload in headless Chromium, Chromium's own File-read speed, the bundle size).
 *
 * Write a module exporting an `UploadBenchExtension` and add it to `EXTENSIONS` in
 * bench/upload.ts. It runs after the Node rows, once, with the context below; what it returns
 * is printed after the built-in sections, and its budgets join the budget list. A thrown error
 * is reported as that extension's failure and does not stop the others.
 */
import type { BenchResources } from './resources.ts';
import type { Budget, Section } from './upload-report.ts';
import type { SinkWorld } from './upload-world.ts';

export interface UploadBenchContext {
  /** The generated file (random bytes) and its size. */
  file: string;
  size: number;
  runs: number;
  partSize: number;
  concurrency: number;
  /** Removed at the end, also on Ctrl-C. */
  workDir: string;
  /** Track child processes (browsers, servers) here so Ctrl-C stops them. */
  resources: BenchResources;
  /** The S3-shaped sink and the stub broker (started on first use, shared, closed at the end). */
  sinkWorld(): Promise<SinkWorld>;
  /** The Node engine's row against the sink, if measured (for comparisons). */
  engineToSink: Section['rows'][number] | undefined;
}

export interface UploadBenchExtension {
  name: string;
  run(context: UploadBenchContext): Promise<{ sections: Section[]; budgets: Budget[] }>;
}
