import type { OpenAPIObject } from '@nestjs/swagger';
import { validate } from '@readme/openapi-parser';
import { z } from 'zod';
import { finalizeOpenApiDocument, openApiSchema, portablePattern } from './openapi-schema';

// A recursive schema: zod writes it with `$defs` and `#/$defs/...` references.
const jsonValue: z.ZodType = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);
const body = z.strictObject({
  name: z.string().regex(/^[^\p{Cc}\p{Cs}]+$/u),
  params: z.record(z.string(), jsonValue),
  range: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]),
});

/** What @nestjs/swagger assembles from decorators: zod schemas inline, errors with descriptions only. */
function assembled(): OpenAPIObject {
  return {
    openapi: '3.0.0',
    info: { title: 't', version: '1' },
    paths: {
      '/v1/things/{name}': {
        put: {
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { 'application/json': { schema: openApiSchema(body) } } },
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: openApiSchema(body, 'output') } },
            },
            '409': { description: 'thing_conflict' },
          },
        },
      },
      '/v1/things': {
        get: { responses: { '200': { description: 'ok' } } },
      },
    },
    components: {},
  } as OpenAPIObject;
}

describe('finalizeOpenApiDocument', () => {
  it('turns the assembled document (3.0.0 with 2020-12 schemas and root-relative $defs refs) into valid OpenAPI 3.1', async () => {
    const before = await validate(structuredClone(assembled()) as never);
    expect(before.valid).toBe(false);

    const doc = finalizeOpenApiDocument(assembled());
    const after = await validate(structuredClone(doc) as never);
    expect('errors' in after ? after.errors : []).toEqual([]);
    expect(after.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('moves every $defs table into components.schemas once, and every $ref resolves there', () => {
    const doc = finalizeOpenApiDocument(assembled());
    const text = JSON.stringify(doc);
    expect(text).not.toContain('$defs');
    expect(text).not.toContain('"$schema"');
    const refs = [...new Set([...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]))];
    const schemas = doc.components!.schemas!;
    for (const ref of refs) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(schemas[ref.slice('#/components/schemas/'.length)]).toBeDefined();
    }
    // The request and the response use the same JSON value table: hoisted once.
    expect(Object.keys(schemas).filter((k) => k !== 'ErrorBody')).toHaveLength(1);
  });

  it('documents the platform errors on every operation with the error body, keeping route descriptions', () => {
    const doc = finalizeOpenApiDocument(assembled());
    const put = doc.paths['/v1/things/{name}'].put!.responses as Record<
      string,
      { description: string; content?: unknown }
    >;
    const get = doc.paths['/v1/things'].get!.responses as Record<
      string,
      { description: string; content?: unknown }
    >;
    expect(Object.keys(put).sort()).toEqual(['200', '400', '404', '409', '413', '415', '500', '503']);
    expect(Object.keys(get).sort()).toEqual(['200', '400', '500', '503']);
    expect(put['409'].description).toBe('thing_conflict');
    for (const [status, response] of [...Object.entries(put), ...Object.entries(get)]) {
      if (status.startsWith('2')) continue;
      expect(response.content).toEqual({
        'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } },
      });
    }
    expect(doc.components!.schemas!.ErrorBody).toMatchObject({
      type: 'object',
      required: ['error'],
      properties: { error: { required: ['code', 'message'] } },
    });
  });

  it('writes closed tuples of identical items as a fixed-length array', () => {
    const doc = finalizeOpenApiDocument(assembled());
    const schema = (
      doc.paths['/v1/things/{name}'].put!.requestBody as {
        content: Record<string, { schema: { properties: Record<string, unknown> } }>;
      }
    ).content['application/json'].schema;
    expect(schema.properties.range).toEqual({
      type: 'array',
      items: { type: 'number', minimum: 0, maximum: 1 },
      minItems: 2,
      maxItems: 2,
    });
  });

  it('is idempotent', () => {
    const once = finalizeOpenApiDocument(assembled());
    expect(finalizeOpenApiDocument(structuredClone(once))).toEqual(once);
  });
});

describe('portablePattern', () => {
  it('writes \\p{Cc} as code point ranges and drops \\p{Cs} inside character classes', () => {
    expect(portablePattern('^[^\\p{Cc}\\p{Cs}]+$')).toBe('^[^\\x00-\\x1f\\x7f-\\x9f]+$');
    expect(portablePattern('^[a-z0-9][a-z0-9_.-]{0,127}$')).toBe('^[a-z0-9][a-z0-9_.-]{0,127}$');
  });

  it('writes a UTF-16 "no controls, no lone surrogates" pattern over code points', () => {
    const utf16 =
      '^(?:[^\\u0000-\\u001f\\u007f-\\u009f\\ud800-\\udfff]|[\\ud800-\\udbff][\\udc00-\\udfff])+$';
    const portable = portablePattern(utf16);
    expect(portable).toBe('^(?:[^\\u0000-\\u001f\\u007f-\\u009f])+$');
    const original = new RegExp(utf16);
    const samples = [
      'abc',
      'é😀',
      'a\u0000',
      '\u001f',
      'x\u007f',
      '\u0085y',
      '\u009f',
      '\u00a0',
      '\u200b',
      '',
    ];
    for (const s of samples) expect([s, new RegExp(portable, 'u').test(s)]).toEqual([s, original.test(s)]);
  });

  it('accepts and refuses the same well-formed strings as the original', () => {
    const original = /^[^\p{Cc}\p{Cs}]+$/u;
    const portable = new RegExp(portablePattern(original.source), 'u');
    const samples = [
      'abc',
      'é😀',
      'a\u0000',
      '\u001f',
      'x\u007f',
      '\u0085y',
      '\u009f',
      '\u00a0',
      '\u200b',
      '',
    ];
    for (const s of samples) expect([s, portable.test(s)]).toEqual([s, original.test(s)]);
  });
});
