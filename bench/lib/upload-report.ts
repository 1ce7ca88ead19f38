/**
 * The upload benchmark's report: sections of rows (one client each, its samples over the
 * runs), budgets, and their rendering as Markdown-style tables. Other measurements (the
 * browser rows) add their own sections and budgets through the same types.
 */
import { median } from './cli.ts';

const GiB = 1024 ** 3;

/** One measured upload. */
export interface Sample {
  seconds: number;
  /** CPU seconds of the uploading process (all threads). */
  cpuSeconds: number;
  peakRssMiB: number;
  /** CPU seconds of the S3 server meanwhile, where measured. */
  serverCpuSeconds?: number;
}

export interface Row {
  client: string;
  /** Bytes per upload (the file size). */
  bytes: number;
  samples: Sample[];
  /** What protects the bytes, as seen on the wire (e.g. `CRC32C header`). */
  integrity?: string;
  /** Why a row has no figures, or what to know about them. */
  note?: string;
}

export interface Section {
  title: string;
  rows: Row[];
  /** The client the `×` column compares MB/s with. */
  ratioTo?: string;
  notes?: string[];
}

export interface Budget {
  what: string;
  /** undefined: could not be checked (a row is missing). */
  pass: boolean | undefined;
  detail: string;
}

export interface RowSummary {
  mbps: number;
  minMbps: number;
  maxMbps: number;
  cpuPerGiB: number;
  /** Highest of the runs. */
  peakRssMiB: number;
  serverCpuPerGiB: number | undefined;
}

export function summarize(row: Row | undefined): RowSummary | undefined {
  if (!row || row.samples.length === 0) return undefined;
  const mbps = row.samples.map((s) => row.bytes / 1e6 / s.seconds);
  const server = row.samples.flatMap((s) => (s.serverCpuSeconds === undefined ? [] : [s.serverCpuSeconds]));
  return {
    mbps: median(mbps),
    minMbps: Math.min(...mbps),
    maxMbps: Math.max(...mbps),
    cpuPerGiB: median(row.samples.map((s) => s.cpuSeconds / (row.bytes / GiB))),
    peakRssMiB: Math.max(...row.samples.map((s) => s.peakRssMiB)),
    serverCpuPerGiB: server.length ? median(server) / (row.bytes / GiB) : undefined,
  };
}

export const findRow = (section: Section | undefined, client: string): Row | undefined =>
  section?.rows.find((row) => row.client === client);

/** A Markdown-style table; columns from `firstNumeric` to `lastNumeric` are right-aligned. */
export function table(rows: string[][], firstNumeric: number, lastNumeric: number): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const right = (i: number): boolean => i >= firstNumeric && i <= lastNumeric;
  const line = (row: string[]): string =>
    `| ${row.map((cell, i) => (right(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(rows[0]!), rule, ...rows.slice(1).map(line)].join('\n');
}

const fixed = (n: number, digits: number): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

export function renderSection(section: Section): string {
  const summaries = section.rows.map(summarize);
  const base = summarize(findRow(section, section.ratioTo ?? ''));
  const withServer = summaries.some((s) => s?.serverCpuPerGiB !== undefined);
  const withIntegrity = section.rows.some((row) => row.integrity);
  const header = ['client', 'MB/s', 'min–max', 'CPU s/GiB', 'peak RSS MiB'];
  if (section.ratioTo) header.push(`× ${section.ratioTo}`);
  if (withServer) header.push('server CPU s/GiB');
  const lastNumeric = header.length - 1;
  if (withIntegrity) header.push('integrity on the wire');
  header.push('note');
  const rows = [header];
  section.rows.forEach((row, i) => {
    const s = summaries[i];
    const cells = [row.client];
    if (s) {
      cells.push(
        fixed(s.mbps, 0),
        `${fixed(s.minMbps, 0)}–${fixed(s.maxMbps, 0)}`,
        fixed(s.cpuPerGiB, 2),
        fixed(s.peakRssMiB, 0),
      );
    } else cells.push('–', '–', '–', '–');
    if (section.ratioTo) cells.push(s && base ? `${fixed(s.mbps / base.mbps, 2)}×` : '–');
    if (withServer) cells.push(s?.serverCpuPerGiB === undefined ? '–' : fixed(s.serverCpuPerGiB, 2));
    if (withIntegrity) cells.push(row.integrity ?? '');
    cells.push(row.note ?? '');
    rows.push(cells);
  });
  const notes = section.notes?.length ? `\n${section.notes.join('\n')}` : '';
  return `${section.title}\n${table(rows, 1, lastNumeric)}${notes}`;
}

export function renderBudgets(budgets: readonly Budget[]): string {
  const mark = (pass: boolean | undefined): string => (pass === undefined ? 'n/a ' : pass ? 'PASS' : 'FAIL');
  return ['Budgets', ...budgets.map((b) => `  [${mark(b.pass)}] ${b.what}: ${b.detail}`)].join('\n');
}
