/**
 * `hoist aws setup`: brings a bucket and its IAM to what Hoist needs, idempotently. It reads the
 * current state, plans one step per thing that differs (bucket, CORS rule, lifecycle rule,
 * upload role and its trust, the role's policy, the broker identity's policy), prints the
 * plan, and applies it only when asked. Rules and policies are merged by their ID/name: the
 * bucket's other CORS and lifecycle rules and the identities' other policies stay as they are.
 */
import {
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  type BucketLocationConstraint,
  type CORSRule,
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  type LifecycleRule,
  PutBucketCorsCommand,
  PutBucketLifecycleConfigurationCommand,
} from '@aws-sdk/client-s3';
import { describeStoreError, storeAnswer } from '../../broker/store-errors.ts';
import {
  type AdminClients,
  awsError,
  type Deployment,
  decodePolicyDocument,
  isNoSuchEntity,
  sameJson,
} from './context.ts';
import { CORS_RULE_ID, type CorsOptions, corsRule } from './cors.ts';
import { LIFECYCLE_RULE_ID, lifecycleRule } from './lifecycle.ts';
import { brokerPolicy, type PolicyDocument, uploadRolePolicy } from './policies.ts';
import { brokerPrincipalArn, trustPolicy } from './trust.ts';

/** Inline policy names Hoist owns. */
export const ROLE_POLICY_NAME = 'hoist-upload';
export const BROKER_POLICY_NAME = 'hoist-broker';

export interface SetupOptions {
  deployment: Deployment;
  clients: AdminClients;
  /** The broker's role or user ARN: the role's trust names it, and it gets the broker policy. */
  principal?: string | undefined;
  /** Bucket CORS; skipped when there are no origins. */
  cors?: CorsOptions | undefined;
  /** AbortIncompleteMultipartUpload after this many days. */
  abortDays: number;
  /** Put the broker policy on the principal (same account only). @default true */
  brokerPolicy?: boolean;
  /** Session tags (sts:TagSession in trust and broker policy). */
  tagSession?: boolean;
}

export interface PlanStep {
  kind: 'create' | 'update' | 'ok' | 'skip';
  /** What the step is about, e.g. `bucket CORS rule hoist-uploads`. */
  subject: string;
  detail?: string;
  apply?: () => Promise<void>;
}

export interface Plan {
  steps: PlanStep[];
  /** Steps that change something. */
  changes: number;
}

const SYMBOL = { create: '+', update: '~', ok: '=', skip: '-' } as const;

export function formatPlan(plan: Plan): string {
  const lines = plan.steps.map(
    (s) => `  ${SYMBOL[s.kind]} ${s.kind.padEnd(6)} ${s.subject}${s.detail ? `: ${s.detail}` : ''}`,
  );
  const summary = plan.changes === 0 ? 'Nothing to change.' : `${plan.changes} change(s).`;
  return `${lines.join('\n')}\n${summary}\n`;
}

/** Reads the current state and returns the steps that would bring it in line. Changes nothing. */
export async function planSetup(options: SetupOptions): Promise<Plan> {
  const steps: PlanStep[] = [
    await bucketStep(options),
    ...(await corsStep(options)),
    await lifecycleStep(options),
    ...(await roleSteps(options)),
    ...(await brokerPolicyStep(options)),
  ];
  return { steps, changes: steps.filter((s) => s.kind === 'create' || s.kind === 'update').length };
}

/** Setup cannot go on: the message says what the store answered. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
  readonly code = 'setup-failed';
}

/** Applies a plan's changes in order (the bucket before its rules, the role before its policy). */
export async function applyPlan(plan: Plan): Promise<void> {
  for (const step of plan.steps) await step.apply?.();
}

async function bucketStep({ deployment, clients }: SetupOptions): Promise<PlanStep> {
  const subject = `bucket ${deployment.bucket}`;
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: deployment.bucket }));
    return { kind: 'ok', subject };
  } catch (error) {
    const { status } = awsError(error);
    if (status !== 404)
      throw new SetupError(`cannot read ${subject}: ${storeAnswer(describeStoreError(error))}`);
  }
  return {
    kind: 'create',
    subject,
    detail: `in ${deployment.region} (new buckets block public access and encrypt with SSE-S3 by default)`,
    apply: async () => {
      await clients.s3.send(
        new CreateBucketCommand({
          Bucket: deployment.bucket,
          ...(deployment.region === 'us-east-1'
            ? {}
            : {
                CreateBucketConfiguration: {
                  LocationConstraint: deployment.region as BucketLocationConstraint,
                },
              }),
        }),
      );
    },
  };
}

