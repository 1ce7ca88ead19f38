/** The XML element that carries each checksum algorithm's value (ListParts, Complete, GetObjectAttributes). */
import type { ChecksumAlgorithm } from '@hoist/protocol';

export const CHECKSUM_ELEMENT: Record<ChecksumAlgorithm, string> = {
  CRC32: 'ChecksumCRC32',
  CRC32C: 'ChecksumCRC32C',
  CRC64NVME: 'ChecksumCRC64NVME',
  SHA1: 'ChecksumSHA1',
  SHA256: 'ChecksumSHA256',
};

export function checksumElement(algorithm: ChecksumAlgorithm): string {
  return CHECKSUM_ELEMENT[algorithm];
}
