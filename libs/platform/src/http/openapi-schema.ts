/**
 * The services' OpenAPI documents: OpenAPI 3.1.0, whose Schema Object is JSON Schema 2020-12, the
 * dialect zod writes. `openApiSchema` turns a zod schema into a Schema Object; `finalizeOpenApiDocument`
 * makes the assembled document self-contained and honest about errors:
 *  - every `$defs` (zod writes recursive schemas, such as JSON values, that way) moves into
 *    `components.schemas` and its `$ref`s point there, so every `$ref` resolves in the document;
 *  - every error response (4xx/5xx) carries the platform's error body schema (`ErrorBody`);
 *  - every operation documents the errors the platform itself can answer: 400 (a malformed URL,
 *    invalid parameters), 500 and 503 everywhere, 404 where the path names a resource, and 400
 *    invalid_json, 413 and 415 where there is a request body;
 *  - patterns and tuples are written in forms every JSON Schema tool reads (see `portable`).
 * `ApiQueryFrom` documents query parameters from the zod schema the handler parses them with.
 */
import { createHash } from 'node:crypto';
import { applyDecorators } from '@nestjs/common';
import {
  ApiQuery,
  type OpenAPIObject,
  type OperationObject,
  type ResponseObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { z } from 'zod';

export const OPENAPI_VERSION = '3.1.0';

/** A zod schema as an OpenAPI 3.1 Schema Object (request bodies as input, answers as output). */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any', io }) as Record<string, unknown>;
  // The document's dialect (OpenAPI 3.1: JSON Schema 2020-12) applies; a per-schema $schema adds nothing.
  delete json.$schema;
  return json as SchemaObject;
}

/** The platform's error body (see mapError), as every error response of every service answers it. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Stable machine-readable snake_case code, e.g. validation_failed'),
    message: z.string().describe('What went wrong and what to fix'),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Structured details, e.g. issues[] with the field path of each validation problem'),
  }),
});

const ERROR_BODY = 'ErrorBody';
const ERROR_REF = { $ref: `#/components/schemas/${ERROR_BODY}` };

/** The platform's error body schema in every service's document (for an answer that may be one). */
export function openApiErrorBody(): SchemaObject {
  return { ...ERROR_REF } as SchemaObject;
}

/**
 * Documents each property of a query schema as a query parameter with its JSON Schema (the zod
 * schema the handler validates with, so the document cannot drift from the validation).
 */
