/**
 * The `multipart/form-data` envelope of a POST Object form: the fields in their order, then
 * the part headers of `file`. The transport streams the file's bytes between `head` and
 * `tail`, so the body is never assembled in memory and its length is known up front.
 */
import { randomBytes } from 'node:crypto';

export interface FormEnvelope {
  /** The request's Content-Type, with the boundary. */
  contentType: string;
  /** Every field, then the file part's headers. */
  head: Buffer;
  /** The closing boundary after the file's bytes. */
  tail: Buffer;
}

const CRLF = '\r\n';

/** A name inside Content-Disposition's quotes, escaped as browsers escape it. */
function quoted(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** The envelope around a file sent as the field `file` after `fields`. */
export function formEnvelope(
  fields: Record<string, string>,
  boundary = `hoist-${randomBytes(16).toString('hex')}`,
): FormEnvelope {
  const delimiter = `--${boundary}${CRLF}`;
  let head = '';
  for (const [name, value] of Object.entries(fields)) {
    // A value holding the boundary would end its part early (S3 would read other fields).
    if (value.includes(boundary) || name.includes(boundary))
      throw new TypeError(`form field ${JSON.stringify(name)} contains the multipart boundary`);
    head += `${delimiter}Content-Disposition: form-data; name="${quoted(name)}"${CRLF}${CRLF}${value}${CRLF}`;
  }
  head += `${delimiter}Content-Disposition: form-data; name="file"; filename="file"${CRLF}`;
  head += `Content-Type: application/octet-stream${CRLF}${CRLF}`;
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    head: Buffer.from(head, 'utf8'),
    tail: Buffer.from(`${CRLF}--${boundary}--${CRLF}`, 'utf8'),
  };
}
