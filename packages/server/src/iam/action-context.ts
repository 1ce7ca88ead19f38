/**
 * What every IAM action handler shares: the request context, authorizing first (a refusal
 * becomes Denied, rendered by api.ts), the target ARNs, the XML shapes of entities and the
 * parameter helpers.
 */
import type { QueryParams } from './params.ts';
import { type IamAccessKey, IamError, type IamRole, type IamStore, type IamUser } from './types.ts';
import { assertUniqueTagKeys, checkString, checkTags, isValidPath, LIMITS } from './validate.ts';
import { encodePolicy, iamDate, members, type XmlNode } from './xml.ts';

export interface Context {
  params: QueryParams;
  store: IamStore;
  authorize: (action: string, resourceArn: string) => void;
  caller?: { userName?: string };
}

export type Handler = (ctx: Context) => XmlNode | undefined;

/** Marks a failure of `authorize`, to be rendered as AccessDenied (or the code it carries). */
export class Denied {
  readonly error: unknown;
  readonly action: string;
  readonly resource: string;
  constructor(error: unknown, action: string, resource: string) {
    this.error = error;
    this.action = action;
    this.resource = resource;
  }
}

export function authorize(ctx: Context, action: string, resource: string): void {
  try {
    ctx.authorize(action, resource);
  } catch (error) {
    throw new Denied(error, action, resource);
  }
}

// --- ARNs of targets (existing ones carry their real path) ---

export const arnOf = (
  store: IamStore,
  type: 'user' | 'role',
  path: string | undefined,
  name: string,
): string => {
  const validPath = path !== undefined && isValidPath(path) ? path : '/';
  return `arn:aws:iam::${store.accountId}:${type}${validPath}${name}`;
};
export const userArn = (ctx: Context, name: string): string =>
  ctx.store.getUser(name)?.arn ?? arnOf(ctx.store, 'user', undefined, name);
export const roleArn = (ctx: Context, name: string): string =>
  ctx.store.getRole(name)?.arn ?? arnOf(ctx.store, 'role', undefined, name);

// --- XML shapes ---

export const tagList = (tags: Record<string, string>): XmlNode | undefined => {
  const entries = Object.entries(tags);
  return entries.length === 0 ? undefined : members(entries.map(([Key, Value]) => ({ Key, Value })));
};

export function roleXml(role: IamRole, detail: 'full' | 'list'): XmlNode {
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

export function userXml(user: IamUser, detail: 'full' | 'list'): XmlNode {
  return {
    Path: user.path,
    UserName: user.userName,
    UserId: user.userId,
    Arn: user.arn,
    CreateDate: iamDate(user.createDate),
    Tags: detail === 'full' ? tagList(user.tags) : undefined,
  };
}

export const keyMetadataXml = (key: IamAccessKey): XmlNode => ({
  UserName: key.userName,
  AccessKeyId: key.accessKeyId,
  Status: key.status,
  CreateDate: iamDate(key.createDate),
});

export const paged = (page: { marker?: string }): XmlNode => ({
  IsTruncated: page.marker !== undefined,
  Marker: page.marker,
});

// --- parameter helpers ---

/** `Tags.member.N.*`, constraint failures collected into `params`; call tagRecord after done(). */
export function tagsParam(params: QueryParams): { key: string; value: string }[] {
  const list = params.tags();
  params.check(...checkTags(list));
  return list;
}

export function tagRecord(list: { key: string; value: string }[]): Record<string, string> | undefined {
  if (list.length === 0) return undefined;
  assertUniqueTagKeys(list);
  return Object.fromEntries(list.map(({ key, value }) => [key, value]));
}

export function pathPrefixParam(params: QueryParams): string {
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
export function userNameOrCaller(ctx: Context): string {
  const name = ctx.params.optional('UserName') ?? ctx.caller?.userName;
  if (name === undefined) {
    throw new IamError('ValidationError', 'Must specify userName when calling with non-User credentials');
  }
  return name;
}
