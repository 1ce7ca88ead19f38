/**
 * What a benchmark must clean up, whatever happens: its child processes and its
 * temporary directory, on normal exit and on Ctrl-C.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

export class BenchResources {
  readonly children = new Set<ChildProcess>();
  workDir: string | undefined;
  #interrupted = false;

  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Asks every child to exit (SIGTERM → process.exit, so profiles get written), SIGKILL after `graceMs`. */
  async stopChildren(graceMs = 5_000): Promise<void> {
    const waiting = [...this.children].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
          setTimeout(() => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          }, graceMs).unref();
        }),
    );
    await Promise.all(waiting);
  }

  removeWorkDir(): void {
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
    this.workDir = undefined;
  }

  /** On SIGINT/SIGTERM: `beforeStop`, then stop the children, remove the directory and exit 130. */
  stopOnInterrupt(what: string, beforeStop?: () => void): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (this.#interrupted) return;
        this.#interrupted = true;
        process.stderr.write(`\n${signal}: stopping ${what} and removing ${this.workDir ?? 'nothing'}\n`);
        beforeStop?.();
        void this.stopChildren(2_000).finally(() => {
          this.removeWorkDir();
          process.exit(130);
        });
      });
    }
  }
}
