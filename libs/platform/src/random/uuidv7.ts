import { v7 } from 'uuid';

/**
 * A UUIDv7 (RFC 9562): the first 48 bits are the Unix time in milliseconds, the rest is random, so
 * ids sort by creation time. Without `ms`, ids of this process also increase within a millisecond.
 */
export function uuidv7(ms?: number): string {
  return ms === undefined ? v7() : v7({ msecs: ms });
}

/** The Unix time in milliseconds a UUIDv7 carries (its first 48 bits). */
export function uuidv7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
