import { opaqueId, text } from '@llmops/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  checkAttributes,
  MAX_ATTRIBUTE_NAME_LENGTH,
  MAX_ATTRIBUTE_VALUE_LENGTH,
  MAX_ATTRIBUTES,
} from './validate';

const root = join(__dirname, '..', '..', '..');

/** The attributes schema of POST /v1/assign in the assignment service's committed OpenAPI document. */
function openApiAttributes() {
  const doc = JSON.parse(readFileSync(join(root, 'services/assignment/openapi.json'), 'utf8'));
  return doc.paths['/v1/assign'].post.requestBody.content['application/json'].schema.properties.attributes;
}

describe('checkAttributes', () => {
  it("mirrors the assignment service's limits (its OpenAPI document and its attributes schema)", () => {
    const schema = openApiAttributes();
    expect(schema.propertyNames).toMatchObject({ minLength: 1, maxLength: MAX_ATTRIBUTE_NAME_LENGTH });
    expect(schema.additionalProperties.anyOf).toContainEqual({
      type: 'string',
      maxLength: MAX_ATTRIBUTE_VALUE_LENGTH,
    });
    // The count limit is a refinement, which the OpenAPI document cannot state: read it from the schema's source.
    const dto = readFileSync(join(root, 'services/assignment/src/assignment/dto/assign.request.ts'), 'utf8');
    expect(dto).toMatch(new RegExp(`opaqueId\\('attribute name', ${MAX_ATTRIBUTE_NAME_LENGTH}\\)`));
    expect(dto).toMatch(new RegExp(`text\\('a string', ${MAX_ATTRIBUTE_VALUE_LENGTH}\\)`));
    expect(dto).toMatch(new RegExp(`Object\\.keys\\(a\\)\\.length <= ${MAX_ATTRIBUTES}\\b`));
  });

  it('accepts exactly what the service schema accepts', () => {
    // The service's schema, built from the same contract helpers and the limits checked above.
    const service = z
      .record(
        opaqueId('attribute name', MAX_ATTRIBUTE_NAME_LENGTH),
        z.union([text('a string', MAX_ATTRIBUTE_VALUE_LENGTH), z.number(), z.boolean()]),
      )
      .refine((a) => Object.keys(a).length <= MAX_ATTRIBUTES);
    const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, i]));
    const samples: unknown[] = [
      {},
      { country: 'DE', age: 42, beta: true },
      { ['n'.repeat(128)]: 'x'.repeat(1024) },
      { ['n'.repeat(129)]: 'x' },
      { country: 'x'.repeat(1025) },
      { ['😀'.repeat(64)]: '😀'.repeat(512) },
      { ['😀'.repeat(65)]: 'x' },
      { country: '😀'.repeat(513) },
      many(100),
      many(101),
      { '': 'x' },
      { 'a\u0000b': 'x' },
      { 'a\u009fb': 'x' },
      { 'a\ud800': 'x' },
      { country: 'a\udc00' },
      { country: 'tab\tand\nnewline are fine in values' },
      { n: Number.POSITIVE_INFINITY },
      { n: Number.NaN },
      { n: null },
      { n: ['x'] },
    ];
    for (const sample of samples) {
      let local = true;
      try {
        checkAttributes(sample);
      } catch {
        local = false;
      }
      expect({ sample, accepted: local }).toEqual({ sample, accepted: service.safeParse(sample).success });
    }
  });
});
