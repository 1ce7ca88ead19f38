/**
 * The IAM Query API (service `iam`, version 2010-05-08) over an {@link IamStore}: one handler
 * per action, each authorizing its IAM action on the target's ARN first, then answering
 * with IAM's XML, or `<ErrorResponse>` with IAM's code and status. The caller has already
 * authenticated the request and parsed the form body.
 */
import { ProtocolError } from '../errors.ts';
import { paginate, QueryParams } from './params.ts';
import { type IamAccessKey, IamError, type IamRole, type IamStore, type IamUser } from './types.ts';
import {
  assertUniqueTagKeys,
  checkDescription,
  checkPath,
  checkPolicyName,
  checkRoleName,
  checkString,
  checkTags,
  checkUserName,
  isValidPath,
  LIMITS,
  nameKey,
} from './validate.ts';
import {
  encodePolicy,
  IAM_API_VERSION,
  iamDate,
  members,
  renderIamError,
  renderIamResponse,
  type XmlNode,
} from './xml.ts';

export interface IamApiDeps {
  store: IamStore;
  /** Throws when the authenticated caller may not perform `action` (e.g. `iam:CreateRole`) on `resourceArn`. */
  authorize: (action: string, resourceArn: string) => void;
  requestId: string;
  /**
   * The calling IAM user, when the caller is one: GetUser, CreateAccessKey, ListAccessKeys and
   * DeleteAccessKey act on them when UserName is omitted, as on AWS.
   */
  caller?: { userName?: string };
  /** Told of unexpected failures (answered as ServiceFailure 500), e.g. to log them. */
  onError?: (error: unknown) => void;
}

export interface IamApiResponse {
  status: number;
  /** `text/xml` */
  body: string;
}

interface Context {
  params: QueryParams;
  store: IamStore;
  authorize: (action: string, resourceArn: string) => void;
  caller?: { userName?: string };
}

type Handler = (ctx: Context) => XmlNode | undefined;

/** Marks a failure of `authorize`, to be rendered as AccessDenied (or the code it carries). */
class Denied {
  readonly error: unknown;
  readonly action: string;
  readonly resource: string;
  constructor(error: unknown, action: string, resource: string) {
    this.error = error;
    this.action = action;
    this.resource = resource;
  }
}

function authorize(ctx: Context, action: string, resource: string): void {
  try {
    ctx.authorize(action, resource);
  } catch (error) {
    throw new Denied(error, action, resource);
  }
}

// --- ARNs of targets (existing ones carry their real path) ---

const arnOf = (store: IamStore, type: 'user' | 'role', path: string | undefined, name: string): string => {
  const validPath = path !== undefined && isValidPath(path) ? path : '/';
  return `arn:aws:iam::${store.accountId}:${type}${validPath}${name}`;
};
const userArn = (ctx: Context, name: string): string =>
  ctx.store.getUser(name)?.arn ?? arnOf(ctx.store, 'user', undefined, name);
const roleArn = (ctx: Context, name: string): string =>
  ctx.store.getRole(name)?.arn ?? arnOf(ctx.store, 'role', undefined, name);

// --- XML shapes ---

const tagList = (tags: Record<string, string>): XmlNode | undefined => {
  const entries = Object.entries(tags);
  return entries.length === 0 ? undefined : members(entries.map(([Key, Value]) => ({ Key, Value })));
};

function roleXml(role: IamRole, detail: 'full' | 'list'): XmlNode {
  return {
    Path: role.path,
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: iamDate(role.createDate),
    AssumeRolePolicyDocument: encodePolicy(role.assumeRolePolicyDocument),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    // ListRoles leaves out Tags and RoleLastUsed, as IAM's listing operations do.
    Tags: detail === 'full' ? tagList(role.tags) : undefined,
    RoleLastUsed: detail === 'full' ? {} : undefined,
  };
}

function userXml(user: IamUser, detail: 'full' | 'list'): XmlNode {
  return {
    Path: user.path,
    UserName: user.userName,
    UserId: user.userId,
    Arn: user.arn,
    CreateDate: iamDate(user.createDate),
    Tags: detail === 'full' ? tagList(user.tags) : undefined,
  };
}

const keyMetadataXml = (key: IamAccessKey): XmlNode => ({
  UserName: key.userName,
  AccessKeyId: key.accessKeyId,
  Status: key.status,
  CreateDate: iamDate(key.createDate),
});

