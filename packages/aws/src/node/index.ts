/** Node-only helpers of @hoist/aws (node:crypto); the rest of the package runs in browsers too. */
export { nodeSigV4Crypto } from './sigv4-crypto.ts';