async function bucketRules<T>(
  read: () => Promise<T[] | undefined>,
  missing: string,
): Promise<T[] | undefined> {
  try {
    return (await read()) ?? [];
  } catch (error) {
    const { name, status } = awsError(error);
    if (name === missing) return [];
    // A bucket about to be created has no rules yet.
    if (name === 'NoSuchBucket' || status === 404) return undefined;
    throw error;
  }
}

async function corsStep({ deployment, clients, cors }: SetupOptions): Promise<PlanStep[]> {
  const subject = `bucket CORS rule ${CORS_RULE_ID}`;
  if (!cors || cors.origins.length === 0)
    return [{ kind: 'skip', subject, detail: 'no origins (pass --origin or set cors.origins)' }];
  const wanted = corsRule(cors);
  const current = await bucketRules(
    async () => (await clients.s3.send(new GetBucketCorsCommand({ Bucket: deployment.bucket }))).CORSRules,
    'NoSuchCORSConfiguration',
  );
  const others = (current ?? []).filter((rule) => rule.ID !== CORS_RULE_ID);
  const ours = current?.find((rule) => rule.ID === CORS_RULE_ID);
  if (ours && sameJson(normaliseCors(ours), normaliseCors(wanted))) return [{ kind: 'ok', subject }];
  return [
    {
      kind: ours ? 'update' : 'create',
      subject,
      detail: `origins ${wanted.AllowedOrigins.join(', ')}`,
      apply: async () => {
        await clients.s3.send(
          new PutBucketCorsCommand({
            Bucket: deployment.bucket,
            CORSConfiguration: { CORSRules: [...others, wanted] },
          }),
        );
      },
    },
  ];
}

function normaliseCors(rule: CORSRule): unknown {
  const sorted = (list: string[] | undefined) => [...(list ?? [])].sort();
  return {
    AllowedOrigins: sorted(rule.AllowedOrigins),
    AllowedMethods: sorted(rule.AllowedMethods),
    AllowedHeaders: sorted(rule.AllowedHeaders),
    ExposeHeaders: sorted(rule.ExposeHeaders).map((h) => h.toLowerCase()),
    MaxAgeSeconds: rule.MaxAgeSeconds,
  };
}

async function lifecycleStep({ deployment, clients, abortDays }: SetupOptions): Promise<PlanStep> {
  const subject = `bucket lifecycle rule ${LIFECYCLE_RULE_ID}`;
  const wanted = lifecycleRule({ prefix: deployment.prefix, days: abortDays });
  const current = await bucketRules(
    async () =>
      (await clients.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: deployment.bucket })))
        .Rules,
    'NoSuchLifecycleConfiguration',
  );
  const others = (current ?? []).filter((rule) => rule.ID !== LIFECYCLE_RULE_ID);
  const ours = current?.find((rule) => rule.ID === LIFECYCLE_RULE_ID);
  const same =
    ours !== undefined &&
    ours.Status === 'Enabled' &&
    ours.Filter?.Prefix === wanted.Filter.Prefix &&
    ours.Filter?.And === undefined &&
    ours.AbortIncompleteMultipartUpload?.DaysAfterInitiation === abortDays &&
    ours.Expiration === undefined;
  if (same) return { kind: 'ok', subject };
  return {
    kind: ours ? 'update' : 'create',
    subject,
    detail: `abort incomplete multipart uploads under ${wanted.Filter.Prefix} after ${abortDays} day(s)`,
    apply: async () => {
      await clients.s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: deployment.bucket,
          LifecycleConfiguration: { Rules: [...(others as LifecycleRule[]), wanted] },
        }),
      );
    },
  };
}