const paged = (page: { marker?: string }): XmlNode => ({
  IsTruncated: page.marker !== undefined,
  Marker: page.marker,
});

// --- parameter helpers ---

/** `Tags.member.N.*`, constraint failures collected into `params`; call tagRecord after done(). */
function tagsParam(params: QueryParams): { key: string; value: string }[] {
  const list = params.tags();
  params.check(...checkTags(list));
  return list;
}

function tagRecord(list: { key: string; value: string }[]): Record<string, string> | undefined {
  if (list.length === 0) return undefined;
  assertUniqueTagKeys(list);
  return Object.fromEntries(list.map(({ key, value }) => [key, value]));
}

function pathPrefixParam(params: QueryParams): string {
  const prefix = params.optional('PathPrefix') ?? '/';
  params.check(
    checkString('pathPrefix', prefix, {
      max: LIMITS.path,
      re: /^\/[\u0021-\u007f]*$/,
      pattern: '\\u002F[\\u0021-\\u007F]*',
    }),
  );
  return prefix;
}

/** UserName, or the calling user when it is omitted (GetUser, access key actions). */
function userNameOrCaller(ctx: Context): string {
  const name = ctx.params.optional('UserName') ?? ctx.caller?.userName;
  if (name === undefined) {
    throw new IamError('ValidationError', 'Must specify userName when calling with non-User credentials');
  }
  return name;
}

// --- handlers, one per action ---

/** Who can own inline policies (users and roles), for the four inline-policy actions. */
interface PolicyOwner {
  /** `Role` or `User`: action names are `Put${noun}Policy` etc., the parameter `${noun}Name`. */
  noun: 'Role' | 'User';
  arn: (ctx: Context, name: string) => string;
  checkName: (name: string) => string | undefined;
  find: (store: IamStore, name: string) => { name: string; policies: Record<string, string> } | undefined;
  put: (store: IamStore, name: string, policyName: string, document: string) => void;
  get: (store: IamStore, name: string, policyName: string) => string;
  remove: (store: IamStore, name: string, policyName: string) => void;
}

const ROLE_OWNER: PolicyOwner = {
  noun: 'Role',
  arn: (ctx, name) => roleArn(ctx, name),
  checkName: (name) => checkRoleName(name),
  find: (store, name) => {
    const role = store.getRole(name);
    return role && { name: role.roleName, policies: role.policies };
  },
  put: (store, name, policyName, document) => store.putRolePolicy(name, policyName, document),
  get: (store, name, policyName) => store.getRolePolicy(name, policyName),
  remove: (store, name, policyName) => store.deleteRolePolicy(name, policyName),
};

const USER_OWNER: PolicyOwner = {
  noun: 'User',
  arn: (ctx, name) => userArn(ctx, name),
  checkName: (name) => checkUserName(name),
  find: (store, name) => {
    const user = store.getUser(name);
    return user && { name: user.userName, policies: user.policies };
  },
  put: (store, name, policyName, document) => store.putUserPolicy(name, policyName, document),
  get: (store, name, policyName) => store.getUserPolicy(name, policyName),
  remove: (store, name, policyName) => store.deleteUserPolicy(name, policyName),
};

