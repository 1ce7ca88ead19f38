/**
 * `hoist aws …`: what it takes to run Hoist on AWS, derived from the broker config (`--config
 * FILE` and `HOIST_*`, as `hoist broker` reads them). `policy`, `trust`, `cors`, `lifecycle` and
 * `template` only print; `setup` and `doctor` call AWS with the operator's credentials (the
 * SDK's default chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, …) and the broker's (from its config).
 */
import { parseArgs } from 'node:util';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import {
  type BrokerConfig,
  describeStoreError,
  loadBrokerConfig,
  StoreTimeoutError,
  storeAnswer,
} from '@hoist/broker';
import {
  type AdminClients,
  type ClientOptions,
  createAdminClients,
  createBrokerClients,
  deploymentOf,
  destroyAdminClients,
  destroyBrokerClients,
  scopeOf,
} from '../aws/context.ts';
import { corsConfiguration } from '../aws/cors.ts';
import { formatFindings, runDoctor } from '../aws/doctor.ts';
import { capabilityFindings } from '../aws/doctor-capabilities.ts';
import { defaultAbortDays, lifecycleConfiguration } from '../aws/lifecycle.ts';
import { brokerPolicy, exampleSessionPolicy, uploadRolePolicy } from '../aws/policies.ts';
import { applyPlan, formatPlan, planSetup, SetupError } from '../aws/setup.ts';
import { trustPolicy } from '../aws/trust.ts';
import { UsageError } from '../broker-args.ts';

const HELP = `Usage: hoist aws <command> [--config FILE] [options]

Everything is derived from the broker config (--config FILE, else $HOIST_CONFIG, and the
HOIST_* variables): bucket, region, key prefix, mode, role ARN.

  policy [--broker | --session-example]
        the upload role's permission policy (multipart on the prefix only);
        --broker: the broker identity's own policy; --session-example: a per-upload session policy
  trust --principal ARN [--tag-session]
        the upload role's trust policy for the broker's role or user
  cors [--origin URL]... [--allow-any-origin] [--max-age SECONDS]
        bucket CORS (origins default to cors.origins), as for aws s3api put-bucket-cors
  lifecycle [--days N]
        the AbortIncompleteMultipartUpload rule, as for aws s3api put-bucket-lifecycle-configuration
  template [--format json|yaml] [--api function-url|api-gateway] [--origin URL]...
        a CloudFormation template: bucket, upload role, broker Lambda and its execution role
  setup [--principal ARN] [--origin URL]... [--days N] [--yes] [--endpoint URL]
        create or update bucket, CORS, lifecycle, role and policies; prints the plan, applies with --yes
  doctor [--principal ARN] [--origin URL]... [--skip-live] [--endpoint URL]
        check a live deployment; exits 1 on any error

--endpoint sends setup's and doctor's IAM, S3 and STS calls to one endpoint (a local server);
by default they go to AWS with the SDK's default credentials.
--compact prints policy, trust, cors and lifecycle JSON on one line (stores such as Ceph RGW
refuse policies with spaces sent by form-encoding clients like the AWS CLI).
Role ARNs of S3-compatible stores are accepted (arn:aws:iam:::role/NAME, arn:aws:iam::tenant:role/NAME);
policy, cors and lifecycle need no role ARN.
`;

const OPTIONS = {
  config: { type: 'string' },
  principal: { type: 'string' },
  origin: { type: 'string', multiple: true },
  'allow-any-origin': { type: 'boolean' },
  'max-age': { type: 'string' },
  days: { type: 'string' },
  format: { type: 'string' },
  api: { type: 'string' },
  broker: { type: 'boolean' },
  'session-example': { type: 'boolean' },
  'tag-session': { type: 'boolean' },
  'skip-broker-policy': { type: 'boolean' },
  'skip-live': { type: 'boolean' },
  endpoint: { type: 'string' },
  compact: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

/** Where a run writes, what it reads, and (for tests) how the operator's clients are made. */
export interface AwsIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env?: Record<string, string | undefined>;
  adminClients?: (options: ClientOptions) => AdminClients;
}

/** Pretty by default; `--compact` on one line, as stores that do not decode `+` in form bodies (Ceph RGW) need policies sent. */
const printer = (values: Values) => (value: unknown) =>
  `${values.compact ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`;

function integer(text: string | undefined, option: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw new UsageError(`--${option} must be a whole number from ${min} to ${max}, got "${text}"`);
  return Number(text);
}

function originsOf(values: Values, config: BrokerConfig): string[] {
  return values.origin ?? config.cors.origins;
}

/** Runs `hoist aws …`; resolves to the exit status. */
export async function awsCommand(args: string[], io: AwsIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parse(args));
  } catch (error) {
    io.err(`hoist aws: ${(error as Error).message}\n`);
    return 2;
  }
  const [command, ...extra] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out(HELP);
    return 0;
  }
  if (extra.length > 0) {
    io.err(`hoist aws: unexpected argument "${extra[0]}"\n`);
    return 2;
  }
  try {
    const config = loadBrokerConfig({
      ...(values.config === undefined ? {} : { file: values.config }),
      ...(io.env ? { env: io.env } : {}),
    });
    return await dispatch(command, values, config, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof TypeError) {
      io.err(`hoist aws ${command}: ${error.message}\n`);
      return 2;
    }
    // A store call that failed outside doctor's findings: what the store answered, not a stack.
    if (error instanceof SetupError) {
      io.err(`hoist aws ${command}: ${error.message}\n`);
      return 1;
    }
    if ((error as { $metadata?: unknown })?.$metadata !== undefined || error instanceof StoreTimeoutError) {
      io.err(`hoist aws ${command}: ${storeAnswer(describeStoreError(error))}\n`);
      return 1;
    }
    throw error;
  }
}