async function roleSteps(options: SetupOptions): Promise<PlanStep[]> {
  const { deployment, clients } = options;
  const role = deployment.role;
  if (!role)
    return [{ kind: 'skip', subject: 'upload role', detail: `mode ${deployment.config.mode} uses none` }];
  if (!options.principal)
    throw new TypeError(
      "--principal is required: the broker's IAM role or user ARN, which the role's trust names",
    );
  const trust = trustPolicy({
    principal: options.principal,
    ...(options.tagSession ? { tagSession: true } : {}),
    ...(deployment.config.sts.externalId ? { externalId: deployment.config.sts.externalId } : {}),
  });
  const policy = uploadRolePolicy(deployment);
  const subject = `role ${role.name}`;
  let existing: { trust: unknown; maxSession: number | undefined } | undefined;
  try {
    const out = await clients.iam.send(new GetRoleCommand({ RoleName: role.name }));
    existing = {
      trust: decodePolicyDocument(out.Role?.AssumeRolePolicyDocument),
      maxSession: out.Role?.MaxSessionDuration,
    };
  } catch (error) {
    if (!isNoSuchEntity(error)) throw error;
  }
  const maxSessionDuration = Math.max(3600, deployment.config.sts.durationSeconds);
  const steps: PlanStep[] = [];
  if (!existing) {
    steps.push({
      kind: 'create',
      subject,
      detail: `trusting ${brokerPrincipalArn(options.principal)}`,
      apply: async () => {
        await clients.iam.send(
          new CreateRoleCommand({
            RoleName: role.name,
            AssumeRolePolicyDocument: JSON.stringify(trust),
            Description: 'Hoist upload role: assumed by the broker with a one-object session policy',
            MaxSessionDuration: maxSessionDuration,
          }),
        );
      },
    });
  } else if (!sameJson(existing.trust, trust)) {
    steps.push({
      kind: 'update',
      subject: `trust policy of ${subject}`,
      detail: `trusting ${brokerPrincipalArn(options.principal)}`,
      apply: async () => {
        await clients.iam.send(
          new UpdateAssumeRolePolicyCommand({ RoleName: role.name, PolicyDocument: JSON.stringify(trust) }),
        );
      },
    });
  } else {
    steps.push({ kind: 'ok', subject: `trust policy of ${subject}` });
  }
  const current = existing
    ? await inlinePolicy(() =>
        clients.iam.send(new GetRolePolicyCommand({ RoleName: role.name, PolicyName: ROLE_POLICY_NAME })),
      )
    : undefined;
  steps.push(
    policyStep(
      `policy ${ROLE_POLICY_NAME} of ${subject}`,
      current,
      policy,
      `multipart on ${deployment.bucket}/${deployment.prefix}/*`,
      async () => {
        await clients.iam.send(
          new PutRolePolicyCommand({
            RoleName: role.name,
            PolicyName: ROLE_POLICY_NAME,
            PolicyDocument: JSON.stringify(policy),
          }),
        );
      },
    ),
  );
  return steps;
}

async function inlinePolicy(read: () => Promise<{ PolicyDocument?: string | undefined }>): Promise<unknown> {
  try {
    return decodePolicyDocument((await read()).PolicyDocument);
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw error;
  }
}

function policyStep(
  subject: string,
  current: unknown,
  wanted: PolicyDocument,
  detail: string,
  apply: () => Promise<void>,
): PlanStep {
  if (current !== undefined && sameJson(current, wanted)) return { kind: 'ok', subject };
  return { kind: current === undefined ? 'create' : 'update', subject, detail, apply };
}

async function brokerPolicyStep(options: SetupOptions): Promise<PlanStep[]> {
  const { deployment, clients } = options;
  const subject = `policy ${BROKER_POLICY_NAME} of the broker`;
  if (options.brokerPolicy === false) return [{ kind: 'skip', subject, detail: '--skip-broker-policy' }];
  if (!options.principal) return [{ kind: 'skip', subject, detail: 'no --principal' }];
  const principal = brokerPrincipalArn(options.principal);
  const match = /^arn:[^:]+:iam::([^:]*):(user|role)\/(?:.*\/)?([^/]+)$/.exec(principal);
  if (!match) return [{ kind: 'skip', subject, detail: `${principal} is not a user or role` }];
  const [, account, type, name] = match as unknown as [string, string, 'user' | 'role', string];
  if (deployment.role && deployment.role.account !== account)
    return [
      {
        kind: 'skip',
        subject,
        detail: `${principal} is in another account: give it the policy from "hoist aws policy --broker" there`,
      },
    ];
  const wanted = brokerPolicy({
    ...deployment,
    mode: deployment.config.mode,
    ...(deployment.role ? { roleArn: deployment.role.arn } : {}),
    ...(options.tagSession ? { tagSession: true } : {}),
  });
  const current = await inlinePolicy(async () =>
    type === 'user'
      ? await clients.iam.send(new GetUserPolicyCommand({ UserName: name, PolicyName: BROKER_POLICY_NAME }))
      : await clients.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: BROKER_POLICY_NAME })),
  );
  return [
    policyStep(
      `${subject} (${type} ${name})`,
      current,
      wanted,
      'its own S3 calls and minting credentials',
      async () => {
        const input = { PolicyName: BROKER_POLICY_NAME, PolicyDocument: JSON.stringify(wanted) };
        if (type === 'user') await clients.iam.send(new PutUserPolicyCommand({ ...input, UserName: name }));
        else await clients.iam.send(new PutRolePolicyCommand({ ...input, RoleName: name }));
      },
    ),
  ];
}
