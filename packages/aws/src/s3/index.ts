/** S3 error codes, the operation classifier and the XML helpers the local server speaks. */
export * from './errors.ts';
export * from './operations.ts';
export * from './xml.ts';
