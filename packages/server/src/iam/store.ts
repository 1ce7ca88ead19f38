/**
 * The local IAM store: one account's users, access keys, roles and managed policies, in
 * memory for O(1) lookups (access keys by id on every request) and persisted whole to
 * `<dataDir>/iam.json` after each change (see file.ts). Entities handed out are frozen
 * snapshots: a change replaces them, so callers may keep them without copying.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  IAM_FILE,
  type IamFile,
  type IamFileRole,
  type IamFileUser,
  readIamFile,
  removeStaleTempFiles,
  serializeIamFile,
  writeFileAtomic,
} from './file.ts';
import { checkPolicyDocument, type PolicyDocumentKind } from './policy-document.ts';
import {
  type IamAccessKey,
  IamError,
  type IamManagedPolicy,
  type IamRole,
  type IamSeed,
  type IamStore,
  type IamUser,
} from './types.ts';
import {
  assertUniqueTagKeys,
  checkDescription,
  checkDocumentText,
  checkMaxSessionDuration,
  checkPath,
  checkPolicyName,
  checkRoleName,
  checkTags,
  checkUserName,
  LIMITS,
  nameKey,
  newAccessKeyId,
  newSecretAccessKey,
  newUniqueId,
  policySize,
  throwIfFailed,
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

const noSuchUser = (name: string) =>
  new IamError('NoSuchEntity', `The user with name ${name} cannot be found.`);
const noSuchRole = (name: string) =>
  new IamError('NoSuchEntity', `The role with name ${name} cannot be found.`);

const frozen = <T extends object>(value: T): T => Object.freeze(value);
const tagsToList = (tags: Record<string, string>) =>
  Object.entries(tags).map(([key, value]) => ({ key, value }));
const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedRecord = (record: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => byName(a, b)));

function validateTags(tags: Record<string, string>): void {
  const list = tagsToList(tags);
  throwIfFailed(checkTags(list));
  assertUniqueTagKeys(list);
}

function validateDocument(text: string, field: string, kind: PolicyDocumentKind): void {
  throwIfFailed([checkDocumentText(text, field)]);
  checkPolicyDocument(text, kind);
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
  const filePath = join(dataDir, IAM_FILE);
  mkdirSync(dataDir, { recursive: true });
  removeStaleTempFiles(filePath);

  const userArn = (path: string, name: string) => `arn:aws:iam::${accountId}:user${path}${name}`;
  const roleArn = (path: string, name: string) => `arn:aws:iam::${accountId}:role${path}${name}`;
  const policyArn = (path: string, name: string) => `arn:aws:iam::${accountId}:policy${path}${name}`;

  // State. Keys of users/roles are nameKey(name); access keys by id; roles and managed policies by ARN.
  let users = new Map<string, IamUser>();
  let roles = new Map<string, IamRole>();
  let rolesByArn = new Map<string, IamRole>();
  let accessKeys = new Map<string, IamAccessKey>();
  let managed = new Map<string, IamManagedPolicy>();
  let lastText: string | undefined;
  let dirty = false;

  const makeUser = (u: Omit<IamUser, 'arn'>): IamUser =>
    frozen({ ...u, arn: userArn(u.path, u.userName), policies: frozen(u.policies), tags: frozen(u.tags) });
  const makeRole = (r: Omit<IamRole, 'arn'>): IamRole =>
    frozen({ ...r, arn: roleArn(r.path, r.roleName), policies: frozen(r.policies), tags: frozen(r.tags) });

  function setUser(user: IamUser): void {
    dirty = true;
    users.set(nameKey(user.userName), user);
  }
  function setRole(role: IamRole): void {
    dirty = true;
    const previous = roles.get(nameKey(role.roleName));
    if (previous) rolesByArn.delete(previous.arn);
    roles.set(nameKey(role.roleName), role);
    rolesByArn.set(role.arn, role);
  }
  function setKey(key: IamAccessKey): void {
    dirty = true;
    accessKeys.set(key.accessKeyId, key);
  }

  function load(file: IamFile | undefined): void {
    users = new Map();
    roles = new Map();
    rolesByArn = new Map();
    accessKeys = new Map();
    managed = new Map();
    for (const { accessKeys: keys, ...u } of file?.users ?? []) {
      const user = makeUser(u);
      users.set(nameKey(user.userName), user);
      for (const k of keys) accessKeys.set(k.accessKeyId, frozen({ ...k, userName: user.userName }));
    }
    for (const { description, ...r } of file?.roles ?? []) {
      const role = makeRole({ ...r, ...(description === undefined ? {} : { description }) });
      roles.set(nameKey(role.roleName), role);
      rolesByArn.set(role.arn, role);
    }
    for (const p of file?.managedPolicies ?? []) {
      const policy = frozen({ ...p, arn: policyArn(p.path, p.policyName) });
      managed.set(policy.arn, policy);
    }
  }

  function serialize(): string {
    const keysOf = new Map<string, IamFileUser['accessKeys']>();
    for (const k of [...accessKeys.values()].sort((a, b) => byName(a.accessKeyId, b.accessKeyId))) {
      const list = keysOf.get(nameKey(k.userName)) ?? [];
      list.push({
        accessKeyId: k.accessKeyId,
        secretAccessKey: k.secretAccessKey,
        status: k.status,
        createDate: k.createDate,
      });
      keysOf.set(nameKey(k.userName), list);
    }
    const sortedKeys = <T>(map: Map<string, T>) => [...map.keys()].sort(byName).map((key) => map.get(key)!);
    // Fields in a fixed order, so equal states serialize to equal text (seeding compares them).
    const fileUsers: IamFileUser[] = sortedKeys(users).map((u) => ({
      userName: u.userName,
      userId: u.userId,
      path: u.path,
      createDate: u.createDate,
      policies: sortedRecord(u.policies),
      tags: u.tags,
      accessKeys: keysOf.get(nameKey(u.userName)) ?? [],
    }));
    const fileRoles: IamFileRole[] = sortedKeys(roles).map((r) => ({
      roleName: r.roleName,
      roleId: r.roleId,
      path: r.path,
      createDate: r.createDate,
      ...(r.description === undefined ? {} : { description: r.description }),
      assumeRolePolicyDocument: r.assumeRolePolicyDocument,
      maxSessionDuration: r.maxSessionDuration,
      policies: sortedRecord(r.policies),
      tags: r.tags,
    }));
    const fileManaged = sortedKeys(managed).map((p) => ({
      policyName: p.policyName,
      path: p.path,
      document: p.document,
    }));
    return serializeIamFile({ accountId, users: fileUsers, roles: fileRoles, managedPolicies: fileManaged });
  }

  /**
   * Runs a change and persists it. Any failure, whether the change's own checks or the
   * write, restores the last committed state, so memory never holds what the file does not.
   */
  function commit<T>(change: () => T): T {
    dirty = false;
    try {
      const result = change();
      if (dirty) {
        const text = serialize();
        if (text !== lastText) {
          writeFileAtomic(filePath, text);
          lastText = text;
        }
      }
      return result;
    } catch (error) {
      if (dirty) load(lastText === undefined ? undefined : (JSON.parse(lastText) as IamFile));
      throw error;
    } finally {
      dirty = false;
    }
  }

  const requireUser = (name: string): IamUser => {
    const user = users.get(nameKey(name));
    if (!user) throw noSuchUser(name);
    return user;
  };
  const requireRole = (name: string): IamRole => {
    const role = roles.get(nameKey(name));
    if (!role) throw noSuchRole(name);
    return role;
  };
  const keysOfUser = (name: string): IamAccessKey[] => {
    const key = nameKey(name);
    return [...accessKeys.values()]
      .filter((k) => nameKey(k.userName) === key)
      .sort((a, b) => a.createDate - b.createDate || byName(a.accessKeyId, b.accessKeyId));
  };

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
    if (users.has(nameKey(input.userName))) {
      throw new IamError('EntityAlreadyExists', `User with name ${input.userName} already exists.`);
    }
    if (users.size >= LIMITS.usersPerAccount) {
      throw new IamError(
        'LimitExceeded',
        `Cannot exceed quota for UsersPerAccount: ${LIMITS.usersPerAccount}`,
      );
    }
    const user = makeUser({
      userName: input.userName,
      userId: newUniqueId('AIDA'),
      path,
      createDate: clock(),
      policies: {},
      tags,
    });
    setUser(user);
    return user;
  }

  function putUserPolicy(userName: string, policyName: string, document: string): void {
    throwIfFailed([
      checkUserName(userName),
      checkPolicyName(policyName),
      checkDocumentText(document, 'policyDocument'),
    ]);
    const user = requireUser(userName);
    checkPolicyDocument(document, 'identity');
    const policies = { ...user.policies, [policyName]: document };
    checkInlineSize('user', user.userName, policies);
    setUser(makeUser({ ...user, policies }));
  }

  function createAccessKeyFor(
    user: IamUser,
    given?: { accessKeyId: string; secretAccessKey: string },
  ): IamAccessKey {
    let accessKeyId = given?.accessKeyId ?? newAccessKeyId();
    while (!given && accessKeys.has(accessKeyId)) accessKeyId = newAccessKeyId();
    const key: IamAccessKey = frozen({
      accessKeyId,
      secretAccessKey: given?.secretAccessKey ?? newSecretAccessKey(),
      userName: user.userName,
      status: 'Active',
      createDate: clock(),
    });
    setKey(key);
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
    if (roles.has(nameKey(input.roleName))) {
      throw new IamError('EntityAlreadyExists', `Role with name ${input.roleName} already exists.`);
    }
    if (roles.size >= LIMITS.rolesPerAccount) {
      throw new IamError(
        'LimitExceeded',
        `Cannot exceed quota for RolesPerAccount: ${LIMITS.rolesPerAccount}`,
      );
    }
    const role = makeRole({
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
    setRole(role);
    return role;
  }

  function updateAssumeRolePolicy(roleName: string, document: string): void {
    throwIfFailed([checkRoleName(roleName), checkDocumentText(document, 'policyDocument')]);
    const role = requireRole(roleName);
    checkPolicyDocument(document, 'trust');
    checkTrustSize(document);
    setRole(makeRole({ ...role, assumeRolePolicyDocument: document }));
  }

  function putRolePolicy(roleName: string, policyName: string, document: string): void {
    throwIfFailed([
      checkRoleName(roleName),
      checkPolicyName(policyName),
      checkDocumentText(document, 'policyDocument'),
    ]);
    const role = requireRole(roleName);
    checkPolicyDocument(document, 'identity');
    const policies = { ...role.policies, [policyName]: document };
    checkInlineSize('role', role.roleName, policies);
    setRole(makeRole({ ...role, policies }));
  }

  // --- seeding: the file wins for what it declares ---

  function seedUser(entry: NonNullable<IamSeed['users']>[number]): void {
    let user = users.get(nameKey(entry.userName)) ?? createUser({ userName: entry.userName });
    const path = entry.path ?? user.path;
    throwIfFailed([checkPath(path)]);
    const tags = entry.tags ? { ...entry.tags } : user.tags;
    validateTags(tags);
    user = makeUser({ ...user, path, tags });
    setUser(user);
    for (const [policyName, document] of Object.entries(entry.policies ?? {})) {
      putUserPolicy(user.userName, policyName, document);
    }
    for (const given of entry.accessKeys ?? []) {
      const existing = accessKeys.get(given.accessKeyId);
      const same =
        existing &&
        nameKey(existing.userName) === nameKey(user.userName) &&
        existing.secretAccessKey === given.secretAccessKey &&
        existing.status === 'Active';
      if (!same) {
        const createDate = existing?.createDate ?? clock();
        setKey(frozen({ ...given, userName: user.userName, status: 'Active' as const, createDate }));
      }
    }
    const count = keysOfUser(user.userName).length;
    if (count > LIMITS.accessKeysPerUser) {
      throw new IamError(
        'LimitExceeded',
        `user ${user.userName} would have ${count} access keys: cannot exceed quota for AccessKeysPerUser: ${LIMITS.accessKeysPerUser}; delete one with DeleteAccessKey or declare fewer`,
      );
    }
  }

  function seedRole(entry: NonNullable<IamSeed['roles']>[number]): void {
    const existing = roles.get(nameKey(entry.roleName));
    let role =
      existing ??
      createRole({
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
    role = makeRole({
      ...role,
      path,
      maxSessionDuration,
      tags,
      ...(description === undefined ? {} : { description }),
    });
    setRole(role);
    if (existing) updateAssumeRolePolicy(role.roleName, entry.assumeRolePolicyDocument);
    for (const [policyName, document] of Object.entries(entry.policies ?? {})) {
      putRolePolicy(role.roleName, policyName, document);
    }
  }

  function seedManagedPolicy(entry: NonNullable<IamSeed['managedPolicies']>[number]): void {
    const path = entry.path ?? '/';
    throwIfFailed([checkPolicyName(entry.policyName), checkPath(path)]);
    validateDocument(entry.document, 'policyDocument', 'identity');
    if (policySize(entry.document) > LIMITS.managedPolicy) {
      throw new IamError('LimitExceeded', `Cannot exceed quota for PolicySize: ${LIMITS.managedPolicy}`);
    }
    const arn = policyArn(path, entry.policyName);
    dirty = true;
    managed.set(arn, frozen({ policyName: entry.policyName, path, arn, document: entry.document }));
  }

  function withContext<T>(context: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof IamError) throw new IamError(error.code, `${context}: ${error.message}`);
      throw error;
    }
  }

  // --- open ---

  const stored = readIamFile(filePath);
  load(stored?.file);
  lastText = stored?.text;
  // Ids are kept; ARNs follow the account id given now (they are never stored).
  if (stored && stored.file.accountId !== accountId) {
    commit(() => {
      dirty = true;
    });
  }

  const store: IamStore = {
    accountId,

    getUser: (userName) => users.get(nameKey(userName)),
    createUser: (input) => commit(() => createUser(input)),
    deleteUser: (userName) =>
      commit(() => {
        const user = requireUser(userName);
        if (keysOfUser(user.userName).length > 0) {
          throw new IamError('DeleteConflict', 'Cannot delete entity, must delete access keys first.');
        }
        if (Object.keys(user.policies).length > 0) {
          throw new IamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
        }
        dirty = true;
        users.delete(nameKey(user.userName));
      }),
    listUsers: () => [...users.values()].sort((a, b) => byName(nameKey(a.userName), nameKey(b.userName))),
    putUserPolicy: (userName, policyName, document) =>
      commit(() => putUserPolicy(userName, policyName, document)),
    getUserPolicy: (userName, policyName) => {
      const document = requireUser(userName).policies[policyName];
      if (document === undefined) {
        throw new IamError('NoSuchEntity', `The user policy with name ${policyName} cannot be found.`);
      }
      return document;
    },
    deleteUserPolicy: (userName, policyName) =>
      commit(() => {
        const user = requireUser(userName);
        if (!Object.hasOwn(user.policies, policyName)) {
          throw new IamError('NoSuchEntity', `The user policy with name ${policyName} cannot be found.`);
        }
        const { [policyName]: _, ...policies } = user.policies;
        setUser(makeUser({ ...user, policies }));
      }),

    createAccessKey: (userName) =>
      commit(() => {
        const user = requireUser(userName);
        if (keysOfUser(user.userName).length >= LIMITS.accessKeysPerUser) {
          throw new IamError(
            'LimitExceeded',
            `Cannot exceed quota for AccessKeysPerUser: ${LIMITS.accessKeysPerUser}`,
          );
        }
        return createAccessKeyFor(user);
      }),
    deleteAccessKey: (userName, accessKeyId) =>
      commit(() => {
        const user = requireUser(userName);
        const key = accessKeys.get(accessKeyId);
        if (!key || nameKey(key.userName) !== nameKey(user.userName)) {
          throw new IamError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
        }
        dirty = true;
        accessKeys.delete(accessKeyId);
      }),
    listAccessKeys: (userName) => keysOfUser(requireUser(userName).userName),
    findAccessKey: (accessKeyId) => {
      const key = accessKeys.get(accessKeyId);
      if (!key) return undefined;
      const user = users.get(nameKey(key.userName));
      return user ? { key, user } : undefined;
    },

    getRole: (roleName) => roles.get(nameKey(roleName)),
    getRoleByArn: (arn) => rolesByArn.get(arn),
    createRole: (input) => commit(() => createRole(input)),
    deleteRole: (roleName) =>
      commit(() => {
        const role = requireRole(roleName);
        if (Object.keys(role.policies).length > 0) {
          throw new IamError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
        }
        dirty = true;
        roles.delete(nameKey(role.roleName));
        rolesByArn.delete(role.arn);
      }),
    listRoles: () => [...roles.values()].sort((a, b) => byName(nameKey(a.roleName), nameKey(b.roleName))),
    updateAssumeRolePolicy: (roleName, document) => commit(() => updateAssumeRolePolicy(roleName, document)),
    putRolePolicy: (roleName, policyName, document) =>
      commit(() => putRolePolicy(roleName, policyName, document)),
    getRolePolicy: (roleName, policyName) => {
      const document = requireRole(roleName).policies[policyName];
      if (document === undefined) {
        throw new IamError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
      }
      return document;
    },
    deleteRolePolicy: (roleName, policyName) =>
      commit(() => {
        const role = requireRole(roleName);
        if (!Object.hasOwn(role.policies, policyName)) {
          throw new IamError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
        }
        const { [policyName]: _, ...policies } = role.policies;
        setRole(makeRole({ ...role, policies }));
      }),

    getManagedPolicy: (arn) => managed.get(arn),
    listManagedPolicies: () => [...managed.values()].sort((a, b) => byName(a.arn, b.arn)),

    applySeed: (seed) =>
      commit(() => {
        for (const p of seed.managedPolicies ?? []) {
          withContext(`managed policy ${p.policyName}`, () => seedManagedPolicy(p));
        }
        for (const u of seed.users ?? []) withContext(`user ${u.userName}`, () => seedUser(u));
        for (const r of seed.roles ?? []) withContext(`role ${r.roleName}`, () => seedRole(r));
      }),
  };

  if (options.seed) store.applySeed(options.seed);
  return store;
}
