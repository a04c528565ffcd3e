/**
 * A compiled validator of each envelope, for the hot path of `safeParseEvent`: the same verdict as
 * the zod schema, for a fraction of its CPU. The zod schemas stay the one definition; the compiled
 * check is derived from them and only ever says "valid" (then zod would have returned the same
 * value) or "ask zod". Every rejection, and so every error message, still comes from zod.
 *
 * How it is derived, all of it mechanically from the zod schema of the envelope:
 * - the structure, types, bounds, patterns and enums: ajv compiles the JSON Schema `toJsonSchema`
 *   generates (the committed one), with zod's regular expressions (without the `u` flag); lengths
 *   are code points in both. That schema is the strict one and describes the output:
 *   an event with a field this version does not know, or without a field zod fills in by default
 *   (feedback `ratingScale`), goes to zod, which strips or fills it in.
 * - the rules JSON Schema cannot express: every zod refinement of the tree is collected. Those on a
 *   value at a fixed path (an object field, not inside an array, record, union or recursion), such
 *   as the feedback cross-field rules, run as zod's own checks on the accepted value; any issue
 *   sends the event to zod. Well-formed text (no lone surrogate) is ensured for the whole record
 *   by {@link mayCheckCompiled} instead. A type with any other refinement, a check its JSON Schema
 *   does not carry, or a zod construct this walker does not know, has no compiled check.
 * - what zod alone would throw on (a stack overflow on deep nesting) never takes this path:
 *   {@link mayCheckCompiled} refuses records with many brackets.
 *
 * `compiled-check.spec.ts` checks that both give the same verdict and the same value over the
 * contract fixtures, hostile and poison records, and random mutations.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { z } from 'zod';
import { ENVELOPE_SCHEMAS } from './envelope';
import type { EventType } from './event-types';
import { isWellFormedText } from './events/text.schema';
import { toJsonSchema } from './json-schema';

/** True when the JSON value (parsed from an accepted record) is a valid event of its type. */
export type CompiledEnvelopeCheck = (value: unknown) => boolean;

/**
 * Records with more `{` and `[` than this go to zod: their depth is bounded by the count, so the
 * compiled path never accepts a record nested deep enough for zod to overflow its stack.
 */
export const COMPILED_CHECK_MAX_BRACKETS = 128;

/**
 * Whether the compiled check may decide for this JSON text:
 * - no `\u` escape and, for a string (bytes decode to well-formed text), no lone surrogate: so every
 *   string of the parsed value is well-formed, which the text refinements require;
 * - no `__proto__` (zod rebuilds objects and records by assignment, which turns such a key into a
 *   prototype: only zod's value is the reference there);
 * - at most {@link COMPILED_CHECK_MAX_BRACKETS} brackets.
 */
export function mayCheckCompiled(text: string, fromString: boolean): boolean {
  if (text.includes('\\u') || text.includes('__proto__')) return false;
  if (fromString && !isWellFormedText(text)) return false;
  return brackets(text, '{', brackets(text, '[', 0)) <= COMPILED_CHECK_MAX_BRACKETS;
}

function brackets(text: string, bracket: string, count: number): number {
  for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) {
    if (++count > COMPILED_CHECK_MAX_BRACKETS) break;
  }
  return count;
}

const ajv = new Ajv2020({
  // zod's regular expressions have no `u` flag.
  unicodeRegExp: false,
  // `date-time` is checked by the pattern zod writes beside it.
  validateFormats: false,
  allErrors: false,
});

const checks = new Map<EventType, CompiledEnvelopeCheck | null>();

/** The compiled check of a type (compiled on first use), or null when only zod can decide. */
export function compiledEnvelopeCheck(type: EventType): CompiledEnvelopeCheck | null {
  let check = checks.get(type);
  if (check === undefined) {
    check = compileEnvelopeCheck(ENVELOPE_SCHEMAS[type], toJsonSchema(type));
    checks.set(type, check);
  }
  return check;
}

interface Rule {
  path: string[];
  check: z.core.$ZodCheck<unknown>;
}

/**
 * The compiled check of a zod schema and the JSON Schema generated from it (io `output`), or null
 * when only zod can decide. Exported for its spec; use {@link compiledEnvelopeCheck}.
 */
