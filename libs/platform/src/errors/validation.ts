import type { z } from 'zod';
import { ValidationFailedError, type ValidationIssue } from './app-error';

function issuePath(path: PropertyKey[]): string {
  return path.map((p) => String(p)).join('.');
}

/** Flattens zod issues into `{ path, message }`, naming unknown fields one by one. */
export function zodIssues(error: z.ZodError, prefix = ''): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of error.issues) {
    const base = [prefix, issuePath(issue.path)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: base ? `${base}.${key}` : key, message: 'unknown field' });
      }
    } else {
      out.push({ path: base, message: issue.message });
    }
  }
  return out;
}

/** Parses an HTTP body (or any boundary input) or throws a 400 with path-level issues. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, prefix = ''): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationFailedError(zodIssues(result.error, prefix));
  return result.data;
}

/**
 * `value` as a record when it is a plain object (JSON's objects) that names no key of a schema's
 * shape outside `allowed`, enumerable or not (zod reads every shape key with `in`), and has no
 * other enumerable key. For hand-written checks that accept a route's common input cheaply and
 * leave everything else to the schema: undefined says "ask the schema", never "invalid".
 */
export function plainObjectWithin(
  value: unknown,
  allowed: ReadonlySet<string>,
  shapeKeys: readonly string[],
): Record<string, unknown> | undefined {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) {
    return undefined;
  }
  for (const key in value) if (!allowed.has(key)) return undefined;
  for (const key of shapeKeys) if (!allowed.has(key) && key in value) return undefined;
  return value as Record<string, unknown>;
}
