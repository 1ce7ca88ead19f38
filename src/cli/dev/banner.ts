/**
 * What `hoist dev` prints once ready: one JSON line (`--json`), or a block for people with
 * the page, the dev users and the S3 endpoint. The only place secrets are printed, on
 * purpose: they are local development credentials, and seeing them is the point.
 */
import type { DevStackInfo } from './stack.ts';

export function jsonLine(info: DevStackInfo): string {
  return `${JSON.stringify(info)}\n`;
}

export function banner(info: DevStackInfo): string {
  const width = Math.max(...info.users.map((user) => user.id.length));
  const { s3 } = info;
  const firstUser = info.users[0];
  const lines = [
    `Hoist dev stack is running (mode ${info.mode}, data in ${info.dataDir})`,
    '',
    `  Upload page:   ${info.web}`,
    `  Broker API:    ${info.broker}`,
    '  Dev users (pick one on the page, or send "Authorization: Bearer <token>"):',
    ...info.users.map((user) => `    ${user.id.padEnd(width)}  ${user.token}`),
    '',
    ...('external' in s3
      ? [
          // Not our keys to print: they came from the environment.
          `  S3 + STS:      ${s3.endpoint}  (external store; region ${s3.region}, bucket ${s3.bucket})`,
          '',
          'See what landed in the bucket with the AWS CLI (with your keys):',
          `  aws --endpoint-url ${s3.endpoint} --region ${s3.region} s3 ls s3://${s3.bucket}/uploads/ --recursive`,
        ]
      : [
          `  S3 + STS:      ${s3.endpoint}  (region ${s3.region}, bucket ${s3.bucket})`,
          `    access key id:     ${s3.accessKeyId}`,
          `    secret access key: ${s3.secretAccessKey}`,
          '',
          'See what landed in the bucket with the AWS CLI:',
          `  AWS_ACCESS_KEY_ID=${s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${s3.secretAccessKey} \\`,
          `    aws --endpoint-url ${s3.endpoint} --region ${s3.region} s3 ls s3://${s3.bucket}/ --recursive`,
        ]),
    ...(firstUser
      ? [
          'Upload from the command line:',
          `  HOIST_TOKEN=${firstUser.token} npx hoist upload --broker ${info.broker} FILE`,
        ]
      : []),
    '',
    'Press Ctrl-C to stop.',
  ];
  return `${lines.join('\n')}\n`;
}

/** One paragraph for stderr when the page's bundles did not build (the rest runs). */
export function buildWarning(error: string): string {
  const shown = error.split('\n').slice(0, 12).join('\n');
  return `hoist dev: the upload page's browser bundles did not build, so the page shows this error instead:\n${shown}\n`;
}
