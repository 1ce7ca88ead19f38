/**
 * IPv4/IPv6 addresses and CIDR blocks for the IpAddress/NotIpAddress operators. Addresses are
 * byte arrays (4 or 16); a block without a prefix length is a single address (/32, /128).
 */

/** A parsed CIDR block: network bytes and prefix length. */
export interface CidrBlock {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

const V4_OCTET = /^(?:0|[1-9]\d{0,2})$/;
const V6_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!V4_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseGroups(text: string, out: number[]): boolean {
  if (text === '') return true;
  for (const g of text.split(':')) {
    if (!V6_GROUP.test(g)) return false;
    out.push(Number.parseInt(g, 16));
  }
  return true;
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (text.length > 45) return undefined;
  let body = text;
  let tail: Uint8Array | undefined;
  // An embedded IPv4 address may end the text (e.g. ::ffff:192.0.2.1).
  const lastColon = body.lastIndexOf(':');
  if (lastColon >= 0 && body.includes('.', lastColon)) {
    tail = parseIpv4(body.slice(lastColon + 1));
    if (!tail) return undefined;
    body = body.slice(0, lastColon + 1);
    // Keep the colon(s) before the IPv4 part well-formed: "::" stays, a single trailing ":" goes.
    body = body.endsWith('::') ? body : body.slice(0, -1);
  }
  const wanted = tail ? 6 : 8;
  const head: number[] = [];
  const rest: number[] = [];
  const gap = body.indexOf('::');
  if (gap >= 0) {
    if (body.indexOf('::', gap + 1) >= 0) return undefined;
    if (!parseGroups(body.slice(0, gap), head) || !parseGroups(body.slice(gap + 2), rest)) return undefined;
    if (head.length + rest.length > wanted - 1) return undefined;
  } else {
    if (!parseGroups(body, head) || head.length !== wanted) return undefined;
  }
  const groups = [...head, ...new Array<number>(wanted - head.length - rest.length).fill(0), ...rest];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

/**
 * Parses an IPv4 or IPv6 address. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, which a
 * dual-stack socket reports for IPv4 clients) become the IPv4 address they carry.
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.includes(':')) {
    const v6 = parseIpv6(text);
    if (v6 && isV4Mapped(v6)) return v6.slice(12);
    return v6;
  }
  return parseIpv4(text);
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Parses `address[/prefix]`; a policy value. IPv6 stays IPv6 here, even when v4-mapped. */
export function parseCidr(text: string): CidrBlock | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = addr.includes(':') ? parseIpv6(addr) : parseIpv4(addr);
  if (!bytes) return undefined;
  const max = bytes.length * 8;
  if (slash < 0) return { bytes, prefix: max };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return undefined;
  return { bytes, prefix: Number(p) };
}

/** Whether `address` (from {@link parseIp}) lies in `block`; families never match each other. */
export function cidrContains(block: CidrBlock, address: Uint8Array): boolean {
  if (block.bytes.length !== address.length) return false;
  let bits = block.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((block.bytes[i]! & mask) !== (address[i]! & mask)) return false;
  }
  return true;
}
