/**
 * The broker API as an OpenAPI 3.1 document, generated: the shapes come from the contract's
 * zod schemas (`@hoist/protocol/schemas`, via zod's JSON Schema output), the operations from the
 * table below. Tests check every route the app serves is here and the other way round.
 */
import { PROBLEMS, type ProblemType } from '@hoist/protocol';
import {
  API_DOCS,
  completeUploadRequest,
  createUploadRequest,
  createUploadResponse,
  credentialsResponse,
  healthResponse,
  IDEMPOTENCY_KEY,
  listUploadsQuery,
  partUrlsRequest,
  partUrlsResponse,
  presignedRequest,
  uploadId,
  uploadListResponse,
  uploadView,
} from '@hoist/protocol/schemas';
import { z } from 'zod';

type Json = Record<string, unknown>;

/** Drops what zod states but a reader does not need: safe-integer bounds, the date-time regex. */
function tidy({ jsonSchema }: { jsonSchema: Json }): void {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
}

/** The component name a schema was registered under in the contract. */
function ref(schema: z.core.$ZodType): Json {
  const id = API_DOCS.get(schema)?.id;
  if (!id) throw new Error('openapi: the schema has no component id');
  return { $ref: `#/components/schemas/${id}` };
}

/** Every named shape of the contract, as OpenAPI 3.1 (JSON Schema 2020-12) components. */
function componentSchemas(): Record<string, Json> {
  const { schemas } = z.toJSONSchema(API_DOCS, {
    metadata: API_DOCS,
    // What clients send and read: strict request objects say so; answers may grow fields.
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
    override: tidy,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _, $id: __, ...schema }]) => [id, schema as Json]),
  );
}

/** One property of an object schema, as its JSON Schema (what the broker reads: output). */
function propertySchema(schema: z.ZodObject, name: string): Json {
  const json = z.toJSONSchema(schema, { metadata: API_DOCS, io: 'output', override: tidy }) as {
    properties: Record<string, Json>;
  };
  return json.properties[name] ?? {};
}

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/** What each problem code means on any authenticated route. */
const COMMON_PROBLEMS: Partial<Record<ProblemType, string>> = {
  'invalid-request': 'the body, query or a field is not valid',
  unauthorized: 'no, or an invalid, bearer token',
  'not-found': "no such upload (or another user's)",
  conflict: 'the upload is not in a state (or mode) that allows this',
  'rate-limited': 'rate-limited / quota-exceeded (with Retry-After)',
  'upstream-error': 'S3 or STS failed (the detail says how)',
  'upstream-timeout': 'S3 or STS did not answer in time',
};

function problems(extra: Partial<Record<ProblemType, string>> = {}): Json {
  const out: Json = {};
  for (const [code, text] of Object.entries({ ...COMMON_PROBLEMS, ...extra }))
    out[String(PROBLEMS[code as ProblemType].status)] = problemResponse(`${code}: ${text}`);
  return out;
}

