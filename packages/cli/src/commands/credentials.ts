/**
 * `hoist credentials <file>`: starts an upload for the file on the broker and prints the
 * temporary credentials it issued (shell exports or JSON), so the AWS CLI or any SDK can send
 * the parts; the broker still completes and verifies the upload.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BrokerClient, isUploadError, retryPolicy, UploadError } from '@hoist/client/core';
import { guessContentType } from '@hoist/client/node';
import type { CreateUploadResponse, TemporaryCredentials } from '@hoist/protocol';
import { type ChecksumAlgorithm, parseChecksumAlgorithm } from '@hoist/protocol';
import {
  BROKER_ARG_OPTIONS,
  brokerTarget,
  checkContentType,
  parsePartSize,
  UsageError,
  withUsageErrors,
} from '../broker-args.ts';

const HELP = `Usage: hoist credentials <file> --broker URL [--token T] [--format env|json]

Starts an upload of <file> on the broker and prints the temporary credentials it issued,
scoped to that one object key, so the AWS CLI or an SDK can send the parts. The broker
still has to complete the upload (it verifies size, type and checksum): see the note on
stderr. Brokers in presign mode issue no credentials.

  --broker URL        the broker's base URL (default: $HOIST_BROKER_URL)
  --token T           bearer token for the broker (default: $HOIST_TOKEN)
  --format F          env (default): shell exports, for eval "$(hoist credentials …)";
                      json: the broker's answer plus the completion URL
  --content-type T    MIME type (default: from the extension)
  --checksum ALG      checksum every part must carry: CRC32C (default), CRC32, CRC64NVME,
                      SHA1 or SHA256
  --part-size SIZE    preferred part size (16MiB, 8MB, bytes; the broker has the last word)
  -h, --help          show this help
`;

const OPTIONS = {
  ...BROKER_ARG_OPTIONS,
  format: { type: 'string' },
  'content-type': { type: 'string' },
  checksum: { type: 'string' },
  'part-size': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function runCredentials(args: string[]): Promise<void> {
  return withUsageErrors('credentials', async () => {
    const { values, positionals } = parseArgs({
      args,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (values.help) {
      process.stdout.write(HELP);
      return;
    }
    if (positionals.length !== 1) throw new UsageError('give exactly one file');
    const path = positionals[0] as string;
    const format = values.format ?? 'env';
    if (format !== 'env' && format !== 'json')
      throw new UsageError(`--format must be env or json, got "${format}"`);
    const { brokerUrl, token } = brokerTarget(values);
    let checksumAlgorithm: ChecksumAlgorithm = 'CRC32C';
    if (values.checksum !== undefined) {
      const parsed = parseChecksumAlgorithm(values.checksum);
      if (!parsed)
        throw new UsageError(
          `--checksum must be CRC32C, CRC32, CRC64NVME, SHA1 or SHA256, got "${values.checksum}"`,
        );
      checksumAlgorithm = parsed;
    }
    const partSize = values['part-size'] === undefined ? undefined : parsePartSize(values['part-size']);
    const contentType =
      checkContentType(values['content-type']) ?? (guessContentType(path) || 'application/octet-stream');
    let size: number;
    try {
      const info = await stat(resolve(path));
      if (!info.isFile()) throw new UsageError(`${path} is not a regular file`);
      size = info.size;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const code = (error as { code?: unknown }).code;
      throw new UsageError(
        code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${String(code)})`,
      );
    }

    const broker = new BrokerClient({
      baseUrl: brokerUrl,
      token,
      retry: retryPolicy({ maxAttempts: 3 }),
      timeoutMs: 30_000,
    });
    try {
      const created = await broker.create({
        filename: basename(path),
        size,
        contentType,
        checksumAlgorithm,
        ...(partSize === undefined ? {} : { partSize }),
      });
      if (!created.credentials) {
        // Nothing can use this upload: do not leave it open until the sweeper finds it.
        await broker.abort(created.id).catch(() => {});
        throw new UploadError(
          'broker-error',
          `this broker issues no credentials (${created.mode} mode): use "hoist upload" instead`,
        );
      }
      const completeUrl = `${brokerUrl}/uploads/${encodeURIComponent(created.id)}/complete`;
      process.stdout.write(
        format === 'json'
          ? `${JSON.stringify({ ...created, completeUrl }, null, 2)}\n`
          : shellExports(created, created.credentials, completeUrl),
      );
      process.stderr.write(explanation(created, created.credentials, brokerUrl, Date.now()));
    } catch (error) {
      if (!isUploadError(error)) throw error;
      process.stderr.write(`hoist: ${path}: ${error.message.replace(/\s*\n\s*/g, ' ')} (${error.code})\n`);
      process.exitCode = 1;
    }
  });
}

/** Single-quoted for POSIX shells: nothing inside is expanded. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function shellExports(
  created: CreateUploadResponse,
  credentials: TemporaryCredentials,
  completeUrl: string,
): string {
  const vars: [string, string][] = [
    ['AWS_ACCESS_KEY_ID', credentials.accessKeyId],
    ['AWS_SECRET_ACCESS_KEY', credentials.secretAccessKey],
    ['AWS_SESSION_TOKEN', credentials.sessionToken],
    ['AWS_REGION', created.region],
    // Read by the AWS CLI v2 and the SDKs: requests go where the broker says (a local server too).
    ['AWS_ENDPOINT_URL_S3', created.endpoint],
    ['HOIST_UPLOAD_ID', created.id],
    ['HOIST_BUCKET', created.bucket],
    ['HOIST_KEY', created.key],
    ['HOIST_S3_UPLOAD_ID', created.uploadId ?? ''],
    ['HOIST_ENDPOINT', created.endpoint],
    ['HOIST_FORCE_PATH_STYLE', String(created.forcePathStyle)],
    ['HOIST_PART_SIZE', String(created.partSize)],
    ['HOIST_PART_COUNT', String(created.partCount)],
    ['HOIST_CHECKSUM_ALGORITHM', created.checksumAlgorithm],
    ['HOIST_COMPLETE_URL', completeUrl],
  ];
  const lines = [
    `# Hoist upload ${created.id}: s3://${created.bucket}/${created.key}`,
    `# Credentials expire at ${credentials.expiration}; the upload at ${created.expiresAt}.`,
    ...vars.map(([name, value]) => `export ${name}=${quote(value)}`),
  ];
  if (created.putHeaders) {
    lines.push('# Send the file as one PutObject carrying these headers as they are:');
    for (const [name, value] of Object.entries(created.putHeaders)) lines.push(`#   ${name}: ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** What the credentials allow and how to finish, for people (stderr). */
function explanation(
  created: CreateUploadResponse,
  credentials: TemporaryCredentials,
  brokerUrl: string,
  now: number,
): string {
  const minutes = Math.max(0, Math.round((Date.parse(credentials.expiration) - now) / 60_000));
  const object = `s3://${created.bucket}/${created.key}`;
  const checksum = `x-amz-checksum-${created.checksumAlgorithm.toLowerCase()}`;
  const base = `${brokerUrl}/uploads/${encodeURIComponent(created.id)}`;
  const send =
    created.uploadId === null
      ? `  PutObject with If-None-Match: * (never an overwrite) and the headers listed above,\n` +
        `  plus ${checksum}; AbortMultipartUpload and ListParts on that key. No reads, lists or deletes.\n`
      : `  UploadPart into multipart upload $HOIST_S3_UPLOAD_ID (${created.partCount} parts of ${created.partSize} bytes,\n` +
        `  the last one shorter; each with ${checksum}), ListParts and AbortMultipartUpload;\n` +
        `  PutObject only with If-None-Match: * (never an overwrite). No reads, lists or deletes.\n`;
  const parts =
    created.uploadId === null ? '{"parts":[]}' : '{"parts":[{"partNumber":1,"etag":"…","checksum":"…"},…]}';
  return (
    `hoist: these credentials expire in about ${minutes} min (${credentials.expiration}) and allow, on ${object} only:\n` +
    send +
    `When the bytes are sent, complete through the broker (it verifies size, type and checksum):\n` +
    `  POST ${base}/complete  ${parts}\n` +
    `Fresh credentials: POST ${base}/credentials. Give up: DELETE ${base}\n`
  );
}
