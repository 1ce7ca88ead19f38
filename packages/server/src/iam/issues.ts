/** Zod issues as one readable line each, led by the field path: `roles[0].trustPolicy.Statement[0].Effect: …`. */
import { formatFieldPath } from '@hoist/protocol';
import type { z } from 'zod';

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${formatFieldPath(issue.path)}: ${issue.message}`).join('\n');
}
