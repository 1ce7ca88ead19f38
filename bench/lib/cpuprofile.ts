/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function,
 * highest first. Only the JavaScript thread is sampled; work in libuv's threadpool
 * (file writes, fdatasync) shows up in /proc CPU time but not here.
 *
 *   node bench/lib/cpuprofile.ts <file.cpuprofile> [top]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  selfMs: number;
  share: number;
}

export function summariseProfile(
  path: string,
  top = 20,
): { totalMs: number; idleMs: number; lines: ProfileLine[] } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const frame = byId.get(id)?.callFrame;
    const fn = frame?.functionName || '(anonymous)';
    if (fn === '(idle)') {
      idleMs += ms;
      return;
    }
    totalMs += ms;
    const where = frame?.url
      ? ` ${relative(process.cwd(), frame.url.replace(/^file:\/\//, ''))}:${frame.lineNumber + 1}`
      : '';
    const name = `${fn}${where}`;
    self.set(name, (self.get(name) ?? 0) + ms);
  });
  const lines = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, selfMs]) => ({ name, selfMs, share: totalMs > 0 ? selfMs / totalMs : 0 }));
  return { totalMs, idleMs, lines };
}

export function formatProfile(path: string, top = 20): string {
  const { totalMs, idleMs, lines } = summariseProfile(path, top);
  const out = [
    `${path}: ${(totalMs / 1000).toFixed(2)} s busy, ${(idleMs / 1000).toFixed(2)} s idle (JS thread)`,
  ];
  for (const line of lines) {
    out.push(
      `  ${line.selfMs.toFixed(0).padStart(7)} ms ${(line.share * 100).toFixed(1).padStart(5)}%  ${line.name}`,
    );
  }
  return out.join('\n');
}

if (import.meta.main) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: cpuprofile.ts <file.cpuprofile> [top]\n');
    process.exit(2);
  }
  console.log(formatProfile(file, Number(top ?? 20)));
}
