import { InvalidUserIdError } from './errors';
import { firstLoneSurrogate } from './unicode';

/**
 * Maximum user id length, counted in UTF-16 code units (JavaScript `string.length`), not in
 * code points or UTF-8 bytes: an id of 512 emoji-free BMP characters is accepted, 256 emoji
 * (2 code units each) are accepted, 257 emoji are not. Worst case 512 × 3 = 1536 UTF-8 bytes.
 */
export const MAX_USER_ID_LENGTH = 512;

/**
 * Why `userId` cannot be bucketed, or null if it can. Rules: a string; non-empty; at most
 * MAX_USER_ID_LENGTH UTF-16 code units; well-formed UTF-16 (no lone surrogates), because ids are
 * hashed as UTF-8 and a lone surrogate has no UTF-8 encoding (Node would silently substitute
 * U+FFFD, Python's str.encode() raises, so SDKs would disagree).
 * No trimming or normalisation is applied: "abc" and "abc " are different users.
 */
export function userIdProblem(userId: unknown): InvalidUserIdError | null {
  if (typeof userId !== 'string') {
    return new InvalidUserIdError(
      'not-a-string',
      `expected a string, got ${userId === null ? 'null' : typeof userId}`,
    );
  }
  if (userId.length === 0) return new InvalidUserIdError('empty', 'must not be empty');
  if (userId.length > MAX_USER_ID_LENGTH) {
    return new InvalidUserIdError(
      'too-long',
      `length ${userId.length} exceeds ${MAX_USER_ID_LENGTH} UTF-16 code units`,
    );
  }
  const bad = firstLoneSurrogate(userId);
  if (bad !== -1) {
    return new InvalidUserIdError(
      'lone-surrogate',
      `lone surrogate at index ${bad} (not encodable as UTF-8)`,
    );
  }
  return null;
}

export function isValidUserId(userId: unknown): userId is string {
  return userIdProblem(userId) === null;
}

/** Returns `userId` unchanged if valid, else throws InvalidUserIdError. */
export function validateUserId(userId: unknown): string {
  const problem = userIdProblem(userId);
  if (problem) throw problem;
  return userId as string;
}
