import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBrokerConfig } from '@hoist/broker/internal/config';
import { checkUploadRolePolicy, decide, parseIdentityPolicies } from './policies.ts';
import { buildTemplate, renderTemplate, type TemplateOptions } from './template.ts';
import { checkTrustPolicy } from './trust.ts';
import { toYaml } from './yaml.ts';

const config = parseBrokerConfig({
  s3: { bucket: 'media-uploads', region: 'eu-west-1' },
  sts: { roleArn: 'arn:aws:iam::123456789012:role/hoist-upload' },
  keyPrefix: 'incoming',
});
const options: TemplateOptions = { config, origins: ['https://app.example.com'], abortDays: 2 };

type Node = Record<string, unknown>;

/** Every resource a value refers to (Ref, Fn::GetAtt, ${Name} in Fn::Sub), pseudo parameters excluded. */
function references(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) references(item, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt') out.add((v as string[])[0] as string);
      else if (k === 'Fn::Sub' && typeof v === 'string')
        for (const m of v.matchAll(/\$\{([^}.]+)[^}]*\}/g)) out.add(m[1] as string);
      else references(v, out);
    }
  }
  for (const name of [...out]) if (name.startsWith('AWS::')) out.delete(name);
  return out;
}

function dependencyGraph(template: Node): Map<string, Set<string>> {
  const resources = template.Resources as Record<string, Node>;
  const graph = new Map<string, Set<string>>();
  for (const [name, resource] of Object.entries(resources)) {
    const deps = references(resource.Properties);
    for (const d of (resource.DependsOn as string[] | undefined) ?? []) deps.add(d);
    graph.set(name, new Set([...deps].filter((d) => d in resources)));
  }
  return graph;
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (node: string, path: string[]): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...path, node];
    state.set(node, 'visiting');
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next, [...path, node]);
      if (cycle) return cycle;
    }
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node, []);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Resolves the intrinsics policies use, as a stack named `hoist` in account 123456789012 would. */
function resolve(value: unknown): unknown {
  const names: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::AccountId': '123456789012',
    'AWS::StackName': 'hoist',
    UploadBucket: 'media-uploads',
  };
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object') {
    const node = value as Node;
    if (typeof node['Fn::Sub'] === 'string')
      return (node['Fn::Sub'] as string).replace(
        /\$\{([^}]+)\}/g,
        (_, n: string) => names[n] ?? `UNRESOLVED(${n})`,
      );
    if (Array.isArray(node['Fn::GetAtt']) && (node['Fn::GetAtt'] as string[])[0] === 'BrokerExecutionRole')
      return 'arn:aws:iam::123456789012:role/hoist-broker';
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

for (const api of ['function-url', 'api-gateway'] as const) {
  test(`template (${api}): resources, no dependency cycle, outputs`, () => {
    const template = buildTemplate({ ...options, api });
    const resources = template.Resources as Record<string, Node>;
    const types = Object.fromEntries(Object.entries(resources).map(([n, r]) => [n, r.Type]));
    assert.equal(types.UploadBucket, 'AWS::S3::Bucket');
    assert.equal(types.UploadBucketPolicy, 'AWS::S3::BucketPolicy');
    assert.equal(types.UploadRole, 'AWS::IAM::Role');
    assert.equal(types.BrokerExecutionRole, 'AWS::IAM::Role');
    assert.equal(types.BrokerFunction, 'AWS::Lambda::Function');
    if (api === 'function-url') assert.equal(types.BrokerFunctionUrl, 'AWS::Lambda::Url');
    else assert.equal(types.BrokerApi, 'AWS::ApiGatewayV2::Api');
    const graph = dependencyGraph(template);
    assert.equal(findCycle(graph), undefined);
    // The cycle it avoids: the upload role refers to the execution role, never the reverse.
    assert.ok(graph.get('UploadRole')?.has('BrokerExecutionRole'));
    assert.ok(!graph.get('BrokerExecutionRole')?.has('UploadRole'));
    // Every Ref/GetAtt names a resource, a parameter or a pseudo parameter.
    const known = new Set([...Object.keys(resources), ...Object.keys(template.Parameters as Node)]);
    for (const [name, resource] of Object.entries(resources))
      for (const r of references(resource)) assert.ok(known.has(r), `${name} refers to unknown ${r}`);
    for (const output of ['BrokerUrl', 'BucketName', 'BucketRegion', 'KeyPrefix', 'UploadRoleArn'])
      assert.ok(output in (template.Outputs as Node), output);
  });
}

test('a template with a cycle is caught by the check (the check can fail)', () => {
  const template = buildTemplate(options);
  const resources = template.Resources as Record<string, Node>;
  const role = resources.BrokerExecutionRole as Node;
  (role.Properties as Node).Tags = [{ Key: 'upload', Value: { 'Fn::GetAtt': ['UploadRole', 'Arn'] } }];
  assert.deepEqual(findCycle(dependencyGraph(template))?.slice(-1), [
    findCycle(dependencyGraph(template))?.[0],
  ]);
});

