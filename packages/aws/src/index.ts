/**
 * AWS wire logic shared by the engine, the broker and the local server: SigV4, the IAM
 * policy engine, S3 error codes and XML, and S3 operation → IAM action mapping.
 * @module
 */
export * from './policy/index.ts';
export { S3_ERRORS, S3Error, type S3ErrorCode } from './s3/errors.ts';
export { classifyS3Request, S3_OPERATIONS, type S3Operation } from './s3/operations.ts';
export * from './sigv4/index.ts';
