/** Sending a broker's presigned POST form as a browser's FormData does (fields, then `file`). */

export interface Form {
  url: string;
  fields: Record<string, string>;
}

/** POSTs the form's fields (with `fields` overriding or adding some), then `data` as `file`. */
export async function postForm(
  form: Form,
  data: Uint8Array,
  fields: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const body = new FormData();
  for (const [name, value] of Object.entries({ ...form.fields, ...fields })) body.append(name, value);
  body.append('file', new Blob([new Uint8Array(data)]), 'upload.bin');
  const res = await fetch(form.url, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

/** The form's policy document, decoded. */
export function policyOf(form: Form): { expiration: string; conditions: unknown[] } {
  return JSON.parse(Buffer.from(form.fields.policy ?? '', 'base64').toString('utf8'));
}
