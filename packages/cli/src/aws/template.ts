// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${…} here is CloudFormation's Fn::Sub syntax.
/**
 * `hoist aws template`: one CloudFormation template for a whole Hoist deployment on AWS, with
 * the policies built by the same functions the other commands print (and tests check).
 */
import type { BrokerConfig } from '@hoist/broker';
import { corsRule } from './cors.ts';
import { lifecycleRule } from './lifecycle.ts';
import { brokerPolicy, partitionOf, uploadRolePolicy } from './policies.ts';
import { toYaml } from './yaml.ts';

export interface TemplateOptions {
  config: BrokerConfig;
  /** Web app origins (bucket CORS and the broker's API CORS). */
  origins: readonly string[];
  allowAnyOrigin?: boolean;
  abortDays: number;
  /** How the broker is reached. @default 'function-url' */
  api?: 'function-url' | 'api-gateway';
}

/** How the cycle between the two roles is avoided: the template's comment block and Description. */
export const CYCLE_NOTE: readonly string[] = [
  'Hoist on AWS: upload bucket, upload role, broker Lambda (+ execution role) and its URL.',
  '',
  'Why there is no circular dependency between the two roles:',
  "  the upload role's trust policy must name the broker's execution role, and the execution",
  "  role's policy must allow sts:AssumeRole on the upload role. Referencing each other with",
  '  Ref/Fn::GetAtt would be a cycle CloudFormation refuses. So both roles get fixed names',
  '  (RoleName: ${AWS::StackName}-broker / ${AWS::StackName}-upload) and the execution role',
  '  names the upload role by an ARN built with Fn::Sub from that known name: no Ref. Only the',
  '  upload role refers to the execution role (Fn::GetAtt BrokerExecutionRole.Arn in its',
  '  trust), so CloudFormation creates the execution role first, then the upload role, then the',
  '  function (which gets the upload role ARN in HOIST_STS_ROLE_ARN).',
  '',
  'Before deploying: npm run build:lambda, upload dist/lambda/broker.zip to an S3 bucket of',
  'yours, and pass its bucket and key as CodeBucket and CodeKey.',
];

type Json = Record<string, unknown>;
const sub = (text: string): Json => ({ 'Fn::Sub': text });
const ref = (name: string): Json => ({ Ref: name });
const getAtt = (resource: string, attribute: string): Json => ({ 'Fn::GetAtt': [resource, attribute] });

/** Replaces the literal role ARN and partition in a generated policy by CloudFormation expressions. */
function withArns(policy: unknown, replacements: Record<string, Json>): unknown {
  if (typeof policy === 'string') return replacements[policy] ?? policy;
  if (Array.isArray(policy)) return policy.map((item) => withArns(item, replacements));
  if (policy && typeof policy === 'object')
    return Object.fromEntries(Object.entries(policy).map(([k, v]) => [k, withArns(v, replacements)]));
  return policy;
}

