import { hash as oneShotHash } from 'node:crypto';
import { canonicalize } from './canonicalize';

export interface PromptHash {
  /** Lowercase hex SHA-256 of the UTF-8 bytes of `canonical` (64 chars). */
  readonly hash: string;
  /** First 12 hex chars of `hash` (48 bits), for display and logs. */
  readonly shortHash: string;
  /** RFC 8785 canonical JSON of the spec. */
  readonly canonical: string;
}

export const SHORT_HASH_LENGTH = 12;

/**
 * Content address of a prompt version: SHA-256 over the RFC 8785 canonical JSON of the spec.
 * Equal specs (regardless of key order, whitespace or number spelling such as 0.70 vs 0.7)
 * have equal hashes. Throws CanonicalizationError (paths rooted at `spec`) for non-JSON specs.
 */
export function promptHash(spec: unknown): PromptHash {
  const canonical = canonicalize(spec, { rootPath: 'spec' });
  const hash = sha256Hex(canonical);
  return { hash, shortHash: hash.slice(0, SHORT_HASH_LENGTH), canonical };
}

/** Lowercase hex SHA-256 of the UTF-8 encoding of `text`. */
export function sha256Hex(text: string): string {
  return oneShotHash('sha256', text, 'hex');
}
