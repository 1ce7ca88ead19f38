/**
 * Bucket CORS: Put/Get/DeleteBucketCors, preflight OPTIONS answered from the
 * bucket's rules (no authentication, as on S3), and CORS headers on actual responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodesOf, parseXmlBody, S3Error, textOf, textsOf } from '@hoist/aws/s3';
import type { CorsRule, Storage } from '../storage/types.ts';
import { existingBucket } from './buckets.ts';
import { requireBucketName, type S3Context, sendEmpty, sendXml } from './context.ts';
import { hasIntegrityHeader, readSmallBody } from './payload.ts';

const CORS_METHODS = new Set(['GET', 'PUT', 'POST', 'DELETE', 'HEAD']);
const MAX_CORS_BYTES = 64 * 1024;
const MAX_RULES = 100;

function wildcardMatch(pattern: string, value: string, caseInsensitive: boolean): boolean {
  const star = pattern.indexOf('*');
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  if (star === -1) return p === v;
  const head = p.slice(0, star);
  const tail = p.slice(star + 1);
  return v.length >= head.length + tail.length && v.startsWith(head) && v.endsWith(tail);
}

function parseRule(node: Parameters<typeof textOf>[0]): CorsRule {
  const allowedOrigins = textsOf(node, 'AllowedOrigin');
  const allowedMethods = textsOf(node, 'AllowedMethod');
  if (allowedOrigins.length === 0 || allowedMethods.length === 0) throw new S3Error('MalformedXML');
  for (const method of allowedMethods) {
    if (!CORS_METHODS.has(method)) {
      throw new S3Error(
        'InvalidRequest',
        `Found unsupported HTTP method in CORS config. Unsupported method is ${method}`,
      );
    }
  }
  for (const origin of allowedOrigins) {
    if ((origin.match(/\*/g) ?? []).length > 1) {
      throw new S3Error('InvalidRequest', `AllowedOrigin "${origin}" can not have more than one wildcard.`);
    }
  }
  const allowedHeaders = textsOf(node, 'AllowedHeader');
  for (const name of allowedHeaders) {
    if ((name.match(/\*/g) ?? []).length > 1) {
      throw new S3Error('InvalidRequest', `AllowedHeader "${name}" can not have more than one wildcard.`);
    }
  }
  const rule: CorsRule = {
    allowedOrigins,
    allowedMethods,
    allowedHeaders,
    exposeHeaders: textsOf(node, 'ExposeHeader'),
  };
  const id = textOf(node, 'ID');
  if (id !== undefined) rule.id = id;
  const maxAge = textOf(node, 'MaxAgeSeconds');
  if (maxAge !== undefined) {
    if (!/^\d{1,9}$/.test(maxAge)) throw new S3Error('MalformedXML', 'MaxAgeSeconds must be an integer.');
    rule.maxAgeSeconds = Number(maxAge);
  }
  return rule;
}

export async function putBucketCors(ctx: S3Context): Promise<void> {
  existingBucket(ctx);
  if (!hasIntegrityHeader(ctx)) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const body = await readSmallBody(ctx, MAX_CORS_BYTES);
  const config = parseXmlBody(body.toString('utf8'), 'CORSConfiguration');
  const rules = nodesOf(config, 'CORSRule').map(parseRule);
  if (rules.length === 0)
    throw new S3Error('MalformedXML', 'A CORS configuration needs at least one CORSRule.');
  if (rules.length > MAX_RULES)
    throw new S3Error('InvalidRequest', `A CORS configuration can have at most ${MAX_RULES} rules.`);
  ctx.storage.setBucketCors(requireBucketName(ctx), rules);
  sendEmpty(ctx, 200);
}

export function getBucketCors(ctx: S3Context): void {
  const bucket = existingBucket(ctx);
  if (!bucket.cors)
    throw new S3Error('NoSuchCORSConfiguration', undefined, { extra: { BucketName: bucket.name } });
  sendXml(ctx, 200, 'CORSConfiguration', {
    CORSRule: bucket.cors.map((rule) => ({
      ID: rule.id,
      AllowedHeader: rule.allowedHeaders,
      AllowedMethod: rule.allowedMethods,
      AllowedOrigin: rule.allowedOrigins,
      ExposeHeader: rule.exposeHeaders,
      MaxAgeSeconds: rule.maxAgeSeconds,
    })),
  });
}

export function deleteBucketCors(ctx: S3Context): void {
  existingBucket(ctx);
  ctx.storage.setBucketCors(requireBucketName(ctx), null);
  sendEmpty(ctx, 204);
}

function matchingRule(
  rules: CorsRule[] | null,
  origin: string,
  method: string,
  requestHeaders: string[],
): CorsRule | undefined {
  return rules?.find(
    (rule) =>
      rule.allowedOrigins.some((pattern) => wildcardMatch(pattern, origin, false)) &&
      rule.allowedMethods.includes(method) &&
      requestHeaders.every((name) =>
        rule.allowedHeaders.some((pattern) => wildcardMatch(pattern, name, true)),
      ),
  );
}

function corsHeaders(rule: CorsRule, origin: string): Record<string, string> {
  const anyOrigin = rule.allowedOrigins.includes('*');
  const out: Record<string, string> = {
    'access-control-allow-origin': anyOrigin ? '*' : origin,
    'access-control-allow-methods': rule.allowedMethods.join(', '),
    vary: 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method',
  };
  if (!anyOrigin) out['access-control-allow-credentials'] = 'true';
  if (rule.exposeHeaders.length > 0) out['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) out['access-control-max-age'] = String(rule.maxAgeSeconds);
  return out;
}

/** CORS headers for an actual (non-preflight) request to a bucket, if its rules allow the origin. */
export function actualRequestCorsHeaders(
  storage: Storage,
  bucket: string | undefined,
  req: IncomingMessage,
): Record<string, string> {
  const origin = req.headers.origin;
  if (!origin || bucket === undefined) return {};
  const record = storage.getBucket(bucket);
  const rule = matchingRule(record?.cors ?? null, origin, req.method ?? 'GET', []);
  return rule ? corsHeaders(rule, origin) : {};
}

/** Answers an OPTIONS preflight. Returns an S3Error to render when it is refused. */
export function answerPreflight(
  storage: Storage,
  bucket: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  baseHeaders: Record<string, string>,
): S3Error | undefined {
  const origin = req.headers.origin;
  const method = req.headers['access-control-request-method'];
  if (!origin || !method) {
    return new S3Error('InvalidRequest', 'Insufficient information. Origin request header needed.');
  }
  const record = bucket === undefined ? undefined : storage.getBucket(bucket);
  if (bucket !== undefined && !record)
    return new S3Error('NoSuchBucket', undefined, { extra: { BucketName: bucket } });
  const requested = (req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
  const rule = matchingRule(record?.cors ?? null, origin, method, requested);
  if (!rule) {
    return new S3Error('AccessForbidden', undefined, {
      extra: { Method: method, ResourceType: 'OBJECT' },
    });
  }
  const headers = corsHeaders(rule, origin);
  headers['access-control-allow-methods'] = rule.allowedMethods.join(', ');
  if (requested.length > 0) headers['access-control-allow-headers'] = requested.join(', ');
  res.writeHead(200, { ...baseHeaders, ...headers, 'content-length': '0' });
  res.end();
  return undefined;
}
