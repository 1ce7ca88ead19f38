/**
 * The Hoist upload engine, platform-neutral core: parallel, checksummed, resumable multipart
 * uploads through a Hoist broker. `hoist/client/node` and `hoist/client/browser` add the
 * transport, file source, hasher and resume store of each platform.
 */

export type { UploadView } from '@hoist/protocol';
export { BrokerClient } from './broker-client.ts';
export { createPartHasher } from './checksum.ts';
export { isUploadError, UPLOAD_ERROR_CODES, UploadError, type UploadErrorCode } from './errors.ts';
export { fingerprint } from './fingerprint.ts';
export { compositeChecksum, fullObjectChecksum } from './object-checksum.ts';
export { defaultResumeKey, normalizeBrokerUrl } from './options.ts';
export { retryPolicy } from './retry.ts';
export type {
  FormBody,
  HttpRequest,
  HttpResponse,
  HttpTransport,
  PartHasher,
  ResumePart,
  ResumeRecord,
  ResumeStore,
  RetryOptions,
  TokenProvider,
  UploadEventName,
  UploadEvents,
  UploadListener,
  UploadOptions,
  UploadProgress,
  UploadSource,
  UploadState,
} from './types.ts';
export { createUpload, Upload } from './upload.ts';
