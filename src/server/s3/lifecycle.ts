/**
 * Bucket lifecycle: Put/Get/DeleteBucketLifecycle(Configuration) with S3's XML. The rules are
 * validated and stored per bucket, as on S3, so tools that configure a bucket (`hoist aws
 * setup`, the AWS CLI) can be tested here; the local server does not run them (nothing
 * expires or is aborted by age). Transitions and noncurrent-version actions need storage
 * classes and versioning, which this server refuses, so they are refused too.
 */
import { randomUUID } from 'node:crypto';
import { S3Error } from '../../aws/s3/errors.ts';
import { nodesOf, type ParsedXml, parseXmlBody, textOf, type XmlNode } from '../../aws/s3/xml.ts';
import type { LifecycleFilter, LifecycleRule } from '../storage/types.ts';
import { existingBucket } from './buckets.ts';
import { requireBucketName, type S3Context, sendEmpty, sendXml } from './context.ts';
import { hasIntegrityHeader, readSmallBody } from './payload.ts';

const MAX_LIFECYCLE_BYTES = 64 * 1024;
const MAX_RULES = 1000;
const UNSUPPORTED_ACTIONS = [
  'Transition',
  'NoncurrentVersionTransition',
  'NoncurrentVersionExpiration',
] as const;

function positiveDays(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1)
    throw new S3Error('InvalidArgument', `'${what}' must be a positive integer`);
  return Number(text);
}

function sizeBound(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,16}$/.test(text)) throw new S3Error('MalformedXML');
  return Number(text);
}

function tagsOf(node: ParsedXml): { key: string; value: string }[] {
  return nodesOf(node, 'Tag').map((tag) => {
    const key = textOf(tag, 'Key');
    if (key === undefined) throw new S3Error('MalformedXML');
    return { key, value: textOf(tag, 'Value') ?? '' };
  });
}

function parseFilter(node: ParsedXml): LifecycleFilter {
  const and = nodesOf(node, 'And');
  const source = and.length === 1 ? (and[0] as ParsedXml) : node;
  if (and.length > 1) throw new S3Error('MalformedXML');
  if (and.length === 1 && Object.keys(node).length > 1) throw new S3Error('MalformedXML');
  const filter: LifecycleFilter = {};
  const prefix = textOf(source, 'Prefix');
  if (prefix !== undefined) filter.prefix = prefix;
  const tags = tagsOf(source);
  if (tags.length > 0) filter.tags = tags;
  const greater = sizeBound(textOf(source, 'ObjectSizeGreaterThan'));
  if (greater !== undefined) filter.objectSizeGreaterThan = greater;
  const less = sizeBound(textOf(source, 'ObjectSizeLessThan'));
  if (less !== undefined) filter.objectSizeLessThan = less;
  // Without And, a filter names one condition at most.
  if (and.length === 0 && Object.keys(filter).length + (tags.length > 1 ? 1 : 0) > 1)
    throw new S3Error('MalformedXML');
  return filter;
}

