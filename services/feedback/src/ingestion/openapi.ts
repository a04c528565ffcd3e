import { z } from 'zod';

/** A zod schema as JSON Schema for the swagger decorators (request bodies as input, answers as output). */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  return z.toJSONSchema(schema, { unrepresentable: 'any', io }) as Record<string, unknown>;
}

export function openApiBatchOf(item: z.ZodType): Record<string, unknown> {
  return openApiSchema(z.strictObject({ items: z.array(item).min(1) }));
}
