/**
 * Applying a seed (the IAM config file's users, roles and managed policies) to the store:
 * the file wins for what it declares, entities it does not name are kept. Every failure
 * names the entity it is about.
 */
import { checkPolicyDocument } from './policy-document.ts';
import { frozen, type IamState } from './state.ts';
import { IamError, type IamRole, type IamSeed, type IamUser } from './types.ts';
import {
  checkDescription,
  checkDocumentText,
  checkMaxSessionDuration,
  checkPath,
  checkPolicyName,
  LIMITS,
  nameKey,
  policySize,
  throwIfFailed,
  validateTags,
} from './validate.ts';

/** The store's single-entity operations a seed is applied with (validate first, then mutate). */
export interface IamEntityOps {
  createUser(input: { userName: string }): IamUser;
  putUserPolicy(userName: string, policyName: string, document: string): void;
  createRole(input: { roleName: string; assumeRolePolicyDocument: string; path?: string }): IamRole;
  updateAssumeRolePolicy(roleName: string, document: string): void;
  putRolePolicy(roleName: string, policyName: string, document: string): void;
}

/** Applies `seed` inside the caller's commit: managed policies, then users, then roles. */
export function applySeed(state: IamState, ops: IamEntityOps, clock: () => number, seed: IamSeed): void {
  for (const p of seed.managedPolicies ?? []) {
    withContext(`managed policy ${p.policyName}`, () => seedManagedPolicy(state, p));
  }
  for (const u of seed.users ?? []) withContext(`user ${u.userName}`, () => seedUser(state, ops, clock, u));
  for (const r of seed.roles ?? []) withContext(`role ${r.roleName}`, () => seedRole(state, ops, r));
}

function withContext<T>(context: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof IamError) throw new IamError(error.code, `${context}: ${error.message}`);
    throw error;
  }
}

function seedUser(
  state: IamState,
  ops: IamEntityOps,
  clock: () => number,
  entry: NonNullable<IamSeed['users']>[number],
): void {
  let user = state.users.get(nameKey(entry.userName)) ?? ops.createUser({ userName: entry.userName });
  const path = entry.path ?? user.path;
  throwIfFailed([checkPath(path)]);
  const tags = entry.tags ? { ...entry.tags } : user.tags;
  validateTags(tags);
  user = state.makeUser({ ...user, path, tags });
  state.setUser(user);
  for (const [policyName, document] of Object.entries(entry.policies ?? {})) {
    ops.putUserPolicy(user.userName, policyName, document);
  }
  for (const given of entry.accessKeys ?? []) {
    const existing = state.accessKeys.get(given.accessKeyId);
    const same =
      existing &&
      nameKey(existing.userName) === nameKey(user.userName) &&
      existing.secretAccessKey === given.secretAccessKey &&
      existing.status === 'Active';
    if (!same) {
      const createDate = existing?.createDate ?? clock();
      state.setKey(frozen({ ...given, userName: user.userName, status: 'Active' as const, createDate }));
    }
  }
  const count = state.keysOfUser(user.userName).length;
  if (count > LIMITS.accessKeysPerUser) {
    throw new IamError(
      'LimitExceeded',
      `user ${user.userName} would have ${count} access keys: cannot exceed quota for AccessKeysPerUser: ${LIMITS.accessKeysPerUser}; delete one with DeleteAccessKey or declare fewer`,
    );
  }
}

function seedRole(state: IamState, ops: IamEntityOps, entry: NonNullable<IamSeed['roles']>[number]): void {
  const existing = state.roles.get(nameKey(entry.roleName));
  let role =
    existing ??
    ops.createRole({
      roleName: entry.roleName,
      assumeRolePolicyDocument: entry.assumeRolePolicyDocument,
      ...(entry.path === undefined ? {} : { path: entry.path }),
    });
  const path = entry.path ?? role.path;
  const maxSessionDuration = entry.maxSessionDuration ?? role.maxSessionDuration;
  const description = entry.description ?? role.description;
  const tags = entry.tags ? { ...entry.tags } : role.tags;
  throwIfFailed([
    checkPath(path),
    checkMaxSessionDuration(maxSessionDuration),
    description === undefined ? undefined : checkDescription(description),
  ]);
  validateTags(tags);
  role = state.makeRole({
    ...role,
    path,
    maxSessionDuration,
    tags,
    ...(description === undefined ? {} : { description }),
  });
  state.setRole(role);
  if (existing) ops.updateAssumeRolePolicy(role.roleName, entry.assumeRolePolicyDocument);
  for (const [policyName, document] of Object.entries(entry.policies ?? {})) {
    ops.putRolePolicy(role.roleName, policyName, document);
  }
}

function seedManagedPolicy(state: IamState, entry: NonNullable<IamSeed['managedPolicies']>[number]): void {
  const path = entry.path ?? '/';
  throwIfFailed([checkPolicyName(entry.policyName), checkPath(path)]);
  throwIfFailed([checkDocumentText(entry.document, 'policyDocument')]);
  checkPolicyDocument(entry.document, 'identity');
  if (policySize(entry.document) > LIMITS.managedPolicy) {
    throw new IamError('LimitExceeded', `Cannot exceed quota for PolicySize: ${LIMITS.managedPolicy}`);
  }
  const arn = state.policyArn(path, entry.policyName);
  state.dirty = true;
  state.managed.set(arn, frozen({ policyName: entry.policyName, path, arn, document: entry.document }));
}
