import { z } from 'zod';

/** A zod schema as OpenAPI/JSON Schema for the swagger decorators. */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  return z.toJSONSchema(schema, { unrepresentable: 'any', io }) as Record<string, unknown>;
}
