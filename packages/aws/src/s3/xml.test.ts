import assert from 'node:assert/strict';
import { test } from 'node:test';
import { S3Error } from './errors.ts';
import { nodesOf, parseXmlBody, renderXml, textOf, textsOf, xmlEscape } from './xml.ts';

function malformed(fn: () => unknown): void {
  assert.throws(fn, (error: unknown) => error instanceof S3Error && error.code === 'MalformedXML');
}

test('renderXml escapes text, repeats arrays and omits undefined', () => {
  const xml = renderXml('Root', { A: 'x<&>"\'', B: [1, 2], C: undefined, D: { E: true } });
  assert.equal(
    xml,
    '<?xml version="1.0" encoding="UTF-8"?>\n<Root xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><A>x&lt;&amp;&gt;&quot;&apos;</A><B>1</B><B>2</B><D><E>true</E></D></Root>',
  );
  assert.equal(xmlEscape('a&b'), 'a&amp;b');
});

test('parseXmlBody reads repeated elements as arrays and decodes predefined entities', () => {
  const doc = parseXmlBody(
    '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>&quot;abc&quot;</ETag></Part></CompleteMultipartUpload>',
    'CompleteMultipartUpload',
  );
  const parts = nodesOf(doc, 'Part');
  assert.equal(parts.length, 1);
  assert.equal(textOf(parts[0]!, 'ETag'), '"abc"');
  assert.equal(textOf(parts[0]!, 'PartNumber'), '1');
  const cors = parseXmlBody(
    '<CORSConfiguration><CORSRule><AllowedOrigin>a&#x2F;b&#47;c</AllowedOrigin></CORSRule></CORSConfiguration>',
    'CORSConfiguration',
  );
  assert.deepEqual(textsOf(nodesOf(cors, 'CORSRule')[0]!, 'AllowedOrigin'), ['a/b/c']);
});

test('parseXmlBody refuses DTDs, entities, other roots and broken documents', () => {
  malformed(() => parseXmlBody('<!DOCTYPE x [<!ENTITY e "boom">]><Delete/>', 'Delete'));
  malformed(() => parseXmlBody('<Delete><Object><Key>&e;</Key></Object></Delete>', 'Delete'));
  malformed(() => parseXmlBody('<Other/>', 'Delete'));
  malformed(() => parseXmlBody('<Delete><Object>', 'Delete'));
  malformed(() => parseXmlBody('', 'Delete'));
  const deep = `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`;
  malformed(() => parseXmlBody(`<Delete>${deep}</Delete>`, 'Delete'));
});

test('text readers reject elements where text is expected', () => {
  const doc = parseXmlBody('<Delete><Quiet><X>1</X></Quiet></Delete>', 'Delete');
  malformed(() => textOf(doc, 'Quiet'));
});
