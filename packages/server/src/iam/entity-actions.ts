/**
 * The IAM actions on roles, users and access keys: each authorizes its IAM action on the
 * target's ARN first, then validates its parameters and acts on the store.
 */
import {
  arnOf,
  authorize,
  type Handler,
  keyMetadataXml,
  paged,
  pathPrefixParam,
  roleArn,
  roleXml,
  tagRecord,
  tagsParam,
  userArn,
  userNameOrCaller,
  userXml,
} from './action-context.ts';
import { paginate } from './params.ts';
import { IamError } from './types.ts';
import {
  checkDescription,
  checkPath,
  checkRoleName,
  checkString,
  checkUserName,
  LIMITS,
  nameKey,
} from './validate.ts';
import { iamDate, members } from './xml.ts';

/** The role, user and access key actions; api.ts adds the inline-policy ones. */
export const ENTITY_HANDLERS: Record<string, Handler> = {
  CreateRole(ctx) {
    const { params, store } = ctx;
    const roleName = params.target('RoleName');
    const path = params.optional('Path');
    authorize(ctx, 'iam:CreateRole', arnOf(store, 'role', path, roleName));
    const document = params.required('AssumeRolePolicyDocument');
    const description = params.optional('Description');
    const maxSessionDuration = params.integer(
      'MaxSessionDuration',
      LIMITS.minSessionDuration,
      LIMITS.maxSessionDuration,
    );
    const tagList = tagsParam(params);
    params.check(
      checkRoleName(roleName),
      path === undefined ? undefined : checkPath(path),
      description === undefined ? undefined : checkDescription(description),
    );
    params.done();
    params.unsupported('PermissionsBoundary');
    const tags = tagRecord(tagList);
    const role = store.createRole({
      roleName,
      assumeRolePolicyDocument: document,
      ...(path === undefined ? {} : { path }),
      ...(description === undefined ? {} : { description }),
      ...(maxSessionDuration === undefined ? {} : { maxSessionDuration }),
      ...(tags === undefined ? {} : { tags }),
    });
    return { Role: roleXml(role, 'full') };
  },

  GetRole(ctx) {
    const roleName = ctx.params.target('RoleName');
    authorize(ctx, 'iam:GetRole', roleArn(ctx, roleName));
    ctx.params.check(checkRoleName(roleName));
    ctx.params.done();
    const role = ctx.store.getRole(roleName);
    if (!role) throw new IamError('NoSuchEntity', `The role with name ${roleName} cannot be found.`);
    return { Role: roleXml(role, 'full') };
  },

  DeleteRole(ctx) {
    const roleName = ctx.params.target('RoleName');
    authorize(ctx, 'iam:DeleteRole', roleArn(ctx, roleName));
    ctx.params.check(checkRoleName(roleName));
    ctx.params.done();
    ctx.store.deleteRole(roleName);
    return undefined;
  },

  ListRoles(ctx) {
    authorize(ctx, 'iam:ListRoles', '*');
    const prefix = pathPrefixParam(ctx.params);
    const roles = ctx.store.listRoles().filter((r) => r.path.startsWith(prefix));
    const page = paginate(ctx.params, roles, (r) => nameKey(r.roleName));
    return { Roles: members(page.items.map((r) => roleXml(r, 'list'))), ...paged(page) };
  },

  // This server has no managed policies: a role never has any attached. Answered so tools that
  // audit a role (`hoist aws doctor`) work here as on AWS.
  ListAttachedRolePolicies(ctx) {
    const roleName = ctx.params.target('RoleName');
    authorize(ctx, 'iam:ListAttachedRolePolicies', roleArn(ctx, roleName));
    ctx.params.check(checkRoleName(roleName));
    pathPrefixParam(ctx.params);
    const role = ctx.store.getRole(roleName);
    if (!role) {
      ctx.params.done();
      throw new IamError('NoSuchEntity', `The role with name ${roleName} cannot be found.`);
    }
    const page = paginate(ctx.params, [] as string[], (name) => name);
    return { AttachedPolicies: members(page.items), ...paged(page) };
  },

  UpdateAssumeRolePolicy(ctx) {
    const roleName = ctx.params.target('RoleName');
    authorize(ctx, 'iam:UpdateAssumeRolePolicy', roleArn(ctx, roleName));
    const document = ctx.params.required('PolicyDocument');
    ctx.params.check(checkRoleName(roleName));
    ctx.params.done();
    ctx.store.updateAssumeRolePolicy(roleName, document);
    return undefined;
  },

  CreateUser(ctx) {
    const { params, store } = ctx;
    const userName = params.target('UserName');
    const path = params.optional('Path');
    authorize(ctx, 'iam:CreateUser', arnOf(store, 'user', path, userName));
    const tagList = tagsParam(params);
    params.check(checkUserName(userName), path === undefined ? undefined : checkPath(path));
    params.done();
    params.unsupported('PermissionsBoundary');
    const tags = tagRecord(tagList);
    const user = store.createUser({
      userName,
      ...(path === undefined ? {} : { path }),
      ...(tags === undefined ? {} : { tags }),
    });
    return { User: userXml(user, 'full') };
  },

  GetUser(ctx) {
    const userName = userNameOrCaller(ctx);
    authorize(ctx, 'iam:GetUser', userArn(ctx, userName));
    ctx.params.check(checkUserName(userName));
    ctx.params.done();
    const user = ctx.store.getUser(userName);
    if (!user) throw new IamError('NoSuchEntity', `The user with name ${userName} cannot be found.`);
    return { User: userXml(user, 'full') };
  },

  DeleteUser(ctx) {
    const userName = ctx.params.target('UserName');
    authorize(ctx, 'iam:DeleteUser', userArn(ctx, userName));
    ctx.params.check(checkUserName(userName));
    ctx.params.done();
    ctx.store.deleteUser(userName);
    return undefined;
  },

  ListUsers(ctx) {
    authorize(ctx, 'iam:ListUsers', '*');
    const prefix = pathPrefixParam(ctx.params);
    const users = ctx.store.listUsers().filter((u) => u.path.startsWith(prefix));
    const page = paginate(ctx.params, users, (u) => nameKey(u.userName));
    return { Users: members(page.items.map((u) => userXml(u, 'list'))), ...paged(page) };
  },

  CreateAccessKey(ctx) {
    const userName = userNameOrCaller(ctx);
    authorize(ctx, 'iam:CreateAccessKey', userArn(ctx, userName));
    ctx.params.check(checkUserName(userName));
    ctx.params.done();
    const key = ctx.store.createAccessKey(userName);
    return {
      AccessKey: {
        UserName: key.userName,
        AccessKeyId: key.accessKeyId,
        Status: key.status,
        SecretAccessKey: key.secretAccessKey,
        CreateDate: iamDate(key.createDate),
      },
    };
  },

  DeleteAccessKey(ctx) {
    const accessKeyId = ctx.params.target('AccessKeyId');
    const userName = userNameOrCaller(ctx);
    authorize(ctx, 'iam:DeleteAccessKey', userArn(ctx, userName));
    ctx.params.check(
      checkUserName(userName),
      checkString('accessKeyId', accessKeyId, { min: 16, max: 128, re: /^\w+$/, pattern: '[\\w]+' }),
    );
    ctx.params.done();
    ctx.store.deleteAccessKey(userName, accessKeyId);
    return undefined;
  },

  ListAccessKeys(ctx) {
    const userName = userNameOrCaller(ctx);
    authorize(ctx, 'iam:ListAccessKeys', userArn(ctx, userName));
    ctx.params.check(checkUserName(userName));
    const user = ctx.store.getUser(userName);
    if (!user) {
      ctx.params.done();
      throw new IamError('NoSuchEntity', `The user with name ${userName} cannot be found.`);
    }
    const keys = ctx.store.listAccessKeys(user.userName);
    const page = paginate(
      ctx.params,
      keys,
      (k) => `${String(k.createDate).padStart(16, '0')}:${k.accessKeyId}`,
    );
    return {
      UserName: user.userName,
      AccessKeyMetadata: members(page.items.map(keyMetadataXml)),
      ...paged(page),
    };
  },
};
