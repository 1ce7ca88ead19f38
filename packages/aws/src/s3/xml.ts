/**
 * S3 XML in both directions. Responses are built as strings (fast, no DOM);
 * request bodies are parsed strictly: no DTD, no entities, bounded size and depth.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.ts';

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

/** Renders `<root xmlns=…>…</root>` with the XML declaration. Arrays repeat the element. */
export function renderXml(root: string, body: XmlNode, options: { xmlns?: string | false } = {}): string {
  const out: string[] = [DECLARATION];
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

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: 32,
});

/** Element names that may repeat; parsed as arrays even when they occur once. */
const REPEATABLE = new Set([
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

export type ParsedXml = { [name: string]: string | ParsedXml | ParsedXml[] | string[] };

/**
 * Parses a request body whose root must be `rootName`. Anything that is not
 * well-formed, declares a DTD or entities, or has another root is MalformedXML.
 */
export function parseXmlBody(text: string, rootName: string): ParsedXml {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) {
    throw new S3Error('MalformedXML', 'DTDs and entity declarations are not allowed.');
  }
  if (XMLValidator.validate(text) !== true) throw new S3Error('MalformedXML');
  let parsed: unknown;
  try {
    parsed = parser.parse(text);
  } catch (cause) {
    throw new S3Error('MalformedXML', undefined, { cause });
  }
  const root = (parsed as Record<string, unknown>)[rootName];
  if (root === undefined || (typeof root !== 'object' && root !== '')) throw new S3Error('MalformedXML');
  return normaliseArrays(root === '' ? {} : (root as ParsedXml));
}

const PREDEFINED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/**
 * Entity processing is off in the parser (no DTD entities, ever), so the five
 * predefined entities and character references are decoded here; any other
 * reference is malformed.
 */
function decodeText(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(/&([^;&\s]{0,10});/g, (_, name: string) => {
    const predefined = PREDEFINED_ENTITIES[name];
    if (predefined !== undefined) return predefined;
    const code = /^#x([0-9a-fA-F]{1,6})$/.exec(name)?.[1] ?? /^#(\d{1,7})$/.exec(name)?.[1];
    if (code !== undefined) {
      const point = name.startsWith('#x') ? Number.parseInt(code, 16) : Number(code);
      if (point <= 0x10ffff) return String.fromCodePoint(point);
    }
    throw new S3Error('MalformedXML', 'The XML contains an undefined entity reference.');
  });
}

function normaliseArrays(node: ParsedXml): ParsedXml {
  const out: ParsedXml = {};
  for (const [name, value] of Object.entries(node)) {
    const items = Array.isArray(value) ? value : [value];
    const normalised = items.map((item) =>
      typeof item === 'object' && item !== null
        ? normaliseArrays(item as ParsedXml)
        : decodeText(String(item)),
    );
    out[name] = (REPEATABLE.has(name) ? normalised : normalised.length === 1 ? normalised[0] : normalised) as
      | string
      | ParsedXml
      | ParsedXml[];
  }
  return out;
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
