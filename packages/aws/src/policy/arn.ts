/**
 * Amazon Resource Names: `arn:partition:service:region:account:resource`. The resource part
 * may itself contain colons, so only the first five colons delimit components.
 */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

/**
 * Splits `text` at its first five colons into the six ARN components, or returns `undefined`
 * when it has fewer than five colons.
 */
export function splitArn(text: string): [string, string, string, string, string, string] | undefined {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < 5; i++) {
    const colon = text.indexOf(':', start);
    if (colon < 0) return undefined;
    parts.push(text.slice(start, colon));
    start = colon + 1;
  }
  return [parts[0]!, parts[1]!, parts[2]!, parts[3]!, parts[4]!, text.slice(start)];
}

/** Parses an ARN; `undefined` unless it starts with `arn:` and has a non-empty partition and service. */
export function parseArn(text: string): Arn | undefined {
  const parts = splitArn(text);
  if (parts?.[0] !== 'arn' || parts[1] === '' || parts[2] === '') return undefined;
  return { partition: parts[1], service: parts[2], region: parts[3], account: parts[4], resource: parts[5] };
}

/** Formats ARN components back into `arn:partition:service:region:account:resource`. */
export function formatArn(arn: Arn): string {
  return `arn:${arn.partition}:${arn.service}:${arn.region}:${arn.account}:${arn.resource}`;
}

/** `arn:aws:s3:::bucket`: the resource S3 bucket operations are authorized against. */
export function s3BucketArn(bucket: string, partition = 'aws'): string {
  return `arn:${partition}:s3:::${bucket}`;
}

/** `arn:aws:s3:::bucket/key`: the resource object operations are authorized against; the key is used verbatim. */
export function s3ObjectArn(bucket: string, key: string, partition = 'aws'): string {
  return `arn:${partition}:s3:::${bucket}/${key}`;
}

/** Bucket and key of an S3 ARN, or `undefined` when `text` is not an S3 bucket or object ARN. */
export function parseS3Arn(text: string): { bucket: string; key?: string } | undefined {
  const arn = parseArn(text);
  if (arn?.service !== 's3' || arn.region !== '' || arn.account !== '' || arn.resource === '') {
    return undefined;
  }
  const slash = arn.resource.indexOf('/');
  if (slash < 0) return { bucket: arn.resource };
  if (slash === 0) return undefined;
  return { bucket: arn.resource.slice(0, slash), key: arn.resource.slice(slash + 1) };
}
