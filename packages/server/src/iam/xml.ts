/**
 * IAM Query API XML: `<XResponse xmlns=…><XResult>…</XResult><ResponseMetadata>…` and
 * `<ErrorResponse>`, built as strings. Lists are `<Name><member>…</member></Name>`.
 */
import { xmlEscape } from '@hoist/aws/s3';

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const IAM_API_VERSION = '2010-05-08';

export type XmlValue = string | number | boolean | undefined | XmlNode | XmlValue[];
export interface XmlNode {
  [name: string]: XmlValue;
}

function render(name: string, value: XmlValue, out: string[]): void {
  if (value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) render(name, item, out);
    return;
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const [child, childValue] of Object.entries(value)) render(child, childValue, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${xmlEscape(String(value))}</${name}>`);
}

/** `<Name><member>…</member>…</Name>`, IAM's list encoding (empty lists included). */
export const members = (items: XmlValue[]): XmlNode => ({ member: items });

/** IAM timestamps: ISO 8601 in UTC, to the second (`2024-05-01T12:00:00Z`). */
export const iamDate = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Policy documents as IAM returns them: RFC 3986 percent-encoded JSON text. */
export const encodePolicy = (document: string): string =>
  encodeURIComponent(document).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A successful response; `result` undefined for actions that return nothing but metadata. */
export function renderIamResponse(action: string, result: XmlNode | undefined, requestId: string): string {
  const out: string[] = [`<${action}Response xmlns="${IAM_XMLNS}">`];
  if (result) render(`${action}Result`, result, out);
  render('ResponseMetadata', { RequestId: requestId }, out);
  out.push(`</${action}Response>`);
  return out.join('');
}

export function renderIamError(
  error: { code: string; message: string; type: 'Sender' | 'Receiver' },
  requestId: string,
): string {
  const out: string[] = [`<ErrorResponse xmlns="${IAM_XMLNS}">`];
  render('Error', { Type: error.type, Code: error.code, Message: error.message }, out);
  render('RequestId', requestId, out);
  out.push('</ErrorResponse>');
  return out.join('');
}
