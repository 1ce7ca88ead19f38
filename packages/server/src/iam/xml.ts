/**
 * IAM Query API XML: `<XResponse xmlns=…><XResult>…</XResult><ResponseMetadata>…` and
 * `<ErrorResponse>`, through the shared XML writer. Lists are `<Name><member>…</member></Name>`.
 */
import { renderXml, type XmlNode, type XmlValue } from '@hoist/aws/s3';

export type { XmlNode, XmlValue };

export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
export const IAM_API_VERSION = '2010-05-08';

/** `<Name><member>…</member>…</Name>`, IAM's list encoding (empty lists included). */
export const members = (items: XmlValue[]): XmlNode => ({ member: items });

/** IAM timestamps: ISO 8601 in UTC, to the second (`2024-05-01T12:00:00Z`). */
export const iamDate = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Policy documents as IAM returns them: RFC 3986 percent-encoded JSON text. */
export const encodePolicy = (document: string): string =>
  encodeURIComponent(document).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** A successful response; `result` undefined for actions that return nothing but metadata. */
export function renderIamResponse(action: string, result: XmlNode | undefined, requestId: string): string {
  return renderXml(
    `${action}Response`,
    { [`${action}Result`]: result, ResponseMetadata: { RequestId: requestId } },
    { xmlns: IAM_XMLNS, declaration: false },
  );
}

export function renderIamError(
  error: { code: string; message: string; type: 'Sender' | 'Receiver' },
  requestId: string,
): string {
  return renderXml(
    'ErrorResponse',
    { Error: { Type: error.type, Code: error.code, Message: error.message }, RequestId: requestId },
    { xmlns: IAM_XMLNS, declaration: false },
  );
}
