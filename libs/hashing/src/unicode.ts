/**
 * Index of the first lone (unpaired) UTF-16 surrogate in `s`, or -1 if `s` is well-formed
 * UTF-16 and therefore has a UTF-8 encoding. (String.prototype.isWellFormed is ES2024; this
 * repo targets ES2023 typings, and we also want the position for error messages.)
 */
export function firstLoneSurrogate(s: string): number {
  // The native check answers at once for a one-byte string; the scan below only finds where.
  if ((s as string & { isWellFormed(): boolean }).isWellFormed()) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}
