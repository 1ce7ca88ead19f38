/**
 * The IAM Query API (service `iam`, version 2010-05-08) over an {@link IamStore}: one handler
 * per action, each authorizing its IAM action on the target's ARN first, then answering
 * with IAM's XML, or `<ErrorResponse>` with IAM's code and status. The caller has already
 * authenticated the request and parsed the form body.
 */
import { ProtocolError } from '../errors.ts';
import { type Context, Denied, type Handler } from './action-context.ts';
import { ENTITY_HANDLERS } from './entity-actions.ts';
import { inlinePolicyHandlers, ROLE_OWNER, USER_OWNER } from './inline-policy-actions.ts';
import { QueryParams } from './params.ts';
import { IamError, type IamStore } from './types.ts';
import { IAM_API_VERSION, renderIamError, renderIamResponse } from './xml.ts';

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

const HANDLERS: Record<string, Handler> = {
  ...inlinePolicyHandlers(ROLE_OWNER),
  ...inlinePolicyHandlers(USER_OWNER),
  ...ENTITY_HANDLERS,
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
