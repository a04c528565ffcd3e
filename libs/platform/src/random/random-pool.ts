/**
 * Cryptographically random bytes for hot paths, from a pool refilled 8 KiB at a time.
 *
 * One randomBytes() call per request cost ~10 µs on a loaded service (the request context's ids),
 * and uuid's own pool (256 bytes, a refill every 16 UUIDs) still ~1 µs per exposure event in a CPU
 * profile of POST /v1/assign. Node's randomUUID() and uuid's v7 use the same technique: a buffer
 * from the system's CSPRNG, each byte handed out once, never reused. A refill allocates a new
 * buffer, so views handed out earlier keep their bytes.
 */
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 8 * 1024;
let pool = Buffer.alloc(0);
let offset = 0;

function take(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > POOL_BYTES) {
    throw new RangeError(`random pool: a whole number of bytes from 0 to ${POOL_BYTES}, not ${n}`);
  }
  if (offset + n > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const at = offset;
  offset += n;
  return at;
}

/** `n` random bytes (a view into the pool: do not write to it). */
export function pooledRandomBytes(n: number): Buffer {
  const at = take(n);
  return pool.subarray(at, at + n);
}

/** `n` random bytes as 2n lowercase hex digits. */
export function pooledRandomHex(n: number): string {
  const at = take(n);
  return pool.toString('hex', at, at + n);
}