export function buildTemplate(options: TemplateOptions): Json {
  const { config } = options;
  const api = options.api ?? 'function-url';
  const bucket = config.s3.bucket;
  const prefix = config.keyPrefix;
  const partition = partitionOf(config.s3.region);
  const scope = { bucket, prefix, partition };
  // Placeholders swapped for Fn::Sub expressions, so the stack works in any account and partition.
  const uploadRoleArn = 'arn:hoist:upload-role';
  const objects = `arn:${partition}:s3:::${bucket}/${prefix}/*`;
  const bucketArnText = `arn:${partition}:s3:::${bucket}`;
  const arns: Record<string, Json> = {
    [uploadRoleArn]: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-upload'),
    [objects]: sub(`arn:\${AWS::Partition}:s3:::\${UploadBucket}/${prefix}/*`),
    [bucketArnText]: sub('arn:${AWS::Partition}:s3:::${UploadBucket}'),
  };
  const cors =
    options.origins.length > 0
      ? corsRule({ origins: options.origins, allowAnyOrigin: options.allowAnyOrigin ?? false })
      : undefined;
  const lifecycle = lifecycleRule({ prefix, days: options.abortDays });
  const durationSeconds = Math.min(config.sts.durationSeconds, 3600);

  const resources: Json = {
    UploadBucket: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        BucketName: bucket,
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        ...(cors
          ? {
              CorsConfiguration: {
                CorsRules: [
                  {
                    Id: cors.ID,
                    AllowedOrigins: cors.AllowedOrigins,
                    AllowedMethods: cors.AllowedMethods,
                    AllowedHeaders: cors.AllowedHeaders,
                    ExposedHeaders: cors.ExposeHeaders,
                    MaxAge: cors.MaxAgeSeconds,
                  },
                ],
              },
            }
          : {}),
        LifecycleConfiguration: {
          Rules: [
            {
              Id: lifecycle.ID,
              Status: lifecycle.Status,
              Prefix: lifecycle.Filter.Prefix,
              AbortIncompleteMultipartUpload: lifecycle.AbortIncompleteMultipartUpload,
            },
          ],
        },
      },
    },
    UploadBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: ref('UploadBucket'),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'TlsOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [
                sub('arn:${AWS::Partition}:s3:::${UploadBucket}'),
                sub('arn:${AWS::Partition}:s3:::${UploadBucket}/*'),
              ],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
    BrokerExecutionRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: sub('${AWS::StackName}-broker'),
        Description:
          "Hoist broker (Lambda): assumes the upload role by its constructed ARN (no Ref: see the template's Description)",
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        },
        ManagedPolicyArns: [
          sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'),
        ],
        Policies: [
          {
            PolicyName: 'hoist-broker',
            PolicyDocument: withArns(brokerPolicy({ ...scope, mode: 'sts', roleArn: uploadRoleArn }), arns),
          },
        ],
      },
    },
    UploadRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        RoleName: sub('${AWS::StackName}-upload'),
        Description: 'Hoist upload role: assumed by the broker with a one-object session policy',
        // Role chaining (Lambda role -> upload role) caps sessions at one hour.
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'HoistBroker',
              Effect: 'Allow',
              Principal: { AWS: getAtt('BrokerExecutionRole', 'Arn') },
              Action: 'sts:AssumeRole',
            },
          ],
        },
        Policies: [{ PolicyName: 'hoist-upload', PolicyDocument: withArns(uploadRolePolicy(scope), arns) }],
      },
    },
    BrokerLogGroup: {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: sub('/aws/lambda/${AWS::StackName}-broker'), RetentionInDays: 30 },
    },
    BrokerFunction: {
      Type: 'AWS::Lambda::Function',
      DependsOn: ['BrokerLogGroup'],
      Properties: {
        FunctionName: sub('${AWS::StackName}-broker'),
        Description: 'Hoist credential broker',
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 30,
        Role: getAtt('BrokerExecutionRole', 'Arn'),
        Code: { S3Bucket: ref('CodeBucket'), S3Key: ref('CodeKey') },
        Environment: {
          Variables: {
            HOIST_MODE: 'sts',
            HOIST_S3_BUCKET: ref('UploadBucket'),
            HOIST_S3_REGION: ref('AWS::Region'),
            HOIST_STS_ROLE_ARN: getAtt('UploadRole', 'Arn'),
            HOIST_STS_DURATION_SECONDS: String(durationSeconds),
            HOIST_KEY_PREFIX: prefix,
            HOIST_CORS_ORIGINS: options.origins.join(','),
            HOIST_REGISTRY_URL: ref('RegistryUrl'),
            HOIST_JWKS_URL: ref('JwksUrl'),
            HOIST_JWT_ISSUER: ref('JwtIssuer'),
            HOIST_JWT_AUDIENCE: ref('JwtAudience'),
            // No timers in Lambda: run `hoist sweep` on a schedule elsewhere; the lifecycle rule is the backstop.
            HOIST_SWEEP_INTERVAL_SECONDS: '0',
          },
        },
      },
    },
  };
  const outputs: Json = {
    BucketName: { Description: 'Bucket the uploads go to', Value: ref('UploadBucket') },
    BucketRegion: { Description: 'Its region', Value: ref('AWS::Region') },
    KeyPrefix: { Description: 'Key prefix of every upload', Value: prefix },
    UploadRoleArn: { Description: 'Role the broker assumes per upload', Value: getAtt('UploadRole', 'Arn') },
    BrokerExecutionRoleArn: {
      Description: "The broker's identity",
      Value: getAtt('BrokerExecutionRole', 'Arn'),
    },
  };
  if (api === 'function-url') {
    resources.BrokerFunctionUrl = {
      Type: 'AWS::Lambda::Url',
      Properties: { TargetFunctionArn: getAtt('BrokerFunction', 'Arn'), AuthType: 'NONE' },
    };
    resources.BrokerFunctionUrlPermission = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: ref('BrokerFunction'),
        Action: 'lambda:InvokeFunctionUrl',
        Principal: '*',
        FunctionUrlAuthType: 'NONE',
      },
    };
    outputs.BrokerUrl = {
      Description: 'The broker API: the web page posts to <BrokerUrl>uploads',
      Value: getAtt('BrokerFunctionUrl', 'FunctionUrl'),
    };
  } else {
    resources.BrokerApi = {
      Type: 'AWS::ApiGatewayV2::Api',
      Properties: {
        Name: sub('${AWS::StackName}-broker'),
        ProtocolType: 'HTTP',
        Target: getAtt('BrokerFunction', 'Arn'),
      },
    };
    resources.BrokerApiPermission = {
      Type: 'AWS::Lambda::Permission',
      Properties: {
        FunctionName: ref('BrokerFunction'),
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        SourceArn: sub('arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${BrokerApi}/*'),
      },
    };
    outputs.BrokerUrl = {
      Description: 'The broker API: the web page posts to <BrokerUrl>uploads',
      Value: sub('https://${BrokerApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/'),
    };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `Hoist: direct-to-S3 uploads (bucket ${bucket}, prefix ${prefix}/). No role cycle: the execution role names the upload role by an ARN built from its fixed name.`,
    Parameters: {
      CodeBucket: { Type: 'String', Description: 'S3 bucket holding the broker zip (npm run build:lambda)' },
      CodeKey: { Type: 'String', Description: 'Key of the zip in CodeBucket', Default: 'hoist/broker.zip' },
      RegistryUrl: {
        Type: 'String',
        NoEcho: true,
        Description:
          'Upload registry: postgres://user:password@host/db (Lambda containers share nothing; sqlite:/tmp/… only for a trial with reserved concurrency 1)',
      },
      JwksUrl: { Type: 'String', Description: "JWKS URL of your identity provider (the broker's auth)" },
      JwtIssuer: { Type: 'String', Default: '', Description: 'Required iss claim (empty: not checked)' },
      JwtAudience: { Type: 'String', Default: '', Description: 'Required aud claim (empty: not checked)' },
    },
    Metadata: { HoistCycleNote: CYCLE_NOTE.join('\n') },
    Resources: resources,
    Outputs: outputs,
  };
}

export function renderTemplate(options: TemplateOptions, format: 'json' | 'yaml'): string {
  const template = buildTemplate(options);
  return format === 'json' ? `${JSON.stringify(template, null, 2)}\n` : toYaml(template, CYCLE_NOTE);
}
