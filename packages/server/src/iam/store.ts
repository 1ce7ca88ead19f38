/**
 * The local IAM store: one account's users, access keys, roles and managed policies, in
 * memory for O(1) lookups (access keys by id on every request) and persisted whole to
 * `<dataDir>/iam.json` after each change (state.ts, file.ts). Entities handed out are frozen
 * snapshots: a change replaces them, so callers may keep them without copying.
 */
import { mkdirSync } from 'node:fs';
import { checkPolicyDocument } from './policy-document.ts';
import { applySeed } from './seed.ts';
import { byName, frozen, IamState } from './state.ts';
import {
  type IamAccessKey,
  IamError,
  type IamRole,
  type IamSeed,
  type IamStore,
  type IamUser,
} from './types.ts';
import {
  checkDescription,
  checkDocumentText,
  checkMaxSessionDuration,
  checkPath,
  checkPolicyName,
  checkRoleName,
  checkUserName,
  LIMITS,
  nameKey,
  newAccessKeyId,
  newSecretAccessKey,
  newUniqueId,
  policySize,
  throwIfFailed,
  validateTags,
} from './validate.ts';

export interface IamStoreOptions {
  /** Directory holding `iam.json` (created if missing). */
  dataDir: string;
  /** 12-digit account id used in every ARN. */
  accountId: string;
  /** Milliseconds since the epoch, for creation dates. @default Date.now */
  clock?: () => number;
  /** Applied once at open (see {@link IamStore.applySeed}), e.g. from the IAM config file. */
  seed?: IamSeed;
}

