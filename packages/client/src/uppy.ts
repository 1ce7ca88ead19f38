/**
 * `signRequest` for `@uppy/aws-s3`, routed through a Hoist broker's Uppy routes.
 *
 * A small file (at most `singleRequestMaxSize`) goes as one POST: its PutObject is answered with
 * the broker's presigned POST form, whose policy pins the broker's key, the type and the exact
 * size; the broker verifies the object when its owner next reads their uploads, or after the
 * form expires.
 *
 * Uppy asks its signer for one S3 request at a time and then sends that request itself. Only
 * the part uploads go to S3 (presigned by the broker, for the broker's key); every other step
 * is the broker's to take, so the signer takes it while signing — create, list, complete,
 * abort through the broker, which checks the user, limits and type, completes with no
 * overwrite and verifies the object — and hands Uppy S3's answer to send for (a `data:` URL,
 * or a `blob:` URL for GETs), so Uppy reads the upload id, parts or location as from S3.
 *
 * @example
 * ```ts
 * import AwsS3 from '@uppy/aws-s3';
 * import { hoistAwsS3Options } from '@hoist/client/uppy';
 *
 * // signRequest, generateObjectKey and shouldUseMultipart (over the broker's single-request size)
 * uppy.use(AwsS3, hoistAwsS3Options({ endpoint: '/api/companion', token: () => session.token }));
 * ```
 * @module
 */
import { DEFAULT_SINGLE_REQUEST_MAX_SIZE } from '@hoist/protocol';
import { UploadError } from './errors.ts';
import { problemError } from './problem.ts';

/** The request Uppy asks to have signed (structurally `PresignableRequest` of @uppy/aws-s3 6). */
export interface UppySignableRequest {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  key: string;
  uploadId?: string;
  partNumber?: number;
  contentType?: string;
  expiresIn?: number;
}

/** What Uppy sends its request to (structurally `PresignedResponse`). */
export interface UppySignedRequest {
  url: string;
  key?: string;
  headers?: Record<string, string>;
  /** A POST-policy form for the PutObject (Uppy then POSTs these fields and the file to `url`). */
  fields?: Record<string, string>;
}

export interface HoistUppyOptions {
  /** The broker's Uppy routes: the broker URL and its `uppy.path`, e.g. `/api/companion`. */
  endpoint: string;
  /**
   * The broker token or JWT, or a function returning a fresh one. Without it the browser's
   * cookie is sent (same-origin brokers; see `POST {endpoint}/session`).
   */
  token?: string | (() => string | Promise<string>);
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Files up to this many bytes go as one POST form, larger ones multipart: the broker's
   * `singleRequestMaxSize` (it refuses a larger form).
   * @default 8 MiB (the broker's default)
   */
  singleRequestMaxSize?: number;
}

function xmlEscape(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** S3's answer for Uppy to "receive": POST/DELETE go to a data: URL (blob: URLs are GET-only). */
function answer(xml: string, method: UppySignableRequest['method']): string {
  const body = `<?xml version="1.0" encoding="UTF-8"?>${xml}`;
  if (method === 'GET') return URL.createObjectURL(new Blob([body], { type: 'application/xml' }));
  return `data:application/xml;charset=utf-8,${encodeURIComponent(body)}`;
}

function validate(options: HoistUppyOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new UploadError('invalid-options', 'hoistSignRequest needs an options object');
  if (typeof options.endpoint !== 'string' || options.endpoint.trim() === '')
    throw new UploadError('invalid-options', 'endpoint must be the URL of the broker’s Uppy routes');
  const { token } = options;
  if (token !== undefined && typeof token !== 'string' && typeof token !== 'function')
    throw new UploadError('invalid-options', 'token must be a string or a function returning one');
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    throw new UploadError('invalid-options', 'fetch must be a function');
  const max = options.singleRequestMaxSize;
  if (max !== undefined && (!Number.isSafeInteger(max) || max < 0))
    throw new UploadError('invalid-options', 'singleRequestMaxSize must be a whole number of bytes');
}

/** The file fields Uppy hands `generateObjectKey`. */
export interface UppyFileLike {
  name?: string;
  type?: string;
  /** Bytes: pinned in a small file's POST form. */
  size?: number | null;
}

/** What the signer knows of the file behind a key from `generateObjectKey`. */
export interface UppyFileFacts {
  name: string;
  type: string;
  size?: number;
}

/** The `@uppy/aws-s3` options that route it through the broker. */
export interface HoistAwsS3Options {
  signRequest(request: UppySignableRequest): Promise<UppySignedRequest>;
  /**
   * Uppy's "key" becomes a name for the file, which the signer tells the broker (name and
   * type) when it creates the upload: the broker picks the real key.
   */
  generateObjectKey(file: UppyFileLike): string;
  /** Multipart over `singleRequestMaxSize` (and when the size is unknown); one POST form below. */
  shouldUseMultipart(file: UppyFileLike): boolean;
}

export function hoistAwsS3Options(options: HoistUppyOptions): HoistAwsS3Options {
  const files = new Map<string, UppyFileFacts>();
  let next = 0;
  const signRequest = hoistSignRequest(options, (key) => files.get(key));
  const max = options.singleRequestMaxSize ?? DEFAULT_SINGLE_REQUEST_MAX_SIZE;
  return {
    signRequest,
    generateObjectKey(file) {
      next += 1;
      const ref = `hoist-file-${next}-${Math.random().toString(36).slice(2)}`;
      const facts: UppyFileFacts = {
        name: file.name || 'file',
        type: file.type || 'application/octet-stream',
      };
      if (typeof file.size === 'number') facts.size = file.size;
      files.set(ref, facts);
      return ref;
    },
    shouldUseMultipart: (file) => typeof file.size !== 'number' || file.size > max,
  };
}

/**
 * The signer alone. `describe` gives the file's name and type for the key Uppy requested
 * (hoistAwsS3Options does); without it the key is the name and the type is unknown.
 */
export function hoistSignRequest(
  options: HoistUppyOptions,
  describe: (key: string) => UppyFileFacts | undefined = () => undefined,
): (request: UppySignableRequest) => Promise<UppySignedRequest> {
  validate(options);
  const base = options.endpoint.replace(/\/+$/, '');
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    const token = typeof options.token === 'function' ? await options.token() : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        credentials: 'same-origin',
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new UploadError('network', 'The upload service cannot be reached', {
        retryable: true,
        cause: error,
      });
    }
    const text = await res.text();
    // The broker's detail is written for people ("This file is larger than your 5 GiB limit").
    if (!res.ok) throw problemError(undefined, res.status, text, res.headers.get('retry-after'));
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return json as T;
  }