export function compileEnvelopeCheck(
  schema: z.ZodType,
  jsonSchema: Record<string, unknown>,
): CompiledEnvelopeCheck | null {
  const rules = refinementsAtFixedPaths(schema);
  if (!rules) return null;
  const { $schema: _schema, $id: _id, ...body } = jsonSchema;
  const validate: ValidateFunction = ajv.compile(body);
  return (value) => {
    try {
      if (!validate(value)) return false;
    } catch {
      return false;
    }
    for (const rule of rules) if (!passes(rule, value)) return false;
    return true;
  };
}

function passes({ path, check }: Rule, root: unknown): boolean {
  let value = root;
  for (const key of path) {
    // zod runs no check of an absent optional or a null nullable value, nor of anything inside one.
    if (value === undefined || value === null) return true;
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined || value === null) return true;
  const payload: z.core.ParsePayload = { value, issues: [] };
  const when = check._zod.def.when;
  if (when && !when(payload)) return true;
  const result = check._zod.check(payload) as unknown;
  return !(result instanceof Promise) && payload.issues.length === 0;
}

/**
 * Checks whose JSON Schema keywords ajv evaluates as zod does (string formats qualify when zod
 * writes their pattern). `multiple_of` is not among them: zod's remainder is float-tolerant.
 */
const IN_JSON_SCHEMA = new Set([
  'min_length',
  'max_length',
  'length_equals',
  'greater_than',
  'less_than',
  'number_format',
  'describe',
  'meta',
]);

/** Wrappers whose value is their inner schema's (output-wise, for a value that is present). */
const TRANSPARENT = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'nonoptional']);
/** Leaves: their checks are all in the JSON Schema (lengths, patterns, formats, bounds). */
const LEAVES = new Set(['string', 'number', 'boolean', 'null', 'enum', 'literal']);

interface WalkedDef {
  type: string;
  format?: string;
  pattern?: unknown;
  checks?: z.core.$ZodCheck<unknown>[];
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  keyType?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  getter?: () => z.core.$ZodType;
}

/**
 * The refinements of a schema tree with the path of the value each applies to, or null when one
 * cannot run at a fixed path or a construct is unknown (the type then has no compiled check).
 */
function refinementsAtFixedPaths(root: z.core.$ZodType): Rule[] | null {
  const rules: Rule[] = [];
  const seen = new Set<z.core.$ZodType>();
  const walk = (schema: z.core.$ZodType, path: string[] | null): boolean => {
    const def = schema._zod.def as unknown as WalkedDef;
    for (const check of def.checks ?? []) {
      const checkDef = check._zod.def as { check: string; fn?: unknown; pattern?: unknown };
      if (checkDef.check === 'custom') {
        if (checkDef.fn === isWellFormedText) continue;
        if (path === null) return false;
        rules.push({ path, check });
      } else if (
        checkDef.check === 'string_format'
          ? !(checkDef.pattern instanceof RegExp)
          : !IN_JSON_SCHEMA.has(checkDef.check)
      ) {
        // A check the JSON Schema would not carry (a format without a pattern, a value rewrite).
        return false;
      }
    }
    // A string format schema (z.iso.datetime(), z.url()) checks itself: only its pattern is in the JSON Schema.
    if (def.type === 'string' && def.format !== undefined && !(def.pattern instanceof RegExp)) return false;
    if (LEAVES.has(def.type)) return true;
    if (TRANSPARENT.has(def.type) && def.innerType) return walk(def.innerType, path);
    // Below here a value is not at a fixed path; a recursive schema is walked once.
    if (path === null || def.type === 'lazy') {
      if (seen.has(schema)) return true;
      seen.add(schema);
    }
    switch (def.type) {
      case 'object':
        return Object.entries(def.shape ?? {}).every(([key, s]) => walk(s, path && [...path, key]));
      case 'array':
        return def.element !== undefined && walk(def.element, null);
      case 'record':
        return (
          def.keyType !== undefined &&
          def.valueType !== undefined &&
          walk(def.keyType, null) &&
          walk(def.valueType, null)
        );
      case 'union':
        return (def.options ?? []).every((s) => walk(s, null));
      case 'lazy':
        return def.getter !== undefined && walk(def.getter(), null);
      default:
        return false;
    }
  };
  return walk(root, []) ? rules : null;
}
