import type { z } from 'zod';

/** One problem found while validating an event, addressed from the envelope root. */
export interface ContractIssue {
  /** Dotted path from the envelope root, e.g. `data.rating`, `data.input.0.role`; `''` for the root. */
  path: string;
  /** Human readable, without the path, e.g. `expected integer 1..5`. */
  message: string;
}

/**
 * Thrown by `createEvent` / `parseEvent` (and returned by `safeParseEvent`) when an event does not
 * match the contract. `message` is every issue as `path: message`, joined with `; `.
 */
export class ContractValidationError extends Error {
  override readonly name = 'ContractValidationError';
  readonly issues: ContractIssue[];

  constructor(issues: ContractIssue[]) {
    super(issues.map(formatIssue).join('; ') || 'invalid event');
    this.issues = issues;
  }
}

export function formatIssue(issue: ContractIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}

type PathSegment = PropertyKey;

function joinPath(segments: readonly PathSegment[]): string {
  return segments.map((s) => String(s)).join('.');
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return typeof value;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

/** Rewords zod's defaults (kept when a schema has a custom message) and flags missing fields. */
function humanMessage(issue: z.core.$ZodIssue, received: unknown): string {
  const isDefault = issue.message.startsWith('Invalid input') || issue.message.startsWith('Invalid option');
  let message = issue.message;
  if (isDefault && issue.code === 'invalid_type') {
    message =
      received === undefined
        ? `expected ${issue.expected}`
        : `expected ${issue.expected}, got ${describeType(received)}`;
  } else if (isDefault && issue.code === 'invalid_value') {
    message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (issue.code === 'invalid_key' && issue.issues.length > 0) {
    message = `invalid key: ${issue.issues[0].message}`;
  }
  const missing =
    received === undefined &&
    (issue.code === 'invalid_type' || issue.code === 'invalid_value' || issue.code === 'invalid_union');
  return missing ? `required field missing (${message})` : message;
}

/**
 * Flattens zod issues into path-level issues with a prefix (e.g. `['data']`). `root` is the value that
 * was validated (used to say what was received). Unknown keys become one issue per key whose path
 * names the key; a union reports the one branch that matched the shape, if there is exactly one.
 */
export function fromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  root: unknown,
  prefix: readonly PathSegment[] = [],
): ContractIssue[] {
  const out: ContractIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          path: joinPath([...path, key]),
          message: 'unknown field (not part of this version of the schema)',
        });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Prefer the branch whose failure is not simply "wrong type at the top": it matched the shape.
      const deep = issue.errors.filter((branch) => branch.some((i) => i.path.length > 0));
      if (deep.length === 1) {
        out.push(...fromZodIssues(deep[0], valueAt(root, issue.path), path));
        continue;
      }
    }
    out.push({ path: joinPath(path), message: humanMessage(issue, valueAt(root, issue.path)) });
  }
  return out;
}
