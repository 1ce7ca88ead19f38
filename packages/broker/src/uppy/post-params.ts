/**
 * `GET {uppy.path}/s3/params`: Uppy's small-file path. Uppy POSTs the answer's form straight to
 * S3 and never calls back, so the form's policy does the checking S3 can do (key, type, size
 * range) and the lifecycle verifies the object later (reconcile.ts). Companion's client sends
 * only the name and type; Hoist's own signer adds the exact `size`, which the policy then pins.
 */
import type { PostForm } from '@hoist/protocol';
import { BrokerProblem } from '../errors.ts';
import type { BrokerUser } from '../types.ts';
import type { UploadService } from '../uploads.ts';
import { readableSize } from './service.ts';

export interface UppyFormSettings {
  limits: { maxObjectSize: number };
  singleRequestMaxSize: number;
}

export interface UppyFormInput {
  filename: string;
  contentType: string;
  /** Bytes, when the client says (Hoist's signRequest); unknown on Companion's path. */
  size?: number | undefined;
}

export async function uppyPostForm(
  uploads: UploadService,
  settings: UppyFormSettings,
  user: BrokerUser,
  input: UppyFormInput,
): Promise<PostForm> {
  const { limits, singleRequestMaxSize } = settings;
  if (input.size !== undefined && input.size > limits.maxObjectSize)
    throw new BrokerProblem(
      'too-large',
      `This file is larger than your ${readableSize(limits.maxObjectSize)} limit`,
    );
  if (input.size !== undefined && input.size > singleRequestMaxSize)
    throw new BrokerProblem(
      'too-large',
      `Files over ${readableSize(singleRequestMaxSize)} go in parts: configure Uppy's shouldUseMultipart for that size`,
    );
  // Unknown size: the largest a form may carry, and the quotas count that until it is verified.
  const bound = Math.min(limits.maxObjectSize, singleRequestMaxSize);
  const created = await uploads.create(user, {
    filename: input.filename,
    contentType: input.contentType,
    size: input.size ?? bound,
    singleRequest: 'post',
    ...(input.size === undefined ? { sizeIsBound: true } : {}),
  });
  if (!created.postForm) throw new BrokerProblem('internal', 'The upload was created without a form');
  return created.postForm;
}
