/** Parsing a request's `Date` header, the fallback of x-amz-date in SigV4. */

/**
 * A `Date` header: RFC 7231's IMF-fixdate (`… GMT`), or RFC 2822 with a numeric zone
 * (`… -0000`), which is what botocore sends when a caller sets Date (email.utils.formatdate).
 */
const HTTP_DATE = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|[+-]\d{4})$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ms since the epoch of a Date header, or undefined when it is neither accepted form. */
export function parseHttpDate(value: string): number | undefined {
  const m = HTTP_DATE.exec(value);
  const month = m ? MONTHS.indexOf(m[2] ?? '') : -1;
  if (!m || month < 0) return undefined;
  const zone = m[7] ?? 'GMT';
  const offsetMinutes =
    zone === 'GMT'
      ? 0
      : (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3)));
  const local = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  // Reject impossible dates (31 Feb) rather than letting Date.UTC roll them over.
  if (new Date(local).getUTCDate() !== Number(m[1])) return undefined;
  return local - offsetMinutes * 60_000;
}
