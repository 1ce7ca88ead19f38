/**
 * S3 XML in both directions. Responses are built as strings (fast, no DOM);
 * request bodies are parsed strictly (xml-parse.ts): no DTD, no entities, bounded work.
 */
import { S3Error } from './errors.ts';
import { DEFAULT_XML_LIMITS, type ParsedXml, parseBoundedXml, type XmlLimits } from './xml-parse.ts';

export type { ParsedXml, XmlLimits } from './xml-parse.ts';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes text for an XML element or attribute. */
export function xmlEscape(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);
}

/** A node of a response document: text, nested nodes, or nothing (omitted). */
export type XmlValue = string | number | boolean | XmlNode | XmlValue[] | undefined | null;
export interface XmlNode {
  [name: string]: XmlValue;
}

function renderValue(name: string, value: XmlValue, out: string[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) renderValue(name, item, out);
    return;
  }
  if (typeof value === 'object') {
    out.push(`<${name}>`);
    for (const [child, childValue] of Object.entries(value)) renderValue(child, childValue, out);
    out.push(`</${name}>`);
    return;
  }
  out.push(`<${name}>${xmlEscape(String(value))}</${name}>`);
}

/**
 * Renders `<root xmlns=…>…</root>`, with the XML declaration unless `declaration: false`
 * (IAM's Query API answers without one). Arrays repeat the element.
 */
export function renderXml(
  root: string,
  body: XmlNode,
  options: { xmlns?: string | false; declaration?: boolean } = {},
): string {
  const out: string[] = options.declaration === false ? [] : [DECLARATION];
  const xmlns = options.xmlns === undefined ? S3_XMLNS : options.xmlns;
  out.push(xmlns ? `<${root} xmlns="${xmlns}">` : `<${root}>`);
  for (const [name, value] of Object.entries(body)) renderValue(name, value, out);
  out.push(`</${root}>`);
  return out.join('');
}

/** S3 renders timestamps in XML as ISO 8601 with milliseconds. */
export function xmlTimestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Element names that may repeat; parsed as arrays even when they occur once. */
const REPEATABLE: ReadonlySet<string> = new Set([
  'Part',
  'Object',
  'CORSRule',
  'AllowedOrigin',
  'AllowedMethod',
  'AllowedHeader',
  'ExposeHeader',
  'Rule',
  'Tag',
]);

/**
 * Parses a request body whose root must be `rootName`. Anything that is not
 * well-formed, declares a DTD or entities, has another root, or exceeds the
 * element, depth or text limits is MalformedXML.
 */
export function parseXmlBody(text: string, rootName: string, limits: Partial<XmlLimits> = {}): ParsedXml {
  return parseBoundedXml(text, rootName, REPEATABLE, { ...DEFAULT_XML_LIMITS, ...limits });
}

/** Reads a child element as text ('' when empty); throws MalformedXML when it is a nested element. */
export function textOf(node: ParsedXml, name: string): string | undefined {
  const value = node[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0) return '';
  throw new S3Error('MalformedXML', `Element ${name} must be text.`);
}

/** Reads repeated child elements as nodes. */
export function nodesOf(node: ParsedXml, name: string): ParsedXml[] {
  const value = node[name];
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    if (typeof item === 'string') {
      if (item === '') return {};
      throw new S3Error('MalformedXML', `Element ${name} must contain elements.`);
    }
    return item;
  });
}

/** Reads repeated text children (e.g. AllowedOrigin). */
export function textsOf(node: ParsedXml, name: string): string[] {
  const value = node[name];
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    if (typeof item !== 'string') throw new S3Error('MalformedXML', `Element ${name} must be text.`);
    return item;
  });
}
