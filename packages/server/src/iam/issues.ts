/** Zod issues as one readable line each, led by the field path: `roles[0].trustPolicy.Statement[0].Effect: …`. */
import { issuePath } from '@hoist/protocol';
import type { z } from 'zod';

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `${issuePath(issue.path)}: ${issue.message}`).join('\n');
}
