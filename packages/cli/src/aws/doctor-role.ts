/**
 * `hoist aws doctor`'s upload-role checks: the trust policy lets the broker assume the role
 * (for sessions as long as the config asks), and the role's policies allow the upload flow on
 * the prefix and nothing broader.
 */
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { decodePolicyDocument, isNoSuchEntity } from './context.ts';
import { type Add, type DoctorOptions, readOrReport } from './doctor-findings.ts';
import { checkUploadRolePolicy } from './policies.ts';
import { brokerPrincipalArn, checkTrustPolicy } from './trust.ts';

/** The broker's principal: given, or the identity behind its credentials. */
async function brokerPrincipal(options: DoctorOptions): Promise<string | undefined> {
  if (options.principal) return brokerPrincipalArn(options.principal);
  try {
    const out = await options.broker.sts.send(new GetCallerIdentityCommand({}));
    return out.Arn ? brokerPrincipalArn(out.Arn) : undefined;
  } catch {
    return undefined;
  }
}

export async function checkRole(options: DoctorOptions, add: Add): Promise<void> {
  const { deployment, admin } = options;
  const role = deployment.role;
  if (!role) {
    add({ level: 'ok', check: 'role', message: `mode ${deployment.config.mode}: no upload role to check` });
    return;
  }
  const found = await readOrReport(
    add,
    {
      check: 'role',
      what: `read role ${role.name}`,
      fix: (error) =>
        isNoSuchEntity(error)
          ? 'create it: hoist aws setup --principal BROKER_ARN'
          : 'run doctor with iam:GetRole',
    },
    async () => {
      const out = await admin.iam.send(new GetRoleCommand({ RoleName: role.name }));
      return {
        trust: decodePolicyDocument(out.Role?.AssumeRolePolicyDocument),
        maxSession: out.Role?.MaxSessionDuration ?? 3600,
      };
    },
  );
  if (!found) return;
  const { trust, maxSession } = found;
  const principal = await brokerPrincipal(options);
  if (!principal) {
    add({
      level: 'warning',
      check: 'trust',
      message: "the broker's identity is unknown: pass --principal to check the trust policy",
    });
  } else {
    const problems = checkTrustPolicy(trust as object, {
      principal,
      roleArn: role.arn,
      externalId: deployment.config.sts.externalId,
    });
    for (const p of problems)
      add({
        level: p.level,
        check: 'trust',
        message: p.message,
        fix: `hoist aws setup --principal ${principal} (or: hoist aws trust --principal ${principal})`,
      });
    if (problems.length === 0)
      add({ level: 'ok', check: 'trust', message: `${principal} may assume ${role.name}` });
    const duration = deployment.config.sts.durationSeconds;
    if (duration > maxSession)
      add({
        level: 'error',
        check: 'trust',
        message: `sts.durationSeconds ${duration} exceeds the role's MaxSessionDuration ${maxSession}`,
        fix: "lower sts.durationSeconds or raise the role's MaxSessionDuration",
      });
    else if (principal.includes(':role/') && duration > 3600)
      add({
        level: 'error',
        check: 'trust',
        message: `the broker is a role: role chaining caps sessions at 3600 s, sts.durationSeconds is ${duration}`,
        fix: 'set sts.durationSeconds to 3600 or less (the engine refreshes credentials)',
      });
  }
  await checkRolePolicies(options, add);
}

async function checkRolePolicies({ deployment, admin }: DoctorOptions, add: Add): Promise<void> {
  const role = deployment.role!;
  const fix = `hoist aws setup (or: hoist aws policy > role-policy.json; aws iam put-role-policy --role-name ${role.name} --policy-name hoist-upload --policy-document file://role-policy.json, and remove the other policies)`;
  const listed = await readOrReport(
    add,
    {
      check: 'role-policy',
      what: "list the role's policies",
      fix: 'run doctor with iam:ListRolePolicies and iam:ListAttachedRolePolicies',
    },
    async () => ({
      names: (await admin.iam.send(new ListRolePoliciesCommand({ RoleName: role.name }))).PolicyNames ?? [],
      attached: (
        (await admin.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.name })))
          .AttachedPolicies ?? []
      ).map((p) => p.PolicyArn ?? p.PolicyName ?? '?'),
    }),
  );
  if (!listed) return;
  const { names, attached } = listed;
  if (attached.length > 0)
    add({
      level: 'error',
      check: 'role-policy',
      message: `managed policies are attached to ${role.name} (${attached.join(', ')}): the upload role should hold only its inline policy`,
      fix: `aws iam detach-role-policy --role-name ${role.name} --policy-arn …`,
    });
  const documents: unknown[] = [];
  for (const name of names) {
    const out = await admin.iam.send(new GetRolePolicyCommand({ RoleName: role.name, PolicyName: name }));
    documents.push(decodePolicyDocument(out.PolicyDocument));
  }
  const problems = checkUploadRolePolicy(documents as object[], deployment);
  for (const p of problems) add({ level: p.level, check: 'role-policy', message: p.message, fix });
  if (problems.every((p) => p.level !== 'error') && attached.length === 0)
    add({
      level: 'ok',
      check: 'role-policy',
      message: `${role.name} allows multipart uploads on ${deployment.bucket}/${deployment.prefix}/* and nothing broader`,
    });
}
