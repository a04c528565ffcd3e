import { openApiSchema } from '@llmops/platform';
import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { batchResponseSchema } from './batch-result';

export { openApiSchema };

export function openApiBatchOf(item: z.ZodType): ReturnType<typeof openApiSchema> {
  return openApiSchema(z.strictObject({ items: z.array(item).min(1) }));
}

/**
 * The OpenAPI description every batch endpoint shares (generations and feedback): per-item results,
 * 202 when at least one item was accepted, 400 batch_rejected when none was, 413 for the body or the
 * item count, 503 when the broker (or store) did not acknowledge.
 */
export function ApiBatchEndpoint(opts: {
  /** The summary's verb: `Log` (generations), `Submit` (feedback). */
  verb: string;
  what: string;
  item: z.ZodType;
  unavailable: string;
  acceptedNote?: string;
}): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiOperation({
      summary: `${opts.verb} up to FEEDBACK_MAX_BATCH_ITEMS ${opts.what}; valid items are accepted even when others are not`,
      description:
        '202 when at least one item was accepted, 400 (same body plus error.code batch_rejected) when none was; ' +
        `all accepted items share one broker acknowledgement.${opts.acceptedNote ? ` ${opts.acceptedNote}` : ''}`,
    }),
    ApiBody({ schema: openApiBatchOf(opts.item) }),
    ApiResponse({ status: 202, schema: openApiSchema(batchResponseSchema, 'output') }),
    ApiResponse({
      status: 400,
      description: 'batch_rejected (no valid item) | validation_failed (envelope) | invalid_json',
    }),
    ApiResponse({
      status: 413,
      description: 'payload_too_large (FEEDBACK_MAX_BATCH_BODY_BYTES) | too_many_items',
    }),
    ApiResponse({ status: 503, description: opts.unavailable }),
  );
}