async function dispatch(command: string, values: Values, config: BrokerConfig, io: AwsIo): Promise<number> {
  // Only setup and doctor read the role ARN (they create or inspect the role): the printing
  // commands work with whatever ARN a store uses, or none.
  const deployment = scopeOf(config);
  const json = printer(values);
  const abortDays = integer(values.days, 'days', 1, 36_500) ?? defaultAbortDays(config.uploadTtlSeconds);
  switch (command) {
    case 'policy': {
      if (values.broker && values['session-example'])
        throw new UsageError('--broker and --session-example are exclusive');
      if (values['session-example']) io.out(json(exampleSessionPolicy(deployment)));
      else if (values.broker)
        io.out(
          json(
            brokerPolicy({
              ...deployment,
              mode: config.mode,
              ...(config.sts.roleArn ? { roleArn: config.sts.roleArn } : {}),
              ...(values['tag-session'] ? { tagSession: true } : {}),
            }),
          ),
        );
      else io.out(json(uploadRolePolicy(deployment)));
      return 0;
    }
    case 'trust': {
      if (!values.principal) throw new UsageError("--principal ARN is required (the broker's role or user)");
      io.out(
        json(
          trustPolicy({
            principal: values.principal,
            ...(values['tag-session'] ? { tagSession: true } : {}),
            ...(config.sts.externalId ? { externalId: config.sts.externalId } : {}),
          }),
        ),
      );
      return 0;
    }
    case 'cors':
      io.out(
        json(
          corsConfiguration({
            origins: originsOf(values, config),
            allowAnyOrigin: Boolean(values['allow-any-origin']),
            ...maxAge(values),
          }),
        ),
      );
      return 0;
    case 'lifecycle':
      io.out(json(lifecycleConfiguration({ prefix: config.keyPrefix, days: abortDays })));
      return 0;
    case 'template': {
      const { renderTemplate } = await import('../aws/template.ts');
      const format = values.format ?? 'yaml';
      const api = values.api ?? 'function-url';
      if (format !== 'json' && format !== 'yaml')
        throw new UsageError(`--format must be json or yaml, got "${format}"`);
      if (api !== 'function-url' && api !== 'api-gateway')
        throw new UsageError(`--api must be function-url or api-gateway, got "${api}"`);
      io.out(
        renderTemplate(
          {
            config,
            origins: originsOf(values, config),
            abortDays,
            api,
            allowAnyOrigin: Boolean(values['allow-any-origin']),
          },
          format,
        ),
      );
      return 0;
    }
    case 'setup':
    case 'doctor':
      return live(command, values, config, abortDays, io);
    default:
      throw new UsageError(
        `unknown command "${command}" (policy, trust, cors, lifecycle, template, setup, doctor)`,
      );
  }
}

function maxAge(values: Values): { maxAgeSeconds?: number } {
  const seconds = integer(values['max-age'], 'max-age', 0, 86_400);
  return seconds === undefined ? {} : { maxAgeSeconds: seconds };
}

async function live(
  command: 'setup' | 'doctor',
  values: Values,
  config: BrokerConfig,
  abortDays: number,
  io: AwsIo,
): Promise<number> {
  const deployment = deploymentOf(config);
  const endpoint = values.endpoint ?? config.s3.endpoint;
  const admin = (io.adminClients ?? createAdminClients)({
    endpoint,
    region: config.s3.region,
    timeouts: config.upstream,
  });
  const broker = createBrokerClients(config);
  try {
    // Without --principal: the identity behind the broker's configured keys, if it has any.
    const principal = values.principal ?? (config.s3.credentials ? await callerArn(broker.sts) : undefined);
    if (command === 'setup') {
      const plan = await planSetup({
        deployment,
        clients: admin,
        principal,
        cors: {
          origins: originsOf(values, config),
          allowAnyOrigin: Boolean(values['allow-any-origin']) || config.cors.allowAnyOrigin,
          ...maxAge(values),
        },
        abortDays,
        brokerPolicy: !values['skip-broker-policy'],
        tagSession: Boolean(values['tag-session']),
      });
      io.out(`Plan for bucket ${deployment.bucket} (${deployment.region}), prefix ${deployment.prefix}/:\n`);
      io.out(formatPlan(plan));
      if (plan.changes === 0) return 0;
      if (!values.yes) {
        io.out('Run again with --yes to apply.\n');
        return 0;
      }
      await applyPlan(plan);
      io.out('Applied.\n');
      return 0;
    }
    const findings = await runDoctor({
      deployment,
      admin,
      broker,
      origins: originsOf(values, config),
      principal,
      skipLive: Boolean(values['skip-live']),
      capabilities: capabilityFindings,
    });
    io.out(formatFindings(findings));
    return findings.some((f) => f.level === 'error') ? 1 : 0;
  } finally {
    destroyBrokerClients(broker);
    destroyAdminClients(admin);
  }
}

async function callerArn(sts: STSClient): Promise<string | undefined> {
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
  } catch {
    return undefined;
  }
}

/** The `hoist aws` entry: process streams and exit status. */
export async function runAws(args: string[]): Promise<void> {
  const code = await awsCommand(args, {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
  if (code !== 0) process.exitCode = code;
}
