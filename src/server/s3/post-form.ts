/**
 * A streaming multipart/form-data reader for POST Object: the fields before the
 * `file` part are read into memory (bounded, as S3 bounds them), then the file's
 * bytes stream without being buffered. Parts after the file are ignored, as S3 does.
 */
import { S3Error } from '../../aws/s3/errors.ts';

/** S3: "Your POST request fields preceding the upload file were too large." (20 KB). */
export const MAX_PRE_FILE_BYTES = 20 * 1024;
const MAX_PART_HEADER_BYTES = 4 * 1024;

export interface PostForm {
  /** Field values by lower-cased name (S3 form field names are case-insensitive); first wins. */
  fields: Map<string, string>;
  /** The file part's `filename` (its last path segment, as browsers may send a path). */
  filename: string;
  /** The file's bytes; throws MalformedPOSTRequest when the closing boundary never comes. */
  file: AsyncGenerator<Buffer>;
}

function malformed(detail?: string): S3Error {
  return new S3Error(
    'MalformedPOSTRequest',
    `The body of your POST request is not well-formed multipart/form-data.${detail ? ` ${detail}` : ''}`,
  );
}

/** The boundary of a `multipart/form-data` Content-Type, or undefined when it is not one. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

interface PartHeaders {
  name: string;
  filename: string | undefined;
}

function parsePartHeaders(text: string): PartHeaders {
  let name: string | undefined;
  let filename: string | undefined;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed();
    if (line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    const value = line.slice(colon + 1);
    if (!/^\s*form-data\s*(;|$)/i.test(value)) throw malformed();
    name = /;\s*name="([^"]*)"/i.exec(value)?.[1] ?? /;\s*name=([^\s;]+)/i.exec(value)?.[1];
    filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1] ?? /;\s*filename=([^\s;]+)/i.exec(value)?.[1];
  }
  if (name === undefined) throw malformed();
  return { name, filename };
}

/**
 * Reads the form up to the file part. The returned `file` generator must be consumed
 * to the end (it checks the closing delimiter); whatever follows is read and dropped.
 */
export async function readPostForm(body: AsyncIterable<Buffer>, boundary: string): Promise<PostForm> {
  const source = body[Symbol.asyncIterator]();
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // The body starts with `--boundary` (no CRLF before it); a leading CRLF makes every delimiter alike.
  let buffer: Buffer = Buffer.from('\r\n');
  let consumed = 0;
  let ended = false;

  const more = async (): Promise<boolean> => {
    if (ended) return false;
    const next = await source.next();
    if (next.done) {
      ended = true;
      return false;
    }
    buffer = buffer.length === 0 ? next.value : Buffer.concat([buffer, next.value]);
    return true;
  };
  const tooLarge = () => new S3Error('MaxPostPreDataLengthExceededError');
  /** Index of `needle` in the buffer, reading more while it is not there and `limit` allows. */
  const find = async (needle: Buffer, limit: number, error: () => S3Error): Promise<number> => {
    for (;;) {
      const at = buffer.indexOf(needle);
      if (at >= 0) return at;
      if (buffer.length > limit) throw error();
      if (!(await more())) throw malformed();
    }
  };
  const take = (count: number): Buffer => {
    const out = buffer.subarray(0, count);
    buffer = buffer.subarray(count);
    consumed += count;
    return out;
  };

  const fields = new Map<string, string>();
  // Preamble, then the first delimiter.
  take((await find(delimiter, MAX_PRE_FILE_BYTES, tooLarge)) + delimiter.length);
  for (;;) {
    // After a delimiter: `--` ends the form, CRLF starts a part.
    while (buffer.length < 2) if (!(await more())) throw malformed();
    const after = take(2).toString('latin1');
    if (after === '--')
      throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', {
        extra: { ArgumentName: 'file', ArgumentValue: '0' },
      });
    if (after !== '\r\n') throw malformed();
    const headerEnd = await find(Buffer.from('\r\n\r\n'), MAX_PART_HEADER_BYTES, () => malformed());
    const headers = parsePartHeaders(take(headerEnd).toString('utf8'));
    take(4);
    if (consumed > MAX_PRE_FILE_BYTES) throw tooLarge();
    if (headers.name.toLowerCase() === 'file') {
      const filename = (headers.filename ?? '').split(/[\\/]/).pop() ?? '';
      return { fields, filename, file: fileBytes() };
    }
    const end = await find(delimiter, MAX_PRE_FILE_BYTES - consumed, tooLarge);
    const value = take(end).toString('utf8');
    take(delimiter.length);
    if (consumed > MAX_PRE_FILE_BYTES) throw tooLarge();
    const name = headers.name.toLowerCase();
    if (!fields.has(name)) fields.set(name, value);
  }

  async function* fileBytes(): AsyncGenerator<Buffer> {
    // Everything but a tail that could be the start of the delimiter is file data.
    for (;;) {
      const at = buffer.indexOf(delimiter);
      if (at >= 0) {
        if (at > 0) yield take(at);
        take(delimiter.length);
        break;
      }
      const safe = buffer.length - (delimiter.length - 1);
      if (safe > 0) yield take(safe);
      if (!(await more())) throw malformed('The file part has no closing boundary.');
    }
    // Parts after the file are ignored; read them so the client gets its answer.
    buffer = Buffer.alloc(0);
    while (await more()) buffer = Buffer.alloc(0);
  }
}
