/** Client-side argument checks: what the SDK can refuse before sending anything. */
import { userIdProblem } from '@llmops/hashing';
import { LlmopsValidationError } from './errors';

export function requireText(field: string, value: unknown, maxLength = 1_000_000): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new LlmopsValidationError(field, 'expected a non-empty string');
  if (value.length > maxLength)
    throw new LlmopsValidationError(field, `expected at most ${maxLength} characters`);
  return value;
}

export function requireUserId(field: string, value: unknown): string {
  const problem = userIdProblem(value);
  if (problem) throw new LlmopsValidationError(field, problem.message);
  return value as string;
}

export function requireObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new LlmopsValidationError(field, 'expected an object');
  return value as Record<string, unknown>;
}

/**
 * The assignment service's rules for targeting attributes (`POST /v1/assign`, `POST /v1/exposures`),
 * mirrored because this bundle stays free of zod; a spec checks them against the service's schema.
 * Lengths are in code points (an astral character such as an emoji counts once), as the service
 * counts them.
 */
export const MAX_ATTRIBUTES = 100;
export const MAX_ATTRIBUTE_NAME_LENGTH = 128;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 1024;
/** An attribute name: no control characters (C0, DEL, C1) and no lone surrogates. */
// eslint-disable-next-line no-control-regex
const ATTRIBUTE_NAME = /^(?:[^\u0000-\u001f\u007f-\u009f\ud800-\udfff]|[\ud800-\udbff][\udc00-\udfff])+$/;

function isWellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** True when `s` has more than `max` code points; counted only when its UTF-16 length is above `max`. */
function longerThan(s: string, max: number): boolean {
  if (s.length <= max) return false;
  let n = 0;
  for (const _ of s) if (++n > max) return true;
  return false;
}

/**
 * Targeting attributes, as the service accepts them: at most 100; names of 1 to 128 characters
 * without control characters or lone surrogates; values a string of at most 1,024 characters
 * without lone surrogates, a finite number or a boolean. Checked before a local answer, so an
 * exposure the service would refuse is never queued (it would fail its whole batch).
 */
export function checkAttributes(value: unknown): void {
  if (value === undefined) return;
  const attributes = requireObject('attributes', value);
  const names = Object.keys(attributes);
  if (names.length > MAX_ATTRIBUTES)
    throw new LlmopsValidationError('attributes', `expected at most ${MAX_ATTRIBUTES} attributes`);
  for (const name of names) {
    if (longerThan(name, MAX_ATTRIBUTE_NAME_LENGTH) || !ATTRIBUTE_NAME.test(name))
      throw new LlmopsValidationError(
        'attributes',
        `expected attribute names of 1 to ${MAX_ATTRIBUTE_NAME_LENGTH} characters without control characters or lone surrogates`,
      );
    const v = attributes[name];
    if (typeof v === 'string') {
      if (longerThan(v, MAX_ATTRIBUTE_VALUE_LENGTH) || !isWellFormed(v))
        throw new LlmopsValidationError(
          `attributes.${name}`,
          `expected a string of at most ${MAX_ATTRIBUTE_VALUE_LENGTH} characters without lone surrogates`,
        );
    } else if (typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v)))
      throw new LlmopsValidationError(`attributes.${name}`, 'expected a string, finite number or boolean');
  }
}
