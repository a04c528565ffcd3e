/**
 * Server-issued feedback ids of the paged design: UUIDv7s (RFC 9562) that the service recognises as
 * its own, so that an edit arriving before the id's revision-1 claim is readable is planned as
 * revision 2, never as a second revision 1. Layout (README, "Recognising the service's own ids"):
 * 48-bit ms time, version, a 12-bit counter (method 1: random start below 2,048 each millisecond,
 * counting up), variant + a 30-bit node id per process, and a 32-bit tag, the first bits of
 * SHA-256(key || bytes 0-11). The message has a fixed length, so the keyed hash cannot be extended;
 * without the key an id passes with odds of 1 in 2^32. All replicas must share FEEDBACK_ID_KEYS.
 */
import { hash, randomInt } from 'node:crypto';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The counter starts below half its span, so it can count up 2,048 times before it overflows. */
const COUNTER_START_SPAN = 0x800;
const COUNTER_SPAN = 0x1000;

export class ServerFeedbackIds {
  /** Per key: key || 12 message bytes, reused for every tag (single-threaded). */
  private readonly tagInputs: Buffer[];
  /** The input of the first key: it tags new ids. */
  private readonly issuingInput: Buffer;
  private readonly bytes = Buffer.alloc(16);
  private readonly node: number;
  private lastMs = -1;
  private counter = 0;

  /**
   * @param keys the first key tags new ids; every key is accepted when recognising (rotation:
   *   put the new key first and keep the old one until no id of the old key can still be edited).
   */
  constructor(
    keys: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    if (keys.length === 0 || keys.some((k) => k.length === 0)) {
      throw new Error('ServerFeedbackIds: at least one key, and no empty key');
    }
    this.tagInputs = keys.map((k) => {
      const keyBytes = Buffer.from(k, 'utf8');
      const input = Buffer.alloc(keyBytes.length + 12);
      keyBytes.copy(input, 0);
      return input;
    });
    this.issuingInput = this.tagInputs[0] as Buffer;
    this.node = randomInt(0, 2 ** 30);
  }

  /** A new server-issued UUIDv7 (lowercase); strictly increasing within this generator. */
  next(): string {
    const now = this.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.counter = randomInt(0, COUNTER_START_SPAN);
    } else if (++this.counter === COUNTER_SPAN) {
      // Same millisecond (or the clock went back) and the counter is spent: borrow the next one.
      this.lastMs++;
      this.counter = randomInt(0, COUNTER_START_SPAN);
    }
    const b = this.bytes;
    b.writeUIntBE(this.lastMs, 0, 6);
    b[6] = 0x70 | (this.counter >>> 8);
    b[7] = this.counter & 0xff;
    b.writeUInt32BE((0x80000000 | this.node) >>> 0, 8);
    const hex = b.toString('hex', 0, 12);
    const tag = tagOf(this.issuingInput, b);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}${tag}`;
  }

  /** True when `id` was issued by a generator with one of these keys. */
  isServerIssued(id: string): boolean {
    if (id.length !== 36 || !UUID_V7.test(id)) return false;
    const b = Buffer.from(id.replaceAll('-', ''), 'hex');
    const tag = id.slice(28);
    // A plain comparison: a 32-bit tag that only decides how an edit is planned is no secret worth
    // a timing-safe compare.
    return this.tagInputs.some((input) => tagOf(input, b) === tag);
  }
}

/** 8 hex digits. (A hex digest is faster than a Buffer one in Node 20.) */
function tagOf(input: Buffer, idBytes: Buffer): string {
  idBytes.copy(input, input.length - 12, 0, 12);
  return hash('sha256', input, 'hex').slice(0, 8);
}
