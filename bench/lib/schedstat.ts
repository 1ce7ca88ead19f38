/**
 * CPU time of another process with nanosecond resolution (Linux `/proc/<pid>/task/<tid>/schedstat`,
 * first field: time spent on a CPU), for per-request costs of a few hundred µs that the 10 ms
 * clock ticks of `/proc/<pid>/stat` (see proc.ts) cannot resolve. Threads that exit between
 * two readings take their time with them: fine for a server whose threads live as long as it.
 */
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';

function taskNs(pid: number, tid: string): number {
  try {
    return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return 0; // the thread ended meanwhile
  }
}

export interface SchedTimes {
  /** All threads, ns. */
  total: number;
  /** The main (JavaScript) thread, ns. */
  main: number;
}

/** On-CPU nanoseconds of every thread of `pid`, and of its main thread. */
export function schedTimes(pid: number): SchedTimes {
  let total = 0;
  let main = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const ns = taskNs(pid, tid);
    total += ns;
    if (tid === String(pid)) main = ns;
  }
  return { total, main };
}

/** Whether schedstat is readable here (some kernels are built without it). */
export function hasSchedstat(pid = process.pid): boolean {
  try {
    return Number.isFinite(Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]));
  } catch {
    return false;
  }
}

export interface ThreadClock {
  /** On-CPU ns of the thread so far. */
  read(): number;
  close(): void;
}

/**
 * A cheap repeated reading of one thread's on-CPU time (one pread of an open file, a few µs),
 * to charge a single request's CPU to it. Defaults to the main (JavaScript) thread.
 */
export function openThreadClock(pid: number, tid = pid): ThreadClock {
  const fd = openSync(`/proc/${pid}/task/${tid}/schedstat`, 'r');
  const buffer = Buffer.alloc(128);
  return {
    read() {
      const n = readSync(fd, buffer, 0, buffer.length, 0);
      return Number(buffer.toString('latin1', 0, n).split(' ')[0]);
    },
    close() {
      closeSync(fd);
    },
  };
}
