/**
 * The served OpenAPI document is valid as far as a reader (or a code generator) relies on it:
 * OpenAPI 3.1, unique operation ids, every path parameter declared, every $ref resolving, every
 * component a JSON Schema with a type, and the generated shapes in step with the contract.
 * (app.test.ts checks the paths against the routes the app serves.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_DOCS, createUploadRequest } from '@hoist/protocol/schemas';
import { openApiDocument } from './openapi.ts';

type Json = Record<string, unknown>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

const doc = openApiDocument() as {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Json | Json[]>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
};

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value && typeof value === 'object')
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') found.push(inner);
      else refsIn(inner, found);
    }
  return found;
}

function resolve(ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `${ref} is local`);
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) node = (node as Json | undefined)?.[part];
  return node;
}

test('the document is OpenAPI 3.1 with unique operation ids and declared path parameters', () => {
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.ok(doc.info.title && doc.info.version);
  const ids: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    assert.match(path, /^\/[\w./{}-]*$/);
    const pathParams = (item.parameters as Json[] | undefined) ?? [];
    for (const method of Object.keys(item).filter((key) => key !== 'parameters')) {
      assert.ok(METHODS.includes(method), `${path}: ${method} is an HTTP method`);
      const op = item[method] as Json & { responses: Json; parameters?: Json[]; security?: Json[] };
      assert.equal(typeof op.operationId, 'string', `${method} ${path} has an operationId`);
      ids.push(op.operationId as string);
      assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
      for (const [status, response] of Object.entries(op.responses)) {
        assert.match(status, /^[1-5]\d\d$/);
        assert.equal(typeof (response as Json).description, 'string', `${method} ${path} ${status}`);
      }
      const params = [...pathParams, ...(op.parameters ?? [])];
      for (const [, name] of path.matchAll(/\{(\w+)\}/g)) {
        const param = params.find((p) => p.name === name && p.in === 'path');
        assert.ok(
          param?.required === true,
          `${method} ${path} declares {${name}} as a required path parameter`,
        );
      }
      for (const param of params) assert.ok(['path', 'query', 'header'].includes(param.in as string));
      for (const requirement of op.security ?? [])
        for (const scheme of Object.keys(requirement)) assert.ok(doc.components.securitySchemes[scheme]);
    }
  }
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
  assert.ok(ids.length >= 11);
});

test('every $ref resolves, and every component is a typed JSON Schema', () => {
  const refs = refsIn(doc);
  assert.ok(refs.length > 20);
  for (const ref of refs) assert.ok(resolve(ref), `${ref} resolves`);
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    assert.ok(typeof schema.type === 'string' || Array.isArray(schema.type), `${name} has a type`);
    assert.equal(schema.$schema, undefined, `${name} carries no $schema of its own`);
    assert.equal(schema.$id, undefined, `${name} carries no $id of its own`);
  }
  // The components are the contract's registered shapes, under the names it gives them.
  for (const id of ['CreateUploadRequest', 'UploadView', 'Problem', 'PresignedRequest'])
    assert.ok(doc.components.schemas[id], id);
  assert.equal(API_DOCS.get(createUploadRequest)?.id, 'CreateUploadRequest');
});

test('the generated shapes are the contract: strict requests, required fields, bounds', () => {
  const create = doc.components.schemas.CreateUploadRequest as Json & {
    properties: Record<string, Json>;
    required: string[];
  };
  assert.equal(create.additionalProperties, false);
  assert.deepEqual(create.required, ['filename', 'size', 'contentType']);
  assert.deepEqual(Object.keys(create.properties).sort(), Object.keys(createUploadRequest.shape).sort());
  assert.equal(create.properties.partSize?.minimum, 5 * 1024 * 1024);
  assert.equal(create.properties.checksumAlgorithm?.default, 'CRC32C');
  const list = doc.paths['/uploads']?.get as { parameters: { name: string; schema: Json }[] };
  assert.deepEqual(list.parameters.find((p) => p.name === 'limit')?.schema, {
    default: 20,
    type: 'integer',
    minimum: 1,
    maximum: 100,
  });
  const view = doc.components.schemas.UploadView as { required: string[] };
  assert.ok(view.required.includes('uploadId') && !view.required.includes('parts'));
});

test('each call returns a fresh copy', () => {
  const first = openApiDocument();
  first.openapi = 'changed';
  assert.equal(openApiDocument().openapi, '3.1.0');
});