test('template bucket: encryption, public access blocked, TLS only, CORS, lifecycle', () => {
  const bucket = (buildTemplate(options).Resources as Record<string, Node>).UploadBucket?.Properties as Node;
  assert.deepEqual(bucket.PublicAccessBlockConfiguration, {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  });
  assert.match(JSON.stringify(bucket.BucketEncryption), /AES256/);
  const cors = (bucket.CorsConfiguration as { CorsRules: Node[] }).CorsRules[0] as Node;
  assert.deepEqual(cors.AllowedOrigins, ['https://app.example.com']);
  assert.ok((cors.ExposedHeaders as string[]).includes('ETag'));
  const rule = (bucket.LifecycleConfiguration as { Rules: Node[] }).Rules[0] as Node;
  assert.deepEqual(rule.AbortIncompleteMultipartUpload, { DaysAfterInitiation: 2 });
  assert.equal(rule.Prefix, 'incoming/');
  const policy = (buildTemplate(options).Resources as Record<string, Node>).UploadBucketPolicy as Node;
  assert.match(JSON.stringify(policy), /"aws:SecureTransport":"false"/);
});

test('template policies pass the policy-engine checks', () => {
  const resources = resolve(buildTemplate(options).Resources) as Record<string, Node>;
  const scope = { bucket: 'media-uploads', prefix: 'incoming' };
  const upload = resources.UploadRole?.Properties as Node;
  const rolePolicies = (upload.Policies as { PolicyDocument: object }[]).map((p) => p.PolicyDocument);
  assert.deepEqual(checkUploadRolePolicy(rolePolicies, scope), []);
  const roleArn = 'arn:aws:iam::123456789012:role/hoist-upload';
  assert.deepEqual(
    checkTrustPolicy(upload.AssumeRolePolicyDocument as object, {
      principal: 'arn:aws:iam::123456789012:role/hoist-broker',
      roleArn,
    }),
    [],
  );
  const exec = resources.BrokerExecutionRole?.Properties as Node;
  const brokerPolicies = parseIdentityPolicies(
    (exec.Policies as { PolicyDocument: object }[]).map((p) => p.PolicyDocument),
  );
  const probe = (action: string, resource: string) =>
    decide(brokerPolicies, { what: action, action, resource });
  assert.equal(probe('sts:AssumeRole', roleArn), 'Allow');
  assert.equal(probe('sts:AssumeRole', 'arn:aws:iam::123456789012:role/admin'), 'ImplicitDeny');
  assert.equal(probe('s3:GetObject', 'arn:aws:s3:::media-uploads/incoming/a/b/c'), 'Allow');
  assert.equal(probe('s3:GetObject', 'arn:aws:s3:::media-uploads/private/x'), 'ImplicitDeny');
  assert.equal(probe('s3:PutBucketPolicy', 'arn:aws:s3:::media-uploads'), 'ImplicitDeny');
  assert.equal(probe('iam:CreateUser', '*'), 'ImplicitDeny');
  assert.doesNotMatch(JSON.stringify(resources), /UNRESOLVED/);
});

/** Reads back the emitter's YAML subset: block maps and sequences, JSON-quoted strings. */
function parseYaml(text: string): unknown {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  let i = 0;
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const scalar = (s: string): unknown => (s === '[]' ? [] : s === '{}' ? {} : JSON.parse(s));
  function block(indent: number): unknown {
    const first = lines[i] as string;
    if (first.trimStart().startsWith('- ')) {
      const list: unknown[] = [];
      while (
        i < lines.length &&
        indentOf(lines[i] as string) === indent &&
        (lines[i] as string).trimStart().startsWith('- ')
      ) {
        const rest = (lines[i] as string).slice(indent + 2);
        if (/^[^"]*?:( |$)/.test(rest) || rest.startsWith('- ')) {
          lines[i] = ' '.repeat(indent + 2) + rest;
          list.push(block(indent + 2));
        } else {
          list.push(scalar(rest));
          i++;
        }
      }
      return list;
    }
    const map: Record<string, unknown> = {};
    while (
      i < lines.length &&
      indentOf(lines[i] as string) === indent &&
      !(lines[i] as string).trimStart().startsWith('- ')
    ) {
      const line = (lines[i] as string).trimStart();
      const match = /^("(?:[^"\\]|\\.)*"|[A-Za-z_][\w:.-]*?):(?: (.*))?$/.exec(line);
      assert.ok(match, `unparsable line: ${line}`);
      const name = (match[1] as string).startsWith('"')
        ? (JSON.parse(match[1] as string) as string)
        : (match[1] as string);
      i++;
      if (match[2] !== undefined) map[name] = scalar(match[2]);
      else {
        const next = lines[i] as string;
        map[name] = block(next.trimStart().startsWith('- ') ? indentOf(next) : indent + 2);
      }
    }
    return map;
  }
  return block(0);
}

test('YAML: the template reads back as the JSON template; comments explain the cycle', () => {
  const yaml = renderTemplate(options, 'yaml');
  assert.match(yaml, /^# Hoist on AWS/);
  assert.match(yaml, /# Why there is no circular dependency/);
  assert.deepEqual(parseYaml(yaml), JSON.parse(renderTemplate(options, 'json')));
});

test('YAML emitter: quoting, nesting, empty collections', () => {
  const value = {
    a: 'x: "y"',
    'odd key': [1, true, null],
    nested: [[1, 2], { b: [] }, {}],
    c: { d: { e: 'f' } },
  };
  const yaml = toYaml(value, ['top']);
  assert.match(yaml, /^# top\n/);
  assert.match(yaml, /"odd key":/);
  assert.deepEqual(parseYaml(yaml), value);
});
