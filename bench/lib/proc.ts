/**
 * Per-process accounting from /proc (Linux): CPU seconds (utime + stime of every
 * thread, so the libuv threadpool's file I/O counts) and peak RSS (VmHWM), which
 * `resetPeakRss` sets back to the current RSS so each measurement gets its own peak.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const CLK_TCK = ((): number => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(out.stdout?.trim());
  return Number.isInteger(value) && value > 0 ? value : 100;
})();

export interface CpuTimes {
  /** All threads, seconds. */
  total: number;
  /** The main (JavaScript) thread. */
  main: number;
  /** V8's platform workers: concurrent/parallel GC, compilation. */
  v8: number;
  /** libuv's threadpool: file I/O (write, fdatasync), DNS, some crypto. */
  io: number;
  /** `worker_threads` workers (each its own JS thread). */
  workers: number;
}

/** utime + stime in seconds from a `/proc/.../stat` line (fields 14 and 15). */
function statSeconds(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // The command name (field 2) may hold spaces; fields after it are split safely.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * CPU seconds of a process, in total and per thread group (by thread name).
 * Threads that already exited count in `total` only.
 */
export function cpuTimes(pid: number): CpuTimes {
  const times: CpuTimes = { total: statSeconds(`/proc/${pid}/stat`), main: 0, v8: 0, io: 0, workers: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const seconds = statSeconds(`/proc/${pid}/task/${tid}/stat`);
      if (tid === String(pid)) times.main += seconds;
      else if (name === 'V8Worker') times.v8 += seconds;
      else if (name === 'libuv-worker') times.io += seconds;
      else if (name === 'WorkerThread') times.workers += seconds;
    } catch {
      // the thread ended meanwhile
    }
  }
  return times;
}

function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kb) / 1024;
}

/** Peak resident set size in MiB since start or since the last `resetPeakRss`. */
export function peakRssMiB(pid: number): number {
  return statusMiB(pid, 'VmHWM');
}

/** Current resident set size in MiB. */
export function rssMiB(pid: number): number {
  return statusMiB(pid, 'VmRSS');
}

/** Resets VmHWM to the current RSS; returns false where the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
