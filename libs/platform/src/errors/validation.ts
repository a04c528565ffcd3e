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
