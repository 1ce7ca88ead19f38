/**
 * The external programs some tests drive (Chromium, the AWS CLI), found the same way on every
 * machine: an environment variable naming the executable, else the first match on PATH. A
 * missing one fails the test that needs it with a message saying how to install it.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

export interface Tool {
  /** What it is, for messages. */
  label: string;
  /** The environment variable that names its executable. */
  env: string;
  /** Names to look for on PATH, in order. */
  names: string[];
  /** How to install it (one line). */
  install: string;
}

export const CHROMIUM: Tool = {
  label: 'Chromium',
  env: 'HOIST_CHROMIUM',
  names: ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'],
  install:
    'apt-get install -y chromium (Debian/Ubuntu), or set HOIST_CHROMIUM to a Chromium or Chrome binary',
};

export const AWS_CLI: Tool = {
  label: 'the AWS CLI',
  env: 'HOIST_AWS_CLI',
  names: ['aws'],
  install:
    'apt-get install -y awscli (Debian), or install AWS CLI v2 and put aws on PATH or in HOIST_AWS_CLI',
};

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Every executable on PATH named like the tool, in PATH order. */
export function onPath(tool: Tool, env: NodeJS.ProcessEnv = process.env): string[] {
  const found: string[] = [];
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    for (const name of tool.names) {
      const path = join(dir, name);
      if (executable(path) && !found.includes(path)) found.push(path);
    }
  }
  return found;
}

/** The tool's executable, or undefined when neither its variable nor PATH names one. */
export function findTool(tool: Tool, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const named = env[tool.env];
  if (named) return isAbsolute(named) && executable(named) ? named : undefined;
  return onPath(tool, env)[0];
}

/** Why the tool cannot be used: the message a test fails with. */
export function missingToolMessage(tool: Tool, env: NodeJS.ProcessEnv = process.env): string {
  const named = env[tool.env];
  const where = named
    ? `${tool.env}=${named} is not an executable file (an absolute path is needed)`
    : `${tool.env} is unset and none of ${tool.names.join(', ')} is on PATH`;
  return `${tool.label} is needed by this test: ${where}. Install it: ${tool.install}`;
}

/** The tool's executable; throws with the install message when it is missing. */
export function requireTool(tool: Tool, env: NodeJS.ProcessEnv = process.env): string {
  const path = findTool(tool, env);
  if (path === undefined) throw new Error(missingToolMessage(tool, env));
  return path;
}
