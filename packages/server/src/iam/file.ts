/**
 * `<dataDir>/iam.json`: the persisted IAM state. Written whole, crash-safely (temp file,
 * fsync, rename, fsync of the directory), mode 0600 since it holds secret keys. A crash
 * leaves either the old or the new file; a stray temp file is ignored and removed at open.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { formatIssues } from './issues.ts';

export const IAM_FILE = 'iam.json';
const FORMAT_VERSION = 1;

const record = z.record(z.string(), z.string());

const fileSchema = z.object({
  version: z.literal(FORMAT_VERSION),
  accountId: z.string(),
  users: z.array(
    z.object({
      userName: z.string(),
      userId: z.string(),
      path: z.string(),
      createDate: z.number(),
      policies: record,
      tags: record,
      accessKeys: z.array(
        z.object({
          accessKeyId: z.string(),
          secretAccessKey: z.string(),
          status: z.enum(['Active', 'Inactive']),
          createDate: z.number(),
        }),
      ),
    }),
  ),
  roles: z.array(
    z.object({
      roleName: z.string(),
      roleId: z.string(),
      path: z.string(),
      createDate: z.number(),
      description: z.string().optional(),
      assumeRolePolicyDocument: z.string(),
      maxSessionDuration: z.number(),
      policies: record,
      tags: record,
    }),
  ),
  managedPolicies: z.array(z.object({ policyName: z.string(), path: z.string(), document: z.string() })),
});

export type IamFile = z.infer<typeof fileSchema>;
export type IamFileUser = IamFile['users'][number];
export type IamFileRole = IamFile['roles'][number];

export function serializeIamFile(content: Omit<IamFile, 'version'>): string {
  return `${JSON.stringify({ version: FORMAT_VERSION, ...content }, null, 2)}\n`;
}

/** The stored state and its exact text, or undefined when there is no file yet. */
export function readIamFile(path: string): { file: IamFile; text: string } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success)
    throw new Error(`${path} is not a valid IAM state file:\n${formatIssues(parsed.error.issues)}`);
  return { file: parsed.data, text };
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    // Some platforms cannot open or fsync a directory; the rename itself is still atomic there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

const isTempName = (file: string, name: string): boolean =>
  name.startsWith(`${file}.`) && name.endsWith('.tmp');

/** Replaces `path` with `text` so that a crash at any point leaves the old or the new content. */
export function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const bytes = Buffer.from(text, 'utf8');
  const fd = openSync(temp, 'wx', 0o600);
  try {
    for (let offset = 0; offset < bytes.length; )
      offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  fsyncDirectory(dirname(path));
}

/** Removes temp files a crash left next to `path`; they never hold the committed state. */
export function removeStaleTempFiles(path: string): void {
  const dir = dirname(path);
  const file = basename(path);
  for (const name of readdirSync(dir)) {
    if (isTempName(file, name)) rmSync(join(dir, name), { force: true });
  }
}