/** Opens (or creates) the store in `dataDir`; throws if `iam.json` exists but is unreadable. */
export function openIamStore(options: IamStoreOptions): IamStore {
  const { dataDir, accountId } = options;
  if (typeof dataDir !== 'string' || dataDir === '')
    throw new TypeError('openIamStore: dataDir must be a path');
  if (typeof accountId !== 'string' || !/^\d{12}$/.test(accountId)) {
    throw new TypeError('openIamStore: accountId must be 12 digits');
  }
  const clock = options.clock ?? Date.now;
  mkdirSync(dataDir, { recursive: true });
  const state = new IamState(dataDir, accountId);

  function checkInlineSize(kind: 'user' | 'role', name: string, policies: Record<string, string>): void {
    const limit = kind === 'user' ? LIMITS.userInlinePolicies : LIMITS.roleInlinePolicies;
    let total = 0;
    for (const document of Object.values(policies)) total += policySize(document);
    if (total > limit)
      throw new IamError(
        'LimitExceeded',
        `Maximum policy size of ${limit} bytes exceeded for ${kind} ${name}`,
      );
  }

  function checkTrustSize(document: string): void {
    if (policySize(document) > LIMITS.trustPolicy) {
      throw new IamError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${LIMITS.trustPolicy}`);
    }
  }

  // --- single-entity operations (validate first, then mutate) ---

  function createUser(input: { userName: string; path?: string; tags?: Record<string, string> }): IamUser {
    const path = input.path ?? '/';
    const tags = { ...(input.tags ?? {}) };
    throwIfFailed([checkUserName(input.userName), checkPath(path)]);
    validateTags(tags);
    if (state.users.has(nameKey(input.userName))) {
      throw new IamError('EntityAlreadyExists', `User with name ${input.userName} already exists.`);
    }
    if (state.users.size >= LIMITS.usersPerAccount) {
      throw new IamError(
        'LimitExceeded',
        `Cannot exceed quota for UsersPerAccount: ${LIMITS.usersPerAccount}`,
      );
    }
    const user = state.makeUser({
      userName: input.userName,
      userId: newUniqueId('AIDA'),
      path,
      createDate: clock(),
      policies: {},
      tags,
    });
    state.setUser(user);
    return user;
  }

  function putUserPolicy(userName: string, policyName: string, document: string): void {
    throwIfFailed([
      checkUserName(userName),
      checkPolicyName(policyName),
      checkDocumentText(document, 'policyDocument'),
    ]);
    const user = state.requireUser(userName);
    checkPolicyDocument(document, 'identity');
    const policies = { ...user.policies, [policyName]: document };
    checkInlineSize('user', user.userName, policies);
    state.setUser(state.makeUser({ ...user, policies }));
  }

  function createAccessKeyFor(
    user: IamUser,
    given?: { accessKeyId: string; secretAccessKey: string },
  ): IamAccessKey {
    let accessKeyId = given?.accessKeyId ?? newAccessKeyId();
    while (!given && state.accessKeys.has(accessKeyId)) accessKeyId = newAccessKeyId();
    const key: IamAccessKey = frozen({
      accessKeyId,
      secretAccessKey: given?.secretAccessKey ?? newSecretAccessKey(),
      userName: user.userName,
      status: 'Active',
      createDate: clock(),
    });
    state.setKey(key);
    return key;
  }

  function createRole(input: Parameters<IamStore['createRole']>[0]): IamRole {
    const path = input.path ?? '/';
    const maxSessionDuration = input.maxSessionDuration ?? LIMITS.minSessionDuration;
    const tags = { ...(input.tags ?? {}) };
    throwIfFailed([
      checkRoleName(input.roleName),
      checkPath(path),
      input.description === undefined ? undefined : checkDescription(input.description),
      checkMaxSessionDuration(maxSessionDuration),
      checkDocumentText(input.assumeRolePolicyDocument, 'assumeRolePolicyDocument'),
    ]);
    validateTags(tags);
    checkPolicyDocument(input.assumeRolePolicyDocument, 'trust');
    checkTrustSize(input.assumeRolePolicyDocument);
    if (state.roles.has(nameKey(input.roleName))) {
      throw new IamError('EntityAlreadyExists', `Role with name ${input.roleName} already exists.`);
    }
    if (state.roles.size >= LIMITS.rolesPerAccount) {
      throw new IamError(
        'LimitExceeded',
        `Cannot exceed quota for RolesPerAccount: ${LIMITS.rolesPerAccount}`,
      );
    }
    const role = state.makeRole({
      roleName: input.roleName,
      roleId: newUniqueId('AROA'),
      path,
      createDate: clock(),
      ...(input.description === undefined ? {} : { description: input.description }),
      assumeRolePolicyDocument: input.assumeRolePolicyDocument,
      maxSessionDuration,
      policies: {},
      tags,
    });
    state.setRole(role);
    return role;
  }

  function updateAssumeRolePolicy(roleName: string, document: string): void {
    throwIfFailed([checkRoleName(roleName), checkDocumentText(document, 'policyDocument')]);
    const role = state.requireRole(roleName);
    checkPolicyDocument(document, 'trust');
    checkTrustSize(document);
    state.setRole(state.makeRole({ ...role, assumeRolePolicyDocument: document }));
  }

  function putRolePolicy(roleName: string, policyName: string, document: string): void {
    throwIfFailed([
      checkRoleName(roleName),
      checkPolicyName(policyName),
      checkDocumentText(document, 'policyDocument'),
    ]);
    const role = state.requireRole(roleName);
    checkPolicyDocument(document, 'identity');
    const policies = { ...role.policies, [policyName]: document };
    checkInlineSize('role', role.roleName, policies);
    state.setRole(state.makeRole({ ...role, policies }));
  }

  const store: IamStore = {
    accountId,

    getUser: (userName) => state.users.get(nameKey(userName)),
    createUser: (input) => state.commit(() => createUser(input)),
    deleteUser: (userName) =>
      state.commit(() => {
        const user = state.requireUser(userName);
        if (state.keysOfUser(user.userName).length > 0) {
          throw new IamError('DeleteConflict', 'Cannot delete entity, must delete access keys first.');
        }
        if (Object.keys(user.policies).length > 0) {
          throw new IamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
        }
        state.dirty = true;
        state.users.delete(nameKey(user.userName));
      }),
    listUsers: () =>
      [...state.users.values()].sort((a, b) => byName(nameKey(a.userName), nameKey(b.userName))),
    putUserPolicy: (userName, policyName, document) =>
      state.commit(() => putUserPolicy(userName, policyName, document)),
    getUserPolicy: (userName, policyName) => {
      const document = state.requireUser(userName).policies[policyName];
      if (document === undefined) {
        throw new IamError('NoSuchEntity', `The user policy with name ${policyName} cannot be found.`);
      }
      return document;
    },
    deleteUserPolicy: (userName, policyName) =>
      state.commit(() => {
        const user = state.requireUser(userName);
        if (!Object.hasOwn(user.policies, policyName)) {
          throw new IamError('NoSuchEntity', `The user policy with name ${policyName} cannot be found.`);
        }
        const { [policyName]: _, ...policies } = user.policies;
        state.setUser(state.makeUser({ ...user, policies }));
      }),

    createAccessKey: (userName) =>
      state.commit(() => {
        const user = state.requireUser(userName);
        if (state.keysOfUser(user.userName).length >= LIMITS.accessKeysPerUser) {
          throw new IamError(
            'LimitExceeded',
            `Cannot exceed quota for AccessKeysPerUser: ${LIMITS.accessKeysPerUser}`,
          );
        }
        return createAccessKeyFor(user);
      }),
    deleteAccessKey: (userName, accessKeyId) =>
      state.commit(() => {
        const user = state.requireUser(userName);
        const key = state.accessKeys.get(accessKeyId);
        if (!key || nameKey(key.userName) !== nameKey(user.userName)) {
          throw new IamError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
        }
        state.dirty = true;
        state.accessKeys.delete(accessKeyId);
      }),
    listAccessKeys: (userName) => state.keysOfUser(state.requireUser(userName).userName),
    findAccessKey: (accessKeyId) => {
      const key = state.accessKeys.get(accessKeyId);
      if (!key) return undefined;
      const user = state.users.get(nameKey(key.userName));
      return user ? { key, user } : undefined;
    },

    getRole: (roleName) => state.roles.get(nameKey(roleName)),
    getRoleByArn: (arn) => state.rolesByArn.get(arn),
    createRole: (input) => state.commit(() => createRole(input)),
    deleteRole: (roleName) =>
      state.commit(() => {
        const role = state.requireRole(roleName);
        if (Object.keys(role.policies).length > 0) {
          throw new IamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
        }
        state.dirty = true;
        state.roles.delete(nameKey(role.roleName));
        state.rolesByArn.delete(role.arn);
      }),
    listRoles: () =>
      [...state.roles.values()].sort((a, b) => byName(nameKey(a.roleName), nameKey(b.roleName))),
    updateAssumeRolePolicy: (roleName, document) =>
      state.commit(() => updateAssumeRolePolicy(roleName, document)),
    putRolePolicy: (roleName, policyName, document) =>
      state.commit(() => putRolePolicy(roleName, policyName, document)),
    getRolePolicy: (roleName, policyName) => {
      const document = state.requireRole(roleName).policies[policyName];
      if (document === undefined) {
        throw new IamError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
      }
      return document;
    },
    deleteRolePolicy: (roleName, policyName) =>
      state.commit(() => {
        const role = state.requireRole(roleName);
        if (!Object.hasOwn(role.policies, policyName)) {
          throw new IamError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
        }
        const { [policyName]: _, ...policies } = role.policies;
        state.setRole(state.makeRole({ ...role, policies }));
      }),

    getManagedPolicy: (arn) => state.managed.get(arn),
    listManagedPolicies: () => [...state.managed.values()].sort((a, b) => byName(a.arn, b.arn)),

    applySeed: (seed: IamSeed) =>
      state.commit(() =>
        applySeed(
          state,
          { createUser, putUserPolicy, createRole, updateAssumeRolePolicy, putRolePolicy },
          clock,
          seed,
        ),
      ),
  };

  if (options.seed) store.applySeed(options.seed);
  return store;
}
