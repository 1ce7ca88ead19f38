/**
 * How a validation issue names its field, for every config and file the packages validate:
 * `roles[0].trustPolicy.Statement[0].Effect`, names that are not identifiers quoted
 * (`policies["assume-uploader"]`), `(root)` for the value itself.
 */
export function formatFieldPath(path: readonly PropertyKey[], prefix = ''): string {
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
