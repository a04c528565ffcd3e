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

export function optionalText(field: string, value: unknown, maxLength?: number): void {
  if (value !== undefined) requireText(field, value, maxLength);
}

export function requireUserId(field: string, value: unknown): string {
  const problem = userIdProblem(value);
  if (problem) throw new LlmopsValidationError(field, problem.message);
  return value as string;
}

export function optionalNumber(field: string, value: unknown, min = 0, integer = false): void {
  if (value === undefined) return;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (integer && !Number.isInteger(value))
  )
    throw new LlmopsValidationError(field, `expected a finite ${integer ? 'integer' : 'number'} >= ${min}`);
}

export function requireObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new LlmopsValidationError(field, 'expected an object');
  return value as Record<string, unknown>;
}

/** Targeting attributes: an object of string, number or boolean values. */
export function checkAttributes(value: unknown): void {
  if (value === undefined) return;
  const attributes = requireObject('attributes', value);
  for (const [name, v] of Object.entries(attributes)) {
    if (typeof v !== 'string' && typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v)))
      throw new LlmopsValidationError(`attributes.${name}`, 'expected a string, finite number or boolean');
  }
}
