/** How config problems are reported: one line per bad field, named by path or variable, never with its value. */
import { issuePath as formatPath } from '@hoist/protocol/schemas';
import type { z } from 'zod';

/** Thrown by `loadBrokerConfig`/`parseBrokerConfig`; `issues` has one entry per bad field. */
export class BrokerConfigError extends Error {
  readonly issues: { path: string; message: string }[];
  constructor(issues: { path: string; message: string }[]) {
    super(`Invalid broker configuration:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.name = 'BrokerConfigError';
    this.issues = issues;
  }
}

/** zod's messages, worded for people and never including the input (it may be a secret). */
export function errorMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'Required';
      if (issue.expected === 'int') return 'must be an integer';
      return `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'string') return `must be at least ${issue.minimum} characters`;
      if (issue.origin === 'array') return `must have at least ${issue.minimum} items`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_union':
      return 'must be a string or a list of strings';
    default:
      return undefined;
  }
}

/** The issues of a failed parse, each under the variable its value came from when it came from one. */
export function configIssues(
  issues: readonly z.core.$ZodIssue[],
  envPaths: ReadonlyMap<string, string>,
): { path: string; message: string }[] {
  const name = (path: readonly PropertyKey[]) => {
    for (let n = path.length; n > 0; n--) {
      const env = envPaths.get(path.slice(0, n).join('.'));
      if (env) return formatPath(path.slice(n), env);
    }
    return formatPath(path);
  };
  return issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: name([...issue.path, key]), message: 'unknown field' }))
      : [{ path: name(issue.path), message: issue.message }],
  );
}