interface Operation {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI form: `/uploads/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  /** Bearer token required. */
  secured: boolean;
  request?: z.core.$ZodType;
  response: { status: string; description: string; content?: Json; headers?: Json };
  /** Answers besides the success and the problems (e.g. 503 of /healthz). */
  otherResponses?: Json;
  extraProblems?: Partial<Record<ProblemType, string>>;
  parameters?: Json[];
}

const json = (schema: z.core.$ZodType | Json): Json => ({
  'application/json': { schema: schema instanceof z.ZodType ? ref(schema) : schema },
});

const UPLOAD_ID_PARAM = (): Json => ({
  name: 'id',
  in: 'path',
  required: true,
  description: API_DOCS.get(uploadId)?.description,
  schema: { type: 'string', pattern: (z.toJSONSchema(uploadId) as { pattern: string }).pattern },
});

function operations(): Operation[] {
  const withId = (path: string) => `/uploads/{id}${path}`;
  return [
    {
      method: 'post',
      path: '/uploads',
      operationId: 'createUpload',
      summary: 'Start an upload: key, multipart upload, and credentials (or a presigned PUT)',
      secured: true,
      parameters: [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description:
            'One per upload, reused on retries: when this user already has an upload made with the key, ' +
            'it is answered again (same upload, fresh credentials) instead of a second one being created.',
          schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source },
        },
      ],
      request: createUploadRequest,
      response: {
        status: '201',
        description: 'Created (or, with `Idempotent-Replayed: true`, the upload this Idempotency-Key made)',
        content: json(createUploadResponse),
        headers: {
          'Idempotent-Replayed': {
            description: '`true` when the answer is a replay of an earlier create with the same key',
            schema: { type: 'string', enum: ['true'] },
          },
        },
      },
      extraProblems: {
        conflict: 'the Idempotency-Key names an upload that is no longer open, or a different upload',
        'too-large': 'over the size limit (nothing was created)',
        'unsupported-type': 'content type not allowed',
      },
    },
    {
      method: 'get',
      path: '/uploads',
      operationId: 'listUploads',
      summary: "The caller's uploads, newest first",
      secured: true,
      parameters: ['limit', 'cursor'].map((name) => ({
        name,
        in: 'query',
        schema: propertySchema(listUploadsQuery, name),
      })),
      response: { status: '200', description: 'A page', content: json(uploadListResponse) },
    },
    {
      method: 'get',
      path: withId(''),
      operationId: 'getUpload',
      summary: 'Status, and the parts S3 already has (for resuming)',
      secured: true,
      response: { status: '200', description: 'The upload', content: json(uploadView) },
    },
    {
      method: 'delete',
      path: withId(''),
      operationId: 'abortUpload',
      summary: 'Abort: the multipart upload and any unverified object are removed',
      secured: true,
      response: { status: '200', description: 'Aborted', content: json(uploadView) },
    },
    {
      method: 'post',
      path: withId('/credentials'),
      operationId: 'refreshCredentials',
      summary: 'Fresh temporary credentials for the same key (sts and federation modes)',
      secured: true,
      response: { status: '200', description: 'Credentials', content: json(credentialsResponse) },
    },
    {
      method: 'post',
      path: withId('/parts'),
      operationId: 'partUrls',
      summary: 'Presigned UploadPart URLs with length and checksum signed (presign mode)',
      secured: true,
      request: partUrlsRequest,
      response: { status: '200', description: 'URLs', content: json(partUrlsResponse) },
    },
    {
      method: 'post',
      path: withId('/complete'),
      operationId: 'completeUpload',
      summary: 'Complete (never overwriting) and verify size, type and checksum',
      secured: true,
      request: completeUploadRequest,
      response: { status: '200', description: 'Completed', content: json(uploadView) },
      extraProblems: { 'upload-rejected': 'the object did not match; it was deleted' },
    },
    {
      method: 'get',
      path: withId('/download'),
      operationId: 'downloadUrl',
      summary: 'A short-lived presigned GET for a completed upload',
      secured: true,
      response: { status: '200', description: 'URL', content: json(presignedRequest) },
    },
    {
      method: 'get',
      path: '/healthz',
      operationId: 'health',
      summary:
        'Liveness and registry reachability (503 with the same shape when the registry does not answer)',
      secured: false,
      response: { status: '200', description: 'OK', content: json(healthResponse) },
      otherResponses: {
        '503': { description: 'The registry does not answer', content: json(healthResponse) },
      },
    },
    {
      method: 'get',
      path: '/metrics',
      operationId: 'metrics',
      summary: 'Prometheus metrics',
      secured: false,
      response: {
        status: '200',
        description: 'Text exposition format',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
    },
    {
      method: 'get',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      secured: false,
      response: { status: '200', description: 'OpenAPI 3.1', content: json({ type: 'object' }) },
    },
  ];
}

function pathItems(): Record<string, Json> {
  const paths: Record<string, Json> = {};
  for (const op of operations()) {
    paths[op.path] ??= op.path.includes('{id}') ? { parameters: [UPLOAD_ID_PARAM()] } : {};
    const { status, ...success } = op.response;
    const responses = { [status]: success, ...op.otherResponses };
    (paths[op.path] as Json)[op.method] = {
      ...(op.secured ? { security: [{ bearer: [] }] } : {}),
      operationId: op.operationId,
      summary: op.summary,
      ...(op.parameters ? { parameters: op.parameters } : {}),
      ...(op.request ? { requestBody: { required: true, content: json(op.request) } } : {}),
      responses: op.secured ? { ...responses, ...problems(op.extraProblems) } : responses,
    };
  }
  return paths;
}

let cached: string | undefined;

/** The document (a fresh object each call, so callers may change theirs). */
export function openApiDocument(): Json {
  cached ??= JSON.stringify({
    openapi: '3.1.0',
    info: {
      title: 'Hoist broker',
      version: '1',
      description:
        'Credential vending and the upload lifecycle for direct-to-S3 uploads. Errors are RFC 9457 problem+json with stable `type` codes.',
    },
    paths: pathItems(),
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A JWT or a static development token.' },
      },
    },
  });
  return JSON.parse(cached) as Json;
}
