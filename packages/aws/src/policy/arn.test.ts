import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatArn, parseArn, parseS3Arn, s3BucketArn, s3ObjectArn, splitArn } from './arn.ts';

describe('ARNs', () => {
  it('parses the six components; the resource keeps its colons', () => {
    assert.deepEqual(parseArn('arn:aws:logs:us-east-1:111122223333:log-group:g:*'), {
      partition: 'aws',
      service: 'logs',
      region: 'us-east-1',
      account: '111122223333',
      resource: 'log-group:g:*',
    });
    assert.deepEqual(splitArn('arn:aws:s3:::b/k:x'), ['arn', 'aws', 's3', '', '', 'b/k:x']);
  });

  for (const bad of ['', 'arn:aws:s3', 'arn:aws:s3::', 'urn:aws:s3:::b', 'arn::s3:::b', 'arn:aws::::b']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseArn(bad), undefined));
  }

  it('formats what it parses', () => {
    const text = 'arn:aws-cn:iam::111122223333:role/path/r';
    assert.equal(formatArn(parseArn(text)!), text);
  });

  it('builds and reads S3 bucket and object ARNs', () => {
    assert.equal(s3BucketArn('b'), 'arn:aws:s3:::b');
    assert.equal(s3ObjectArn('b', 'dir/a b*.txt'), 'arn:aws:s3:::b/dir/a b*.txt');
    assert.equal(s3ObjectArn('b', 'k', 'aws-us-gov'), 'arn:aws-us-gov:s3:::b/k');
    assert.deepEqual(parseS3Arn('arn:aws:s3:::b'), { bucket: 'b' });
    assert.deepEqual(parseS3Arn('arn:aws:s3:::b/dir/k'), { bucket: 'b', key: 'dir/k' });
    assert.deepEqual(parseS3Arn('arn:aws:s3:::b/'), { bucket: 'b', key: '' });
    assert.equal(parseS3Arn('arn:aws:s3:us-east-1::b'), undefined);
    assert.equal(parseS3Arn('arn:aws:iam::111122223333:root'), undefined);
  });
});
