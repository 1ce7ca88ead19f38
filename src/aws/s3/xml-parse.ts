/**
 * A bounded, single-pass parser for the small XML documents S3 requests carry.
 *
 * Why not a general parser: a request body is attacker-controlled, and a general
 * parser's cost (and retained heap) grows with entities and elements in ways a
 * byte cap alone does not bound. Here every byte is looked at a constant number of
 * times, each element's text is capped while it is read (before it is copied), the
 * element count and depth are capped as elements open, and there are no DTDs and
 * no entities beyond the five predefined ones and character references.
 */
import { S3Error } from './errors.ts';

export type ParsedXml = { [name: string]: string | ParsedXml | ParsedXml[] | string[] };

export interface XmlLimits {
  /** Elements in the whole document, the root included. */
  maxElements: number;
  /** Raw characters of text (entities not yet decoded) in one element. */
  maxTextChars: number;
  /** Nesting depth, the root being 1. */
  maxDepth: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxElements: 20_000, maxTextChars: 16 * 1024, maxDepth: 32 };

const MAX_ATTRIBUTES = 32;
const NAME = /[A-Za-z_:\u00C0-\uFFFF][\w.:\-\u00B7\u00C0-\uFFFF]*/y;
const PREDEFINED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function malformed(message?: string): S3Error {
  return new S3Error('MalformedXML', message);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** Decodes the predefined entities and character references; any other `&` is malformed. */
export function decodeXmlText(raw: string): string {
  let at = raw.indexOf('&');
  if (at < 0) return raw;
  const out: string[] = [];
  let from = 0;
  while (at >= 0) {
    const end = raw.indexOf(';', at);
    if (end < 0 || end - at > 11) throw undefinedEntity();
    out.push(raw.slice(from, at), decodeReference(raw, at + 1, end));
    from = end + 1;
    at = raw.indexOf('&', from);
  }
  out.push(raw.slice(from));
  return out.join('');
}

function undefinedEntity(): S3Error {
  return malformed('The XML contains an undefined entity reference.');
}

/** `raw[start..end)` is the reference between `&` and `;`. Digits read by hand: this runs once per reference. */
function decodeReference(raw: string, start: number, end: number): string {
  if (raw.charCodeAt(start) !== 0x23 /* # */) {
    const predefined = PREDEFINED_ENTITIES[raw.slice(start, end)];
    if (predefined === undefined) throw undefinedEntity();
    return predefined;
  }
  const hex = raw.charCodeAt(start + 1) === 0x78; /* x */
  let at = hex ? start + 2 : start + 1;
  if (at >= end || end - at > (hex ? 6 : 7)) throw undefinedEntity();
  let point = 0;
  for (; at < end; at++) {
    const code = raw.charCodeAt(at);
    let digit = -1;
    if (code >= 0x30 && code <= 0x39) digit = code - 0x30;
    else if (hex && code >= 0x61 && code <= 0x66) digit = code - 0x57;
    else if (hex && code >= 0x41 && code <= 0x46) digit = code - 0x37;
    if (digit < 0) throw undefinedEntity();
    point = point * (hex ? 16 : 10) + digit;
  }
  if (point > 0 && point <= 0x10ffff && (point < 0xd800 || point > 0xdfff))
    return String.fromCodePoint(point);
  throw undefinedEntity();
}

interface Frame {
  qname: string;
  local: string;
  children: ParsedXml | undefined;
  /** Decoded text pieces; leading and trailing raw whitespace trimmed as they arrive. */
  text: string[];
  pendingSpace: string;
  hasText: boolean;
  rawChars: number;
}

function setChild(
  parent: ParsedXml,
  name: string,
  value: string | ParsedXml,
  repeatable: ReadonlySet<string>,
): void {
  if (!Object.hasOwn(parent, name)) {
    // defineProperty: an element named `__proto__` is an ordinary key, never a prototype.
    Object.defineProperty(parent, name, {
      value: repeatable.has(name) ? [value] : value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return;
  }
  const existing = parent[name];
  if (Array.isArray(existing)) (existing as (string | ParsedXml)[]).push(value);
  else parent[name] = [existing, value] as ParsedXml[] | string[];
}

/**
 * Parses `text`, whose root element's local name must be `rootName`, into nested
 * objects: an element with children is an object, one without is its trimmed text,
 * and a name that repeats (or is in `repeatable`) is an array. Throws MalformedXML.
 */
export function parseBoundedXml(
  text: string,
  rootName: string,
  repeatable: ReadonlySet<string>,
  limits: XmlLimits = DEFAULT_XML_LIMITS,
): ParsedXml {
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let elements = 0;
  let root: ParsedXml | undefined;
  let rootSeen = false;
  const stack: Frame[] = [];

  const readName = (): string => {
    NAME.lastIndex = i;
    const match = NAME.exec(text);
    if (!match) throw malformed();
    i = NAME.lastIndex;
    return match[0];
  };
  const skipSpace = () => {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
  };
  const skipPast = (terminator: string): number => {
    const end = text.indexOf(terminator, i);
    if (end < 0) throw malformed();
    const start = i;
    i = end + terminator.length;
    return start;
  };

  const addText = (frame: Frame, raw: string) => {
    let start = 0;
    let end = raw.length;
    if (!frame.hasText) while (start < end && isSpace(raw.charCodeAt(start))) start++;
    // Layout whitespace (before any text, e.g. between child elements) is free; text is counted.
    if (start === end && !frame.hasText) return;
    frame.rawChars += raw.length - start;
    if (frame.rawChars > limits.maxTextChars) throw malformed('An element has too much text.');
    while (end > start && isSpace(raw.charCodeAt(end - 1))) end--;
    if (start === end) {
      frame.pendingSpace += raw;
      return;
    }
    frame.text.push(frame.pendingSpace, decodeXmlText(raw.slice(start, end)));
    frame.pendingSpace = raw.slice(end);
    frame.hasText = true;
  };

  const openElement = () => {
    const qname = readName();
    let attributes = 0;
    for (;;) {
      const before = i;
      skipSpace();
      const code = text.charCodeAt(i);
      if (code === 0x3e /* > */ || code === 0x2f /* / */) break;
      if (i === before || ++attributes > MAX_ATTRIBUTES) throw malformed();
      readName();
      skipSpace();
      if (text[i] !== '=') throw malformed();
      i++;
      skipSpace();
      const quote = text[i];
      if (quote !== '"' && quote !== "'") throw malformed();
      i++;
      const value = text.slice(skipPast(quote), i - 1);
      if (value.includes('<')) throw malformed();
      decodeXmlText(value);
    }
    const selfClosing = text[i] === '/';
    if (selfClosing) i++;
    if (text[i] !== '>') throw malformed();
    i++;
    if (++elements > limits.maxElements) throw malformed('The XML has too many elements.');
    if (stack.length + 1 > limits.maxDepth) throw malformed('The XML is nested too deeply.');
    if (stack.length === 0 && rootSeen) throw malformed();
    const colon = qname.indexOf(':');
    const frame: Frame = {
      qname,
      local: colon >= 0 ? qname.slice(colon + 1) : qname,
      children: undefined,
      text: [],
      pendingSpace: '',
      hasText: false,
      rawChars: 0,
    };
    stack.push(frame);
    rootSeen = true;
    if (selfClosing) closeElement();
  };

  const closeElement = () => {
    const frame = stack.pop() as Frame;
    if (frame.children && frame.hasText) throw malformed('An element has both text and elements.');
    const value = frame.children ?? frame.text.join('');
    const parent = stack.at(-1);
    if (parent) {
      parent.children ??= {};
      setChild(parent.children, frame.local, value, repeatable);
    } else {
      if (frame.local !== rootName || typeof value === 'string') {
        if (frame.local !== rootName || value !== '') throw malformed();
        root = {};
      } else root = value;
    }
  };

  while (i < n) {
    const lt = text.indexOf('<', i);
    const frame = stack.at(-1);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) {
      if (frame) {
        addText(frame, text.slice(i, textEnd));
      } else {
        for (let j = i; j < textEnd; j++) if (!isSpace(text.charCodeAt(j))) throw malformed();
      }
      i = textEnd;
    }
    if (lt < 0) break;
    i = lt + 1;
    const next = text[i];
    if (next === '/') {
      i++;
      const qname = readName();
      skipSpace();
      if (text[i] !== '>' || !frame || frame.qname !== qname) throw malformed();
      i++;
      closeElement();
    } else if (next === '?') {
      // The declaration and processing instructions carry nothing S3 reads.
      skipPast('?>');
    } else if (text.startsWith('!--', i)) {
      i += 3;
      skipPast('-->');
    } else if (text.startsWith('![CDATA[', i)) {
      if (!frame) throw malformed();
      i += 8;
      const start = skipPast(']]>');
      const data = text.slice(start, i - 3);
      frame.rawChars += data.length;
      if (frame.rawChars > limits.maxTextChars) throw malformed('An element has too much text.');
      if (data.length > 0) {
        frame.text.push(frame.pendingSpace, data);
        frame.pendingSpace = '';
        frame.hasText = true;
      }
    } else if (next === '!') {
      throw malformed('DTDs and entity declarations are not allowed.');
    } else {
      openElement();
    }
  }
  if (stack.length > 0 || root === undefined) throw malformed();
  return root;
}
