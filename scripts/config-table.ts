/**
 * Prints the broker's configuration reference as the Markdown table in docs/broker.md, generated
 * from `CONFIG_REFERENCE` (test/readme.test.ts fails when that copy differs):
 *
 * ```sh
 * node scripts/config-table.ts
 * ```
 * @module
 */
import { CONFIG_REFERENCE } from '@hoist/broker/internal/config';

/** Markdown that would otherwise be read as emphasis, HTML or a cell boundary, escaped. */
function text(value: string): string {
  return value.replace(/[\\`*_<>|[\]]/g, (c) => `\\${c}`);
}

/** A default that is one value (`900`, `*\/*`) as code; a phrase ("s3.endpoint, else AWS") as text. */
function defaultCell(value: string): string {
  if (value === '') return '–';
  return /^[^\s()`|]+$/.test(value) ? `\`${value}\`` : text(value);
}

/** The table: one row per field, with its JSON path, environment variable, default and meaning. */
export function configTable(rows: typeof CONFIG_REFERENCE = CONFIG_REFERENCE): string {
  const lines = ['| field | variable | default | meaning |', '|---|---|---|---|'];
  for (const row of rows) {
    lines.push(
      `| \`${row.path}\` | \`${row.env}\` | ${defaultCell(row.default)} | ${text(row.description)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.main) process.stdout.write(`${configTable()}\n`);
