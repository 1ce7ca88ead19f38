/**
 * ListObjects and ListMultipartUploads pages: the walk of listing.ts over the
 * key indexes of the objects and uploads tables.
 */
import { commonPrefix, type Entry, walk } from './listing.ts';
import { row, rows, type Statements, type SummaryRow, toSummary, toUpload, type UploadRow } from './meta.ts';
import type { ListObjectsQuery, ListObjectsResult, ListUploadsQuery, ListUploadsResult } from './types.ts';

export function listObjectsPage(sql: Statements, bucket: string, query: ListObjectsQuery): ListObjectsResult {
  const result: ListObjectsResult = { contents: [], commonPrefixes: [], isTruncated: false };
  // S3 answers max-keys=0 with an empty, untruncated page.
  if (query.maxKeys === 0) return result;
  const { entries, truncated } = walk<SummaryRow>({
    ...query,
    limit: query.maxKeys,
    keyOf: (r) => r.key,
    fetch: (lower, upper, limit) =>
      upper === undefined
        ? rows(sql.objectsFrom, bucket, lower, limit)
        : rows(sql.objectsBetween, bucket, lower, upper, limit),
  });
  for (const entry of entries) {
    if (entry.prefix !== undefined) result.commonPrefixes.push(entry.prefix);
    else result.contents.push(toSummary(entry.row));
  }
  result.isTruncated = truncated;
  const last = entries.at(-1);
  if (last !== undefined) result.lastReturned = last.prefix ?? last.row.key;
  return result;
}

/**
 * Uploads ordered by key, then (as S3 does) by initiation time, then id. With
 * an uploadIdMarker, the marker key's uploads initiated after the marker
 * upload come first; an unknown uploadIdMarker (the upload has finished since)
 * continues with the next key, as its position among the key's uploads is lost.
 */
export function listUploadsPage(sql: Statements, bucket: string, query: ListUploadsQuery): ListUploadsResult {
  const { prefix, delimiter, keyMarker, uploadIdMarker, maxUploads } = query;
  const result: ListUploadsResult = { uploads: [], commonPrefixes: [], isTruncated: false };
  if (maxUploads === 0) return result;
  let first: UploadRow[] = [];
  const marker = uploadIdMarker === '' ? undefined : row<UploadRow>(sql.getUpload, uploadIdMarker);
  if (
    marker !== undefined &&
    marker.bucket === bucket &&
    marker.key === keyMarker &&
    keyMarker.startsWith(prefix) &&
    commonPrefix(keyMarker, prefix, delimiter) === undefined
  ) {
    const after = [marker.initiated, marker.upload_id] as const;
    first = rows<UploadRow>(sql.uploadsOfKeyAfter, bucket, keyMarker, ...after, maxUploads + 1);
  }
  const { entries, truncated } =
    first.length > maxUploads
      ? { entries: [], truncated: true }
      : walk<UploadRow>({
          prefix,
          delimiter,
          after: keyMarker,
          limit: maxUploads - first.length,
          keyOf: (r) => r.key,
          fetch: (lower, upper, limit) =>
            upper === undefined
              ? rows(sql.uploadsFrom, bucket, lower, limit)
              : rows(sql.uploadsBetween, bucket, lower, upper, limit),
        });
  const all: Entry<UploadRow>[] = [...first.slice(0, maxUploads).map((r) => ({ row: r })), ...entries];
  for (const entry of all) {
    if (entry.prefix !== undefined) result.commonPrefixes.push(entry.prefix);
    else result.uploads.push(toUpload(entry.row));
  }
  result.isTruncated = truncated;
  const last = all.at(-1);
  if (last?.prefix !== undefined) result.nextKeyMarker = last.prefix;
  else if (last?.row !== undefined) {
    result.nextKeyMarker = last.row.key;
    result.nextUploadIdMarker = last.row.upload_id;
  }
  return result;
}
