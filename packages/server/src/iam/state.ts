/**
 * The IAM store's state: one account's entities in maps (users and roles by name key, access
 * keys by id, roles and managed policies by ARN) and how they are persisted: a change runs
 * through `commit`, which writes `iam.json` whole when the change marked the state dirty and
 * restores the last committed state when the change or the write fails.
 */
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
import { type IamAccessKey, IamError, type IamManagedPolicy, type IamRole, type IamUser } from './types.ts';
import { nameKey } from './validate.ts';

export const frozen = <T extends object>(value: T): T => Object.freeze(value);
export const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedRecord = (record: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => byName(a, b)));
const sortedValues = <T>(map: Map<string, T>) => [...map.keys()].sort(byName).map((key) => map.get(key)!);

export class IamState {
  readonly accountId: string;
  users = new Map<string, IamUser>();
  roles = new Map<string, IamRole>();
  rolesByArn = new Map<string, IamRole>();
  accessKeys = new Map<string, IamAccessKey>();
  managed = new Map<string, IamManagedPolicy>();
  /** Set by every mutation inside `commit`, so only changes are written. */
  dirty = false;
  readonly #filePath: string;
  #lastText: string | undefined;

  /** Loads `<dataDir>/iam.json` (none yet: an empty account); throws if it is unreadable. */
  constructor(dataDir: string, accountId: string) {
    this.accountId = accountId;
    this.#filePath = join(dataDir, IAM_FILE);
    removeStaleTempFiles(this.#filePath);
    const stored = readIamFile(this.#filePath);
    this.#load(stored?.file);
    this.#lastText = stored?.text;
    // Ids are kept; ARNs follow the account id given now (they are never stored).
    if (stored && stored.file.accountId !== accountId) {
      this.commit(() => {
        this.dirty = true;
      });
    }
  }

  userArn = (path: string, name: string) => `arn:aws:iam::${this.accountId}:user${path}${name}`;
  roleArn = (path: string, name: string) => `arn:aws:iam::${this.accountId}:role${path}${name}`;
  policyArn = (path: string, name: string) => `arn:aws:iam::${this.accountId}:policy${path}${name}`;

  makeUser = (u: Omit<IamUser, 'arn'>): IamUser =>
    frozen({
      ...u,
      arn: this.userArn(u.path, u.userName),
      policies: frozen(u.policies),
      tags: frozen(u.tags),
    });
  makeRole = (r: Omit<IamRole, 'arn'>): IamRole =>
    frozen({
      ...r,
      arn: this.roleArn(r.path, r.roleName),
      policies: frozen(r.policies),
      tags: frozen(r.tags),
    });

  setUser(user: IamUser): void {
    this.dirty = true;
    this.users.set(nameKey(user.userName), user);
  }

  setRole(role: IamRole): void {
    this.dirty = true;
    const previous = this.roles.get(nameKey(role.roleName));
    if (previous) this.rolesByArn.delete(previous.arn);
    this.roles.set(nameKey(role.roleName), role);
    this.rolesByArn.set(role.arn, role);
  }

  setKey(key: IamAccessKey): void {
    this.dirty = true;
    this.accessKeys.set(key.accessKeyId, key);
  }

  requireUser(name: string): IamUser {
    const user = this.users.get(nameKey(name));
    if (!user) throw new IamError('NoSuchEntity', `The user with name ${name} cannot be found.`);
    return user;
  }

  requireRole(name: string): IamRole {
    const role = this.roles.get(nameKey(name));
    if (!role) throw new IamError('NoSuchEntity', `The role with name ${name} cannot be found.`);
    return role;
  }

  /** A user's access keys, oldest first. */
  keysOfUser(name: string): IamAccessKey[] {
    const key = nameKey(name);
    return [...this.accessKeys.values()]
      .filter((k) => nameKey(k.userName) === key)
      .sort((a, b) => a.createDate - b.createDate || byName(a.accessKeyId, b.accessKeyId));
  }

  /**
   * Runs a change and persists it. Any failure, whether the change's own checks or the
   * write, restores the last committed state, so memory never holds what the file does not.
   */
  commit<T>(change: () => T): T {
    this.dirty = false;
    try {
      const result = change();
      if (this.dirty) {
        const text = this.#serialize();
        if (text !== this.#lastText) {
          writeFileAtomic(this.#filePath, text);
          this.#lastText = text;
        }
      }
      return result;
    } catch (error) {
      if (this.dirty)
        this.#load(this.#lastText === undefined ? undefined : (JSON.parse(this.#lastText) as IamFile));
      throw error;
    } finally {
      this.dirty = false;
    }
  }

  #load(file: IamFile | undefined): void {
    this.users = new Map();
    this.roles = new Map();
    this.rolesByArn = new Map();
    this.accessKeys = new Map();
    this.managed = new Map();
    for (const { accessKeys: keys, ...u } of file?.users ?? []) {
      const user = this.makeUser(u);
      this.users.set(nameKey(user.userName), user);
      for (const k of keys) this.accessKeys.set(k.accessKeyId, frozen({ ...k, userName: user.userName }));
    }
    for (const { description, ...r } of file?.roles ?? []) {
      const role = this.makeRole({ ...r, ...(description === undefined ? {} : { description }) });
      this.roles.set(nameKey(role.roleName), role);
      this.rolesByArn.set(role.arn, role);
    }
    for (const p of file?.managedPolicies ?? []) {
      const policy = frozen({ ...p, arn: this.policyArn(p.path, p.policyName) });
      this.managed.set(policy.arn, policy);
    }
  }

  #serialize(): string {
    const keysOf = new Map<string, IamFileUser['accessKeys']>();
    for (const k of [...this.accessKeys.values()].sort((a, b) => byName(a.accessKeyId, b.accessKeyId))) {
      const list = keysOf.get(nameKey(k.userName)) ?? [];
      list.push({
        accessKeyId: k.accessKeyId,
        secretAccessKey: k.secretAccessKey,
        status: k.status,
        createDate: k.createDate,
      });
      keysOf.set(nameKey(k.userName), list);
    }
    // Fields in a fixed order, so equal states serialize to equal text (seeding compares them).
    const users: IamFileUser[] = sortedValues(this.users).map((u) => ({
      userName: u.userName,
      userId: u.userId,
      path: u.path,
      createDate: u.createDate,
      policies: sortedRecord(u.policies),
      tags: u.tags,
      accessKeys: keysOf.get(nameKey(u.userName)) ?? [],
    }));
    const roles: IamFileRole[] = sortedValues(this.roles).map((r) => ({
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
    const managedPolicies = sortedValues(this.managed).map((p) => ({
      policyName: p.policyName,
      path: p.path,
      document: p.document,
    }));
    return serializeIamFile({ accountId: this.accountId, users, roles, managedPolicies });
  }
}
