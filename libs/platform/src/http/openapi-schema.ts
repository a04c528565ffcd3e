import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/** A zod schema as OpenAPI JSON Schema (request bodies as input, answers as output). */
export function openApiSchema(schema: z.ZodType, io: 'input' | 'output' = 'input'): SchemaObject {
  return z.toJSONSchema(schema, { unrepresentable: 'any', io }) as SchemaObject;
}
