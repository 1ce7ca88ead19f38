/**
 * The local IAM model: one account, users with access keys and inline policies,
 * roles with a trust policy, inline policies and a maximum session duration.
 * Policy documents are kept as the JSON text they were given (IAM returns them
 * URL-encoded, exactly as stored).
 */

import { ProtocolError } from '../errors.ts';

export interface IamUser {
  userName: string;
  /** `AIDA…` */
  userId: string;
  arn: string;
  path: string;
  createDate: number;
  /** Inline policies by name. */
  policies: Record<string, string>;
  tags: Record<string, string>;
}

export interface IamAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createDate: number;
}

export interface IamRole {
  roleName: string;
  /** `AROA…` */
  roleId: string;
  arn: string;
  path: string;
  createDate: number;
  description?: string;
  assumeRolePolicyDocument: string;
  /** Seconds, 3600..43200. */
  maxSessionDuration: number;
  /** Inline policies by name. */
  policies: Record<string, string>;
  tags: Record<string, string>;
}

/** Customer-managed policies, referenced by ARN (e.g. from AssumeRole's PolicyArns). */
export interface IamManagedPolicy {
  policyName: string;
  arn: string;
  /** `/` or `/…/`; part of the ARN. */
  path: string;
  document: string;
}

/**
 * What a config file declares (see config.ts), with documents as JSON text. Applying it
 * creates or updates each declared entity to match; undeclared entities and undeclared
 * keys/policies of declared ones are left as they are.
 */
export interface IamSeed {
  users?: {
    userName: string;
    path?: string;
    tags?: Record<string, string>;
    accessKeys?: { accessKeyId: string; secretAccessKey: string }[];
    policies?: Record<string, string>;
  }[];
  roles?: {
    roleName: string;
    assumeRolePolicyDocument: string;
    path?: string;
    description?: string;
    maxSessionDuration?: number;
    tags?: Record<string, string>;
    policies?: Record<string, string>;
  }[];
  managedPolicies?: { policyName: string; path?: string; document: string }[];
}

export type IamErrorCode =
  | 'NoSuchEntity'
  | 'EntityAlreadyExists'
  | 'DeleteConflict'
  | 'MalformedPolicyDocument'
  | 'ValidationError'
  | 'LimitExceeded'
  | 'InvalidInput';

/** IAM's own error codes, rendered by the IAM API as `<ErrorResponse>`. */
export class IamError extends ProtocolError<IamErrorCode> {
  constructor(code: IamErrorCode, message: string) {
    // As IAM's API reference documents them: LimitExceeded is a 409 like the other conflicts.
    const status =
      code === 'NoSuchEntity'
        ? 404
        : code === 'EntityAlreadyExists' || code === 'DeleteConflict' || code === 'LimitExceeded'
          ? 409
          : 400;
    super(code, message, status);
  }
}

export interface IamStore {
  readonly accountId: string;

  getUser(userName: string): IamUser | undefined;
  createUser(input: { userName: string; path?: string; tags?: Record<string, string> }): IamUser;
  /** DeleteConflict while the user still has access keys or inline policies, as on AWS. */
  deleteUser(userName: string): void;
  listUsers(): IamUser[];
  putUserPolicy(userName: string, policyName: string, document: string): void;
  getUserPolicy(userName: string, policyName: string): string;
  deleteUserPolicy(userName: string, policyName: string): void;

  createAccessKey(userName: string): IamAccessKey;
  /** Throws NoSuchEntity. */
  deleteAccessKey(userName: string, accessKeyId: string): void;
  listAccessKeys(userName: string): IamAccessKey[];
  /** The key and its user, for request authentication. */
  findAccessKey(accessKeyId: string): { key: IamAccessKey; user: IamUser } | undefined;

  getRole(roleName: string): IamRole | undefined;
  getRoleByArn(arn: string): IamRole | undefined;
  createRole(input: {
    roleName: string;
    assumeRolePolicyDocument: string;
    path?: string;
    description?: string;
    maxSessionDuration?: number;
    tags?: Record<string, string>;
  }): IamRole;
  /** DeleteConflict while the role still has inline policies, as on AWS. */
  deleteRole(roleName: string): void;
  listRoles(): IamRole[];
  updateAssumeRolePolicy(roleName: string, document: string): void;
  putRolePolicy(roleName: string, policyName: string, document: string): void;
  getRolePolicy(roleName: string, policyName: string): string;
  deleteRolePolicy(roleName: string, policyName: string): void;

  getManagedPolicy(arn: string): IamManagedPolicy | undefined;
  listManagedPolicies(): IamManagedPolicy[];

  /** Creates or updates what the seed declares, in one durable write (see IamSeed). */
  applySeed(seed: IamSeed): void;
}
