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

test('parseXmlBody trims raw whitespace but keeps encoded and CDATA whitespace, skips comments and prefixes', () => {
  const doc = parseXmlBody(
    '<?xml version="1.0"?>\n<!-- c --><s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/">\n  <s3:Object><s3:Key>  &#32;a b<!-- x --> c&#x20;  </s3:Key></s3:Object>\n  <Object><Key><![CDATA[ <raw> ]]></Key></Object><Quiet/></s3:Delete>',
    'Delete',
  );
  const keys = nodesOf(doc, 'Object').map((object) => textOf(object, 'Key'));
  assert.deepEqual(keys, [' a b c ', ' <raw> ']);
  assert.equal(textOf(doc, 'Quiet'), '');
  const proto = parseXmlBody('<Delete><__proto__>x</__proto__></Delete>', 'Delete');
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.equal(textOf(proto, '__proto__'), 'x');
});

test('parseXmlBody refuses mixed content, mismatched tags, junk after the root and bad references', () => {
  malformed(() => parseXmlBody('<Delete>text<Object/></Delete>', 'Delete'));
  malformed(() => parseXmlBody('<Delete><Object></Key></Delete>', 'Delete'));
  malformed(() => parseXmlBody('<Delete/><Delete/>', 'Delete'));
  malformed(() => parseXmlBody('<Delete/>junk', 'Delete'));
  malformed(() => parseXmlBody('<Delete><Key>&#0;</Key></Delete>', 'Delete'));
  malformed(() => parseXmlBody('<Delete><Key>&#xD800;</Key></Delete>', 'Delete'));
  malformed(() => parseXmlBody('<Delete><Key>a & b</Key></Delete>', 'Delete'));
  malformed(() => parseXmlBody('<Delete a="<"/>', 'Delete'));
  malformed(() => parseXmlBody('<Delete><!ELEMENT x ANY></Delete>', 'Delete'));
});

test('parseXmlBody enforces element and text limits while parsing, and entity-heavy text costs little', () => {
  malformed(() => parseXmlBody(`<Delete>${'<Object/>'.repeat(11)}</Delete>`, 'Delete', { maxElements: 11 }));
  assert.equal(
    nodesOf(
      parseXmlBody(`<Delete>${'<Object/>'.repeat(10)}</Delete>`, 'Delete', { maxElements: 11 }),
      'Object',
    ).length,
    10,
  );
  malformed(() =>
    parseXmlBody(`<Delete><Key>${'a'.repeat(101)}</Key></Delete>`, 'Delete', { maxTextChars: 100 }),
  );
  malformed(() =>
    parseXmlBody(`<Delete><Key>${'a'.repeat(60)}<!---->${'a'.repeat(60)}</Key></Delete>`, 'Delete', {
      maxTextChars: 100,
    }),
  );
  // 8 MiB of `&#65;` in one ETag: refused at the text limit, long before it is decoded.
  const hostile = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${'&#65;'.repeat(1_677_721)}</ETag></Part></CompleteMultipartUpload>`;
  malformed(() => parseXmlBody(hostile, 'CompleteMultipartUpload', { maxTextChars: 1024 }));
  // Within the limits, decoding is linear: 1,000 elements of 1,000 entities each.
  const spread = `<Delete>${`<Object><Key>${'&#65;'.repeat(1000)}</Key></Object>`.repeat(1000)}</Delete>`;
  const parsed = nodesOf(parseXmlBody(spread, 'Delete', { maxTextChars: 5000 }), 'Object');
  assert.equal(textOf(parsed[999]!, 'Key'), 'A'.repeat(1000));
});