  const uploadPath = (request: UppySignableRequest, suffix = '') =>
    `/s3/multipart/${encodeURIComponent(request.uploadId ?? '')}${suffix}?${new URLSearchParams({ key: request.key })}`;

  return async function signRequest(request) {
    const { method, uploadId, partNumber } = request;
    if (method === 'POST' && uploadId === undefined) {
      // The broker picks the key (under the user's prefix) and creates the upload.
      const file = describe(request.key);
      const created = await call<{ key: string; uploadId: string }>('POST', '/s3/multipart', {
        filename: file?.name ?? request.key,
        type: file?.type ?? request.contentType ?? 'application/octet-stream',
      });
      const xml = `<InitiateMultipartUploadResult><Key>${xmlEscape(created.key)}</Key><UploadId>${xmlEscape(created.uploadId)}</UploadId></InitiateMultipartUploadResult>`;
      return { url: answer(xml, method), key: created.key };
    }
    if (method === 'PUT' && uploadId === undefined) {
      // One request: the broker's POST form, its policy pinning key, type and (known) size.
      const file = describe(request.key);
      const query = new URLSearchParams({
        filename: file?.name ?? request.key,
        type: file?.type ?? request.contentType ?? 'application/octet-stream',
      });
      if (file?.size !== undefined) query.set('size', String(file.size));
      const form = await call<{ url: string; fields: Record<string, string> }>('GET', `/s3/params?${query}`);
      return { url: form.url, fields: form.fields, key: form.fields.key ?? '' };
    }
    if (uploadId === undefined)
      throw new UploadError('invalid-options', `Hoist does not sign ${method} requests without an upload`);
    if (method === 'PUT' && partNumber !== undefined) {
      const signed = await call<{ url: string }>('GET', uploadPath(request, `/${partNumber}`));
      return { url: signed.url };
    }
    if (method === 'GET') {
      const parts = await call<{ PartNumber: number; ETag: string; Size: number }[]>(
        'GET',
        uploadPath(request),
      );
      const xml = `<ListPartsResult>${parts
        .map(
          (p) =>
            `<Part><PartNumber>${p.PartNumber}</PartNumber><ETag>${xmlEscape(p.ETag)}</ETag><Size>${p.Size}</Size></Part>`,
        )
        .join('')}</ListPartsResult>`;
      return { url: answer(xml, method) };
    }
    if (method === 'POST') {
      // Uppy's signer is not shown the parts: the broker completes with those S3 has, in order.
      const parts = await call<{ PartNumber: number; ETag: string }[]>('GET', uploadPath(request));
      const done = await call<{ location: string; bucket: string; key: string }>(
        'POST',
        uploadPath(request, '/complete'),
        { parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) },
      );
      const xml = `<CompleteMultipartUploadResult><Location>${xmlEscape(done.location)}</Location><Bucket>${xmlEscape(done.bucket)}</Bucket><Key>${xmlEscape(done.key)}</Key></CompleteMultipartUploadResult>`;
      return { url: answer(xml, method) };
    }
    if (method === 'DELETE') {
      await call('DELETE', uploadPath(request));
      return { url: answer('<AbortMultipartUploadResult/>', method) };
    }
    throw new UploadError('invalid-options', `Hoist does not sign ${method} requests for Uppy`);
  };
}
