/**
 * Loaded by bin/hoist.js before the CLI itself: Node 22 marks `node:sqlite` (the broker's registry, the local
 * server's metadata) as experimental with a warning on every start that nobody running
 * `hoist` can act on. Only that warning is dropped; every other one is printed as usual.
 */
const SQLITE_EXPERIMENTAL = /^SQLite is an experimental feature/;
const emitWarning = process.emitWarning.bind(process);

process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (SQLITE_EXPERIMENTAL.test(text)) return;
  (emitWarning as (warning: string | Error, ...rest: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;
