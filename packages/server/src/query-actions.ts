/**
 * STS and IAM actions behind the Query endpoint, once it has authenticated the caller:
 * the wiring between the endpoint, the STS handlers, the IAM API and the authorizer.
 */
import type { KeyObject } from 'node:crypto';
import type { Authorizer } from './authz.ts';
import { handleIamAction } from './iam/api.ts';
import type { IamStore } from './iam/types.ts';
import type { Identity } from './identity.ts';
import type { ResolvedServerOptions } from './options.ts';
import type { QueryService } from './query-endpoint.ts';
import { StsError } from './sts/errors.ts';
import { handleStsAction } from './sts/handlers.ts';

export interface QueryActionDeps {
  options: ResolvedServerOptions;
  iam: IamStore;
  authorizer: Authorizer;
  tokenKey: KeyObject;
}

export function createQueryActionRunner(deps: QueryActionDeps) {
  const { options, iam, authorizer, tokenKey } = deps;
  return function runQueryAction(
    service: QueryService,
    params: URLSearchParams,
    identity: Identity,
    requestId: string,
    sourceIp: string,
  ) {
    const context = { 'aws:SourceIp': sourceIp };
    if (service === 'sts') {
      const body = handleStsAction(params, identity, {
        iam,
        tokenKey,
        now: options.clock(),
        requestId,
        mayAssumeRole: (caller, role, actions, extra) =>
          authorizer.mayAssumeRole(caller, role, actions, { ...context, ...extra }),
        isAllowed: (caller, action, resource, extra) =>
          authorizer.isAllowed(caller, action, resource, { ...context, ...extra }),
        validateSessionPolicy: (json) => {
          try {
            authorizer.validateSessionPolicy(json);
          } catch (error) {
            throw new StsError('MalformedPolicyDocument', (error as Error).message);
          }
        },
      });
      return { status: 200, body };
    }
    // As on AWS: federated-user credentials never call IAM, and GetSessionToken ones only with MFA (not modelled).
    if (identity.kind === 'session' && identity.session.kind !== 'AssumeRole') {
      throw new StsError(
        'AccessDenied',
        `User: ${identity.arn} is not authorized to perform IAM actions with ${identity.session.kind} credentials.`,
      );
    }
    return handleIamAction(params, {
      store: iam,
      requestId,
      ...(identity.kind === 'user' ? { caller: { userName: identity.user.userName } } : {}),
      authorize: (action, resource) => {
        if (!authorizer.isAllowed(identity, action, resource, context)) {
          throw new StsError(
            'AccessDenied',
            `User: ${identity.arn} is not authorized to perform: ${action} on resource: ${resource}`,
          );
        }
      },
      onError: (error) =>
        process.stderr.write(`hoist server: IAM error on request ${requestId}: ${String(error)}\n`),
    });
  };
}
