/**
 * An exact map from strings to numbers that keeps no string: each key is stored as the first 128 bits
 * of its SHA-256 (its fingerprint), in an open-addressing table of typed arrays (linear probing, at
 * most 3/4 full). A slot costs 24 bytes outside the JavaScript heap, so millions of keys cost tens of
 * megabytes and nothing for the garbage collector to walk.
 *
 * Exact up to fingerprint collisions: two of n distinct keys share a fingerprint with probability at
 * most n² / 2¹²⁹ (for n = 10⁹, below 1.5 · 10⁻²¹), far below the rate of undetected hardware memory
 * errors. No approximation otherwise: no key is ever merged with another or dropped.
 */
import { hash } from 'node:crypto';

/** Words of a fingerprint (4 × 32 bits). */
const WORDS = 4;

export class FingerprintMap {
  /** WORDS words per slot; an all-zero fingerprint marks an empty slot (see `fingerprintOf`). */
  private keys: Uint32Array;
  private values: Float64Array;
  private mask: number;
  private count = 0;
  /** The fingerprint being looked up (one buffer, reused). */
  private readonly probe = new Uint32Array(WORDS);

  constructor(capacity = 1024) {
    let slots = 16;
    while (slots * 0.75 < capacity) slots *= 2;
    this.keys = new Uint32Array(slots * WORDS);
    this.values = new Float64Array(slots);
    this.mask = slots - 1;
  }

  get size(): number {
    return this.count;
  }

  get(key: string): number | undefined {
    return this.getFingerprint(fingerprintOf(key, this.probe));
  }

  set(key: string, value: number): void {
    this.setFingerprint(fingerprintOf(key, this.probe), value);
  }

  /** The value of `key`; when absent, stores `value` and returns undefined (one fingerprint, one probe). */
  getOrSet(key: string, value: number): number | undefined {
    return this.getOrSetFingerprint(fingerprintOf(key, this.probe), value);
  }

  /** `get` by a fingerprint from `fingerprintOf` (a key looked up in several maps is hashed once). */
  getFingerprint(fp: Uint32Array): number | undefined {
    const at = this.find(fp);
    return at < 0 ? undefined : this.values[at];
  }

  /** `set` by a fingerprint from `fingerprintOf`. */
  setFingerprint(fp: Uint32Array, value: number): void {
    const at = this.find(fp);
    if (at >= 0) this.values[at] = value;
    else this.insert(fp, value);
  }

  /** `getOrSet` by a fingerprint from `fingerprintOf`. */
  getOrSetFingerprint(fp: Uint32Array, value: number): number | undefined {
    const at = this.find(fp);
    if (at >= 0) return this.values[at];
    this.insert(fp, value);
    return undefined;
  }

  /** Stores `value` under `fp`, which is not in the table. */
  private insert(fp: Uint32Array, value: number): void {
    if ((this.count + 1) * 4 > (this.mask + 1) * 3) this.grow();
    const slot = this.emptySlot(fp);
    this.keys.set(fp, slot * WORDS);
    this.values[slot] = value;
    this.count++;
  }

  /** The slot holding `fp`, or -1. */
  private find(fp: Uint32Array): number {
    for (let slot = fp[0] & this.mask; ; slot = (slot + 1) & this.mask) {
      const o = slot * WORDS;
      const k = this.keys;
      if ((k[o] | k[o + 1] | k[o + 2] | k[o + 3]) === 0) return -1;
      if (k[o] === fp[0] && k[o + 1] === fp[1] && k[o + 2] === fp[2] && k[o + 3] === fp[3]) return slot;
    }
  }

  private emptySlot(fp: Uint32Array): number {
    for (let slot = fp[0] & this.mask; ; slot = (slot + 1) & this.mask) {
      const o = slot * WORDS;
      const k = this.keys;
      if ((k[o] | k[o + 1] | k[o + 2] | k[o + 3]) === 0) return slot;
    }
  }

  private grow(): void {
    const keys = this.keys;
    const values = this.values;
    const slots = (this.mask + 1) * 2;
    this.keys = new Uint32Array(slots * WORDS);
    this.values = new Float64Array(slots);
    this.mask = slots - 1;
    for (let old = 0; old < values.length; old++) {
      const fp = keys.subarray(old * WORDS, old * WORDS + WORDS);
      if ((fp[0] | fp[1] | fp[2] | fp[3]) === 0) continue;
      const slot = this.emptySlot(fp);
      this.keys.set(fp, slot * WORDS);
      this.values[slot] = values[old];
    }
  }
}

/**
 * Fills `into` (4 words) with the fingerprint of `key`, the first 128 bits of its SHA-256, and
 * returns it; never all zero (that marks an empty slot).
 */
export function fingerprintOf(key: string, into: Uint32Array = new Uint32Array(WORDS)): Uint32Array {
  const digest = hash('sha256', key, 'buffer');
  for (let w = 0; w < WORDS; w++) into[w] = digest.readUInt32LE(w * 4);
  if ((into[0] | into[1] | into[2] | into[3]) === 0) into[0] = 1;
  return into;
}