export function ApiQueryFrom(schema: z.ZodObject): MethodDecorator {
  const json = openApiSchema(schema);
  const required = new Set(json.required ?? []);
  return applyDecorators(
    ...Object.entries(json.properties ?? {}).map(([name, property]) => {
      const { description, ...rest } = property as SchemaObject;
      return ApiQuery({ name, required: required.has(name), description, schema: rest });
    }),
  );
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** The errors the platform answers on every operation, whatever the route does. */
const PLATFORM_ERRORS: Record<string, string> = {
  '400': 'validation_failed (parameters; details.issues names each one) | invalid_url',
  '500': 'internal_error (details.correlationId identifies the request in the logs)',
  '503': 'service_unavailable | database_unavailable | broker_unavailable (Retry-After)',
};
const PATH_PARAM_ERRORS: Record<string, string> = {
  '404': 'The resource the path names does not exist (error.code says which)',
};
const BODY_ERRORS: Record<string, string> = {
  '400': 'validation_failed (details.issues lists every field path) | invalid_json',
  '413': 'payload_too_large',
  '415': 'unsupported_media_type (send application/json)',
};

/**
 * Makes an assembled document valid OpenAPI 3.1 (see the module comment). Idempotent; mutates and
 * returns `doc`.
 */
export function finalizeOpenApiDocument(doc: OpenAPIObject): OpenAPIObject {
  doc.openapi = OPENAPI_VERSION;
  const components = (doc.components ??= {});
  const schemas = (components.schemas ??= {}) as Record<string, unknown>;
  schemas[ERROR_BODY] = openApiSchema(errorBodySchema, 'output');

  for (const item of Object.values(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as OperationObject | undefined;
      if (op) documentPlatformErrors(op, [...(item.parameters ?? []), ...(op.parameters ?? [])]);
    }
  }
  hoistDefs(doc, schemas);
  portable(doc);
  return doc;
}

/**
 * Two rewrites to forms that every JSON Schema tool reads (JSON Schema recommends patterns without
 * Unicode property escapes; some OpenAPI tools mishandle closed tuples):
 *  - a pattern is written over Unicode scalar values (see portablePattern): `\p{Cc}` becomes its
 *    code point ranges, and surrogates (`\p{Cs}`, `\ud800-\udfff`, UTF-16 surrogate pairs) are
 *    dropped. Regex engines over code points (Rust's, Python's generators) cannot express
 *    surrogates, which are not characters. Whatever the pattern says, the services refuse text with
 *    a lone surrogate;
 *  - a closed tuple of identical items (`prefixItems: [s, s]`, `items: false`) becomes
 *    `items: s` with `minItems` = `maxItems` = its length.
 */
function portable(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(portable);
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (typeof o.pattern === 'string') o.pattern = portablePattern(o.pattern);
  const prefix = o.prefixItems;
  if (Array.isArray(prefix) && prefix.length > 0 && o.items === false) {
    const first = JSON.stringify(prefix[0]);
    if (prefix.every((p) => JSON.stringify(p) === first)) {
      delete o.prefixItems;
      o.items = prefix[0] as unknown;
      o.minItems = prefix.length;
      o.maxItems = prefix.length;
    }
  }
  Object.values(o).forEach(portable);
}

const UNICODE_CLASSES: Record<string, string> = {
  '\\p{Cc}': '\\x00-\\x1f\\x7f-\\x9f',
  '\\p{Cs}': '',
};
/** A surrogate pair as UTF-16 code units: in a code point engine, no string holds one. */
const SURROGATE_PAIR = /\|\[\\ud800-\\udbff\]\[\\udc00-\\udfff\]|\[\\ud800-\\udbff\]\[\\udc00-\\udfff\]\|/gi;

/**
 * The pattern over Unicode scalar values: `[^\p{Cc}\p{Cs}]` as `[^\x00-\x1f\x7f-\x9f]`, a
 * surrogate range dropped from a character class, a surrogate-pair alternative dropped (a code point
 * engine sees an astral character as one character, which the class then accepts). Anything else
 * stays.
 */
export function portablePattern(pattern: string): string {
  return pattern
    .replace(SURROGATE_PAIR, '')
    .replace(/\[(?:\\.|[^\]\\])*\]/g, (cls) =>
      cls.replace(/\\p\{C[cs]\}/g, (escape) => UNICODE_CLASSES[escape]).replace(/\\ud800-\\udfff/gi, ''),
    );
}

function documentPlatformErrors(op: OperationObject, parameters: unknown[]): void {
  const responses = (op.responses ??= {}) as Record<string, ResponseObject>;
  const inPath = parameters.some((p) => (p as { in?: string }).in === 'path');
  const defaults = {
    ...PLATFORM_ERRORS,
    ...(inPath ? PATH_PARAM_ERRORS : {}),
    ...(op.requestBody ? BODY_ERRORS : {}),
  };
  for (const [status, description] of Object.entries(defaults)) {
    responses[status] ??= { description };
  }
  for (const [status, response] of Object.entries(responses)) {
    if (!/^[45]/.test(status) || '$ref' in response) continue;
    response.content ??= { 'application/json': { schema: ERROR_REF } };
  }
}

/**
 * Moves every nested `$defs` into `components.schemas` and rewrites the `$ref`s that point into it.
 * A `$defs` table is named by a hash of its content, so the same table (e.g. the JSON value schema
 * used by many routes) lands once.
 */
function hoistDefs(doc: OpenAPIObject, schemas: Record<string, unknown>): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    const defs = obj.$defs as Record<string, unknown> | undefined;
    if (defs && typeof defs === 'object') {
      delete obj.$defs;
      const table = createHash('sha256').update(JSON.stringify(defs)).digest('hex').slice(0, 8);
      const target = (name: string): string =>
        `${name.replace(/[^A-Za-z0-9._-]/g, '').replace(/^_+/, '') || 'Schema'}_${table}`;
      const rewrite = (n: unknown): void => {
        if (Array.isArray(n)) return n.forEach(rewrite);
        if (n === null || typeof n !== 'object') return;
        const o = n as Record<string, unknown>;
        if (typeof o.$ref === 'string' && o.$ref.startsWith('#/$defs/')) {
          const name = decodeURIComponent(o.$ref.slice('#/$defs/'.length));
          o.$ref = `#/components/schemas/${target(name)}`;
        }
        Object.values(o).forEach(rewrite);
      };
      rewrite(obj);
      for (const [name, def] of Object.entries(defs)) {
        rewrite(def);
        schemas[target(name)] ??= def;
      }
      Object.values(defs).forEach(visit);
    }
    Object.values(obj).forEach(visit);
  };
  visit(doc.paths);
}
