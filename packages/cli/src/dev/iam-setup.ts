/**
 * Creates the broker's identity through the local server's IAM API with the official SDK
 * and the root credentials, as the AWS setup does against AWS: the broker user with its
 * access key and policy, and the upload role with its trust and permission policies.
 * Idempotent: what exists is reused (the key only if we still hold its secret) and the
 * policies are put again, so a restart converges on the same state without duplicates.
 */
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  GetRoleCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { brokerPolicy, type PolicyDocument, uploadRolePolicy } from '../aws/policies.ts';
import { trustPolicy } from '../aws/trust.ts';
import type { AccessKey } from './identity.ts';

export const BROKER_USER = 'hoist-broker';
export const UPLOAD_ROLE = 'hoist-upload';

export interface IamSetupOptions {
  endpoint: string;
  region: string;
  rootCredentials: AccessKey;
  bucket: string;
  keyPrefix: string;
  /** The key kept from an earlier start, reused when the user still has it. */
  storedKey?: AccessKey | undefined;
}

export interface BrokerIdentity {
  key: AccessKey;
  roleArn: string;
  /** A new key was created (the caller must keep it). */
  keyCreated: boolean;
}

async function orCreate<T>(get: () => Promise<T>, create: () => Promise<T>): Promise<T> {
  try {
    return await get();
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
    return create();
  }
}

async function ensureUserArn(iam: IAMClient): Promise<string> {
  const out = await orCreate(
    () => iam.send(new GetUserCommand({ UserName: BROKER_USER })),
    () => iam.send(new CreateUserCommand({ UserName: BROKER_USER })),
  );
  if (!out.User?.Arn) throw new Error('IAM answered without the user ARN');
  return out.User.Arn;
}

async function ensureKey(
  iam: IAMClient,
  stored: AccessKey | undefined,
): Promise<{ key: AccessKey; created: boolean }> {
  const listed = await iam.send(new ListAccessKeysCommand({ UserName: BROKER_USER }));
  const ids = (listed.AccessKeyMetadata ?? []).map((key) => key.AccessKeyId);
  if (stored && ids.includes(stored.accessKeyId)) return { key: stored, created: false };
  // Keys whose secret we no longer hold are useless to us and count against IAM's two per user.
  for (const id of ids) {
    if (id) await iam.send(new DeleteAccessKeyCommand({ UserName: BROKER_USER, AccessKeyId: id }));
  }
  const created = await iam.send(new CreateAccessKeyCommand({ UserName: BROKER_USER }));
  const key = created.AccessKey;
  if (!key?.AccessKeyId || !key.SecretAccessKey) throw new Error('IAM answered without the new access key');
  return { key: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey }, created: true };
}

async function ensureRoleArn(iam: IAMClient, trust: string): Promise<string> {
  const out = await orCreate(
    async () => {
      const found = await iam.send(new GetRoleCommand({ RoleName: UPLOAD_ROLE }));
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: UPLOAD_ROLE, PolicyDocument: trust }));
      return found;
    },
    () =>
      iam.send(
        new CreateRoleCommand({
          RoleName: UPLOAD_ROLE,
          AssumeRolePolicyDocument: trust,
          Description: 'Assumed by the Hoist broker; each session is narrowed to one object key',
        }),
      ),
  );
  if (!out.Role?.Arn) throw new Error('IAM answered without the role ARN');
  return out.Role.Arn;
}

/**
 * The kit's broker policy for sts mode plus its federation statement: `hoist dev --mode` may
 * switch between them from one start to the next, with the same broker user.
 */
function devBrokerPolicy(bucket: string, prefix: string, roleArn: string): PolicyDocument {
  const sts = brokerPolicy({ bucket, prefix, mode: 'sts', roleArn });
  const federation = brokerPolicy({ bucket, prefix, mode: 'federation' });
  const federate = federation.Statement.filter((statement) => statement.Sid === 'FederateUploads');
  return { ...sts, Statement: [...sts.Statement, ...federate] };
}

export async function setupBrokerIdentity(options: IamSetupOptions): Promise<BrokerIdentity> {
  const iam = new IAMClient({
    endpoint: options.endpoint,
    region: options.region,
    // A copy: the SDK writes bookkeeping fields into the object it is given.
    credentials: { ...options.rootCredentials },
  });
  try {
    const userArn = await ensureUserArn(iam);
    const { key, created } = await ensureKey(iam, options.storedKey);
    const roleArn = await ensureRoleArn(iam, JSON.stringify(trustPolicy({ principal: userArn })));
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: UPLOAD_ROLE,
        PolicyName: 'uploads',
        PolicyDocument: JSON.stringify(
          uploadRolePolicy({ bucket: options.bucket, prefix: options.keyPrefix }),
        ),
      }),
    );
    await iam.send(
      new PutUserPolicyCommand({
        UserName: BROKER_USER,
        PolicyName: 'broker',
        PolicyDocument: JSON.stringify(devBrokerPolicy(options.bucket, options.keyPrefix, roleArn)),
      }),
    );
    return { key, roleArn, keyCreated: created };
  } finally {
    iam.destroy();
  }
}
