/**
 * E11000: a unique index refused the write. Also true for a bulk write (insertMany, bulkWrite)
 * whose every write error is a duplicate key, and false when any of them failed otherwise.
 * Matched by code, not class, so it holds whichever copy of the driver threw.
 */
export function isDuplicateKey(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, writeErrors } = err as { code?: unknown; writeErrors?: unknown };
  if (writeErrors !== undefined) {
    const list = (Array.isArray(writeErrors) ? writeErrors : [writeErrors]) as { code?: unknown }[];
    return list.length > 0 && list.every((e) => e?.code === 11000);
  }
  return code === 11000;
}
