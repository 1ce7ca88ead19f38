/**
 * The base of the server's own errors. Each carries a stable `code` and is named after its
 * class; `to-s3-error.ts` (`toS3Error`) is the one place any of them becomes an S3
 * answer, by class, and the Query endpoint renders STS and IAM errors by class too.
 */
export class ServerError<Code extends string = string> extends Error {
  readonly code: Code;
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A server error answered as it is on the wire: its `code` with an HTTP `status` (STS, IAM). */
export class ProtocolError<Code extends string = string> extends ServerError<Code> {
  readonly status: number;
  constructor(code: Code, message: string, status: number, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}
