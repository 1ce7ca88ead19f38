import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cidrContains, parseCidr, parseIp } from './ip.ts';

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);

describe('IP addresses', () => {
  const valid: [text: string, bytes: string][] = [
    ['192.0.2.1', 'c0000201'],
    ['0.0.0.0', '00000000'],
    ['255.255.255.255', 'ffffffff'],
    ['::', '0'.repeat(32)],
    ['::1', `${'0'.repeat(31)}1`],
    ['2001:db8::', `20010db8${'0'.repeat(24)}`],
    ['2001:DB8:0:0:8:800:200C:417A', '20010db80000000000080800200c417a'],
    ['fe80::1:2', `fe80${'0'.repeat(20)}00010002`],
    ['::ffff:192.0.2.1', 'c0000201'],
    ['64:ff9b::192.0.2.1', `0064ff9b${'0'.repeat(16)}c0000201`],
  ];
  for (const [text, bytes] of valid) it(`parses ${text}`, () => assert.equal(hex(parseIp(text)), bytes));

  const invalid = [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.-1',
    ':::',
    '1::2::3',
    '12345::',
    'g::1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '::1.2.3',
    'fe80::1%eth0',
    '1:2:3:4:5:6:7:1.2.3.4',
  ];
  for (const text of invalid)
    it(`rejects ${JSON.stringify(text)}`, () => assert.equal(parseIp(text), undefined));

  it('parses CIDR blocks with default prefixes', () => {
    assert.equal(parseCidr('10.0.0.0/8')?.prefix, 8);
    assert.equal(parseCidr('10.0.0.1')?.prefix, 32);
    assert.equal(parseCidr('2001:db8::')?.prefix, 128);
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('2001:db8::/129'), undefined);
    assert.equal(parseCidr('10.0.0.0/'), undefined);
    assert.equal(parseCidr('10.0.0.0/-1'), undefined);
  });

  it('tests membership bit by bit and never across families', () => {
    const block = parseCidr('192.0.2.128/25')!;
    assert.equal(cidrContains(block, parseIp('192.0.2.200')!), true);
    assert.equal(cidrContains(block, parseIp('192.0.2.127')!), false);
    assert.equal(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('::1')!), false);
    assert.equal(cidrContains(parseCidr('2001:db8::/127')!, parseIp('2001:db8::1')!), true);
    assert.equal(cidrContains(parseCidr('2001:db8::/127')!, parseIp('2001:db8::2')!), false);
  });
});