/** Put/Get/Delete/List{Role,User}Policy: one implementation for both owners. */
function inlinePolicyHandlers(owner: PolicyOwner): Record<string, Handler> {
  const { noun } = owner;
  const nameParam = `${noun}Name`;
  return {
    [`Put${noun}Policy`](ctx) {
      const name = ctx.params.target(nameParam);
      authorize(ctx, `iam:Put${noun}Policy`, owner.arn(ctx, name));
      const policyName = ctx.params.required('PolicyName');
      const document = ctx.params.required('PolicyDocument');
      ctx.params.check(owner.checkName(name));
      ctx.params.done();
      owner.put(ctx.store, name, policyName, document);
      return undefined;
    },
    [`Get${noun}Policy`](ctx) {
      const name = ctx.params.target(nameParam);
      authorize(ctx, `iam:Get${noun}Policy`, owner.arn(ctx, name));
      const policyName = ctx.params.required('PolicyName');
      ctx.params.check(owner.checkName(name), checkPolicyName(policyName));
      ctx.params.done();
      const document = owner.get(ctx.store, name, policyName);
      const found = owner.find(ctx.store, name)!;
      return { [nameParam]: found.name, PolicyName: policyName, PolicyDocument: encodePolicy(document) };
    },
    [`Delete${noun}Policy`](ctx) {
      const name = ctx.params.target(nameParam);
      authorize(ctx, `iam:Delete${noun}Policy`, owner.arn(ctx, name));
      const policyName = ctx.params.required('PolicyName');
      ctx.params.check(owner.checkName(name), checkPolicyName(policyName));
      ctx.params.done();
      owner.remove(ctx.store, name, policyName);
      return undefined;
    },
    [`List${noun}Policies`](ctx) {
      const name = ctx.params.target(nameParam);
      authorize(ctx, `iam:List${noun}Policies`, owner.arn(ctx, name));
      ctx.params.check(owner.checkName(name));
      const found = owner.find(ctx.store, name);
      if (!found) {
        ctx.params.done();
        throw new IamError('NoSuchEntity', `The ${noun.toLowerCase()} with name ${name} cannot be found.`);
      }
      const page = paginate(ctx.params, Object.keys(found.policies).sort(), (policy) => policy);
      return { PolicyNames: members(page.items), ...paged(page) };
    },
  };
}

const HANDLERS: Record<string, Handler> = {
  ...inlinePolicyHandlers(ROLE_OWNER),
  ...inlinePolicyHandlers(USER_OWNER),
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

/** The IAM actions this API answers, e.g. for a router or a README table. */
export const IAM_ACTIONS: readonly string[] = Object.freeze(Object.keys(HANDLERS));

interface WireError {
  status: number;
  code: string;
  message: string;
  type: 'Sender' | 'Receiver';
}

function toWireError(error: unknown): WireError {
  if (error instanceof IamError)
    return { status: error.status, code: error.code, message: error.message, type: 'Sender' };
  if (error instanceof Denied) {
    // authorize's own code and status (e.g. ExpiredToken) when it threw a ProtocolError, else AccessDenied.
    const cause = error.error instanceof ProtocolError ? error.error : undefined;
    const code = cause && cause.code !== '' ? cause.code : 'AccessDenied';
    const status = cause?.status ?? 403;
    const message =
      error.error instanceof Error && error.error.message !== ''
        ? error.error.message
        : `User is not authorized to perform: ${error.action} on resource: ${error.resource}`;
    return { status, code, message, type: 'Sender' };
  }
  return {
    status: 500,
    code: 'ServiceFailure',
    message: 'The request processing has failed because of an unknown error, exception or failure.',
    type: 'Receiver',
  };
}

/**
 * Answers one IAM Query API request. `params` is the parsed form body (Action, Version and the
 * action's parameters). Never throws: every failure becomes IAM's `<ErrorResponse>`.
 *
 * @example
 * const { status, body } = handleIamAction(form, { store, authorize, requestId });
 * res.writeHead(status, { 'content-type': 'text/xml' }).end(body);
 */
export function handleIamAction(params: URLSearchParams, deps: IamApiDeps): IamApiResponse {
  const action = params.get('Action');
  const version = params.get('Version');
  try {
    if (action === null || action === '') {
      return error(deps, { status: 400, code: 'MissingAction', message: 'Missing Action', type: 'Sender' });
    }
    const handler = Object.hasOwn(HANDLERS, action) ? HANDLERS[action] : undefined;
    if (!handler || (version !== null && version !== IAM_API_VERSION)) {
      return error(deps, {
        status: 400,
        code: 'InvalidAction',
        message: `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`,
        type: 'Sender',
      });
    }
    const ctx: Context = {
      params: new QueryParams(params),
      store: deps.store,
      authorize: deps.authorize,
      ...(deps.caller ? { caller: deps.caller } : {}),
    };
    const result = handler(ctx);
    return { status: 200, body: renderIamResponse(action, result, deps.requestId) };
  } catch (caught) {
    const wire = toWireError(caught);
    if (wire.status === 500) deps.onError?.(caught);
    return error(deps, wire);
  }
}

function error(deps: IamApiDeps, wire: WireError): IamApiResponse {
  return { status: wire.status, body: renderIamError(wire, deps.requestId) };
}
