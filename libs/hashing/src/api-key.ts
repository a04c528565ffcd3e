/**
 * API keys: `llmk_<keyId>_<secret>`.
 *
 * - `keyId`: 20 lowercase hex characters (80 random bits). Public: logs and audit records name it.
 * - `secret`: 32 bytes from the CSPRNG (256 bits), base64url without padding (43 characters).
 *
 * Only `hashKeySecret(secret, pepper)` is ever stored or distributed: HMAC-SHA-256 keyed with a
 * server-side pepper, so a leaked key table cannot be brute-forced without the pepper, and every
 * service that holds the pepper verifies a key locally. `verifyKeySecret` compares in constant time.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'llmk';
export const API_KEY_ID_PATTERN = /^[0-9a-f]{20}$/;
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const KEY_PATTERN = /^llmk_([0-9a-f]{20})_([A-Za-z0-9_-]{43})$/;
/** Longest text worth parsing as a key (anything longer is malformed without looking further). */
export const API_KEY_LENGTH = API_KEY_PREFIX.length + 1 + 20 + 1 + 43;

export interface ApiKeyParts {
  keyId: string;
  secret: string;
}

export interface GeneratedApiKey extends ApiKeyParts {
  /** The whole key, shown to its owner once. */
  key: string;
}

export function generateApiKey(): GeneratedApiKey {
  return apiKeyFromParts(randomBytes(10).toString('hex'), randomBytes(32).toString('base64url'));
}

/** The key text of a key id and secret (both validated). */
export function apiKeyFromParts(keyId: string, secret: string): GeneratedApiKey {
  if (!API_KEY_ID_PATTERN.test(keyId)) throw new Error('an API key id is 20 lowercase hex characters');
  if (!SECRET_PATTERN.test(secret)) throw new Error('an API key secret is 43 base64url characters');
  return { keyId, secret, key: `${API_KEY_PREFIX}_${keyId}_${secret}` };
}

/** The key id and secret of a well-formed key, or undefined. */
export function parseApiKey(text: string): ApiKeyParts | undefined {
  if (text.length !== API_KEY_LENGTH) return undefined;
  const m = KEY_PATTERN.exec(text);
  return m ? { keyId: m[1], secret: m[2] } : undefined;
}

/** HMAC-SHA-256 of the secret keyed with the pepper, base64url. */
export function hashKeySecret(secret: string, pepper: string): string {
  return createHmac('sha256', pepper).update(secret, 'utf8').digest('base64url');
}

/** Whether `secret` hashes to `storedHash`, compared in constant time. */
export function verifyKeySecret(secret: string, pepper: string, storedHash: string): boolean {
  const actual = Buffer.from(hashKeySecret(secret, pepper), 'base64url');
  const expected = Buffer.from(storedHash, 'base64url');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
