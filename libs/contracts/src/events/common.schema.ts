import { z } from 'zod';
import { isWellFormedText, nonEmptyText, OPAQUE_ID_PATTERN, promptName, text } from './text.schema';

/**
 * Building blocks shared by the event schemas.
 *
 * Every object schema is built through a {@link SchemaKit} so the catalog can be produced twice from
 * one source: `STRICT_KIT` (unknown fields are errors: what producers and the committed JSON Schemas
 * use) and `TOLERANT_KIT` (unknown fields are stripped: what `parseEvent(raw, { tolerateUnknownFields })`
 * uses, so a consumer on an older minor keeps working when a producer adds an optional field).
 */
export interface SchemaKit {
  readonly object: typeof z.strictObject;
}

export const STRICT_KIT: SchemaKit = { object: z.strictObject };

// z.object strips unknown keys; its inferred output equals the strict one (the shape), only the
// unknown-key policy differs, so presenting it under the strictObject signature is type-safe for outputs.
export const TOLERANT_KIT: SchemaKit = {
  object: ((shape: z.ZodRawShape, params?: Parameters<typeof z.object>[1]) =>
    z.object(shape, params)) as unknown as typeof z.strictObject,
};

/** Documentation metadata of the contract schemas (ids, titles, descriptions) used for JSON Schema output. */
export interface ContractSchemaMeta {
  id?: string;
  title?: string;
  description?: string;
}

/**
 * A registry local to this library (not zod's global one, which other code may also use).
 * `toJsonSchemas()` and `buildAsyncApiDocument()` read it.
 */
export const CONTRACT_SCHEMA_METADATA = z.registry<ContractSchemaMeta>();

/** Attaches a description that ends up in the generated JSON Schema. */
export function doc<T extends z.ZodType>(schema: T, description: string): T {
  CONTRACT_SCHEMA_METADATA.add(schema, { description });
  return schema;
}

/**
 * Any JSON value (what `JSON.parse` can return): numbers are finite, strings and object keys are
 * well-formed text (no lone surrogates).
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const jsonKey = () =>
  z.string().refine(isWellFormedText, {
    error: 'expected well-formed Unicode keys (a lone surrogate has no UTF-8 encoding)',
  });

export const JsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union(
    [
      text(),
      z.number(),
      z.boolean(),
      z.null(),
      z.array(JsonValueSchema),
      z.record(jsonKey(), JsonValueSchema),
    ],
    {
      error: 'expected a JSON value (string, finite number, boolean, null, array or object)',
    },
  ),
);

CONTRACT_SCHEMA_METADATA.add(JsonValueSchema, { id: 'JsonValue', description: 'Any JSON value.' });

export const JsonObjectSchema = z.record(jsonKey(), JsonValueSchema, { error: 'expected a JSON object' });

/** RFC 3339 / ISO 8601 date-time with `Z` or a numeric offset, e.g. `2025-01-31T12:00:00.000Z`. */
export const isoDateTime = () =>
  z.iso.datetime({ offset: true, error: 'expected an RFC 3339 date-time, e.g. 2025-01-31T12:00:00.000Z' });

/** Free text of 1 to `max` characters without lone surrogates (see text.schema.ts). */
export const nonEmpty = (what = 'string', max = 256) => nonEmptyText(what, max);

/** Content hash of a prompt spec: SHA-256, 64 lowercase hex characters. */
export const promptHash = () =>
  z
    .string({ error: 'expected a prompt hash' })
    .regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex characters' });

export const shortHash = () =>
  z
    .string({ error: 'expected a short hash' })
    .regex(/^[0-9a-f]{12}$/, { error: 'expected 12 lowercase hex characters' });

export const positiveInt = (what = 'integer') =>
  z.int({ error: `expected an ${what} >= 1` }).min(1, { error: `expected an ${what} >= 1` });

export const nonNegativeInt = () =>
  z.int({ error: 'expected an integer >= 0' }).min(0, { error: 'expected an integer >= 0' });

export const nonNegativeFinite = () =>
  z.number({ error: 'expected a finite number >= 0' }).min(0, { error: 'expected a finite number >= 0' });

/** Longest user id, as zod's `max` measures it (zod 4 counts a surrogate pair as one character). */
export const USER_ID_MAX_LENGTH = 512;

/**
 * User ids: any Unicode text of 1 to USER_ID_MAX_LENGTH characters without control characters or
 * lone surrogates (an opaque id, see text.schema.ts). Hashed as UTF-8, like the reference formula.
 */
export const userId = () =>
  z
    .string({ error: 'expected user id' })
    .min(1, { error: 'expected a non-empty user id' })
    .max(USER_ID_MAX_LENGTH, { error: `expected at most ${USER_ID_MAX_LENGTH} characters` })
    .regex(OPAQUE_ID_PATTERN, {
      error:
        'expected a user id without control characters (U+0000-U+001F, U+007F-U+009F) or lone surrogates',
    });

/** Reference to one exact prompt version. */
export const promptRef = (k: SchemaKit) => k.object({ name: promptName(), hash: promptHash() });
