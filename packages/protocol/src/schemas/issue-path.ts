/** How a zod issue's path reads in a message, for every config and request validated with zod. */

/** `s3.bucket`, `auth.tokens["bad user"]`, `roles[0].name`; after `prefix` (a variable name) when given. */
export function issuePath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const name = String(part);
      out += /^[A-Za-z_$][\w$]*$/.test(name) ? (out ? `.${name}` : name) : `[${JSON.stringify(name)}]`;
    }
  }
  return out || '(root)';
}
