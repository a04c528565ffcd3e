/**
 * Random hex for hot paths (the trace and span ids of every request), from a pool of
 * cryptographically random bytes refilled 8 KiB at a time: one randomBytes() call per request
 * costs several times more than the rest of the id. Node's randomUUID() and uuid's v7 use the same
 * technique: a buffer from the system's CSPRNG, each byte handed out once, never reused.
 */
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 8 * 1024;
let pool = Buffer.alloc(0);
let offset = 0;

/** `n` random bytes as 2n lowercase hex digits. */
export function pooledRandomHex(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > POOL_BYTES) {
    throw new RangeError(`random pool: a whole number of bytes from 0 to ${POOL_BYTES}, not ${n}`);
  }
  if (offset + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  offset += n;
  return pool.toString('hex', offset - n, offset);
}
