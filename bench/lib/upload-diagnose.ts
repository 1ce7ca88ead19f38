/**
 * What a Node client was doing when it stopped making progress: its processes run with
 * `--report-on-signal`, and on a timeout the benchmark asks for a diagnostic report (SIGUSR2)
 * and quotes the JavaScript stack and the open libuv handles, so a hang is a finding, not a
 * mystery.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** V8 options that make a process write a report into `dir` on SIGUSR2. */
export const reportArgv = (dir: string): string[] => ['--report-on-signal', `--report-directory=${dir}`];

interface Report {
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: { type: string; is_active?: boolean }[];
}

/** Signals `pid` for a report in `dir` and summarises it (or says why not) within ~3 s. */
export async function describeStuck(pid: number, dir: string): Promise<string> {
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return 'no report: the process is gone';
  }
  for (let waited = 0; waited < 3_000; waited += 100) {
    await sleep(100);
    const name = readdirSync(dir).find((file) => file.startsWith('report.') && file.includes(`.${pid}.`));
    if (!name) continue;
    const path = join(dir, name);
    let report: Report;
    try {
      report = JSON.parse(readFileSync(path, 'utf8')) as Report;
    } catch {
      continue; // still being written
    }
    rmSync(path, { force: true });
    const handles = new Map<string, number>();
    for (const handle of report.libuv ?? [])
      if (handle.is_active) handles.set(handle.type, (handles.get(handle.type) ?? 0) + 1);
    const stack = (report.javascriptStack?.stack ?? [])
      .map((frame) => frame.trim())
      .filter((frame) => !frame.startsWith('at process.processTicksAndRejections'))
      .slice(0, 4);
    const js = stack.length ? `JS at ${stack.join(' ← ')}` : 'JS idle, waiting for I/O';
    return `${js}; active handles: ${[...handles].map(([type, n]) => `${type}×${n}`).join(', ') || 'none'}`;
  }
  return 'no report within 3 s';
}
