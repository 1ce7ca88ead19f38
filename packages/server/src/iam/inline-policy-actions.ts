/**
 * Put/Get/Delete/List{Role,User}Policy: one implementation of the inline-policy actions for
 * both owners, users and roles.
 */
import { authorize, type Context, type Handler, paged, roleArn, userArn } from './action-context.ts';
import { paginate } from './params.ts';
import { IamError, type IamStore } from './types.ts';
import { checkPolicyName, checkRoleName, checkUserName } from './validate.ts';
import { encodePolicy, members } from './xml.ts';

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

export const ROLE_OWNER: PolicyOwner = {
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

export const USER_OWNER: PolicyOwner = {
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
export function inlinePolicyHandlers(owner: PolicyOwner): Record<string, Handler> {
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