function parseRule(node: ParsedXml): LifecycleRule {
  const status = textOf(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw new S3Error('MalformedXML');
  for (const name of UNSUPPORTED_ACTIONS) {
    if (node[name] !== undefined)
      throw new S3Error('NotImplemented', `Lifecycle ${name} is not supported by this server.`);
  }
  const filterNodes = nodesOf(node, 'Filter');
  const legacy = textOf(node, 'Prefix');
  if (filterNodes.length > 1 || (filterNodes.length === 1) === (legacy !== undefined))
    throw new S3Error('MalformedXML', 'A rule needs exactly one of Filter and Prefix.');
  const rule: LifecycleRule = {
    status,
    filter: legacy === undefined ? parseFilter(filterNodes[0] as ParsedXml) : { prefix: legacy },
  };
  if (legacy !== undefined) rule.legacyPrefix = true;
  const id = textOf(node, 'ID');
  if (id !== undefined) {
    if (id.length > 255)
      throw new S3Error('InvalidArgument', 'ID length should not exceed allowed limit of 255');
    rule.id = id;
  }
  const [expiration, more] = nodesOf(node, 'Expiration');
  if (more) throw new S3Error('MalformedXML');
  if (expiration) {
    const days = positiveDays(textOf(expiration, 'Days'), 'Days');
    const date = textOf(expiration, 'Date');
    const marker = textOf(expiration, 'ExpiredObjectDeleteMarker');
    if ([days, date, marker].filter((v) => v !== undefined).length !== 1) throw new S3Error('MalformedXML');
    if (days !== undefined) rule.expirationDays = days;
    if (date !== undefined) {
      if (!/^\d{4}-\d{2}-\d{2}T00:00:00(?:\.000)?Z$/.test(date) || Number.isNaN(Date.parse(date)))
        throw new S3Error('InvalidArgument', "'Date' must be at midnight GMT");
      rule.expirationDate = new Date(date).toISOString();
    }
    if (marker !== undefined) {
      if (marker !== 'true' && marker !== 'false') throw new S3Error('MalformedXML');
      rule.expiredObjectDeleteMarker = marker === 'true';
    }
  }
  const [abort, extra] = nodesOf(node, 'AbortIncompleteMultipartUpload');
  if (extra) throw new S3Error('MalformedXML');
  if (abort) {
    const days = positiveDays(textOf(abort, 'DaysAfterInitiation'), 'DaysAfterInitiation');
    if (days === undefined) throw new S3Error('MalformedXML');
    // S3's rule: uploads have no tags to match, so the two cannot be combined.
    if (rule.filter.tags)
      throw new S3Error('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
    rule.abortIncompleteMultipartUploadDays = days;
  }
  if (!expiration && !abort)
    throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  return rule;
}

/** Parses and validates a `<LifecycleConfiguration>` document. */
export function parseLifecycleConfiguration(text: string): LifecycleRule[] {
  const config = parseXmlBody(text, 'LifecycleConfiguration');
  const rules = nodesOf(config, 'Rule').map(parseRule);
  if (rules.length === 0) throw new S3Error('MalformedXML');
  if (rules.length > MAX_RULES)
    throw new S3Error('InvalidRequest', `A lifecycle configuration can have at most ${MAX_RULES} rules.`);
  const ids = rules.flatMap((rule) => (rule.id === undefined ? [] : [rule.id]));
  if (new Set(ids).size !== ids.length)
    throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
  // S3 names a rule sent without an ID (a base64 UUID), and GetBucketLifecycleConfiguration shows it.
  for (const rule of rules) rule.id ??= Buffer.from(randomUUID()).toString('base64');
  return rules;
}

function filterXml(filter: LifecycleFilter): XmlNode {
  const conditions: XmlNode = {
    Prefix: filter.prefix,
    Tag: filter.tags?.map((tag) => ({ Key: tag.key, Value: tag.value })),
    ObjectSizeGreaterThan: filter.objectSizeGreaterThan,
    ObjectSizeLessThan: filter.objectSizeLessThan,
  };
  const count =
    Object.values(conditions).filter((v) => v !== undefined).length +
    Math.max(0, (filter.tags?.length ?? 0) - 1);
  return count > 1 ? { And: conditions } : conditions;
}

/** The rules as S3 renders them in GetBucketLifecycleConfiguration. */
export function lifecycleXml(rules: readonly LifecycleRule[]): XmlNode {
  return {
    Rule: rules.map((rule) => ({
      Expiration:
        rule.expirationDays !== undefined ||
        rule.expirationDate !== undefined ||
        rule.expiredObjectDeleteMarker !== undefined
          ? {
              Days: rule.expirationDays,
              Date: rule.expirationDate,
              ExpiredObjectDeleteMarker: rule.expiredObjectDeleteMarker,
            }
          : undefined,
      ID: rule.id,
      ...(rule.legacyPrefix ? { Prefix: rule.filter.prefix ?? '' } : { Filter: filterXml(rule.filter) }),
      Status: rule.status,
      AbortIncompleteMultipartUpload:
        rule.abortIncompleteMultipartUploadDays === undefined
          ? undefined
          : { DaysAfterInitiation: rule.abortIncompleteMultipartUploadDays },
    })),
  };
}

export async function putBucketLifecycleConfiguration(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  if (!hasIntegrityHeader(ctx)) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const body = await readSmallBody(ctx, MAX_LIFECYCLE_BYTES);
  const rules = parseLifecycleConfiguration(body.toString('utf8'));
  ctx.storage.setBucketLifecycle(requireBucketName(ctx), rules);
  sendEmpty(ctx, 200);
}

export function getBucketLifecycleConfiguration(ctx: S3Context): void {
  const bucket = existingBucket(ctx);
  const rules = ctx.storage.getBucketLifecycle(bucket.name);
  if (!rules) {
    throw new S3Error('NoSuchLifecycleConfiguration', undefined, { extra: { BucketName: bucket.name } });
  }
  sendXml(ctx, 200, 'LifecycleConfiguration', lifecycleXml(rules));
}

export function deleteBucketLifecycle(ctx: S3Context): void {
  existingBucket(ctx);
  ctx.storage.setBucketLifecycle(requireBucketName(ctx), null);
  sendEmpty(ctx, 204);
}
