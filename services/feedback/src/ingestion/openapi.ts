import { openApiErrorBody, openApiSchema, type OpenApiOperation } from '@llmops/platform';
import { z } from 'zod';
import { batchResponseSchema } from './batch-result';

const json = (schema: ReturnType<typeof openApiSchema>) => ({ 'application/json': { schema } });

/** The OpenAPI operation of a single-item ingestion endpoint (202 after the broker ack). */
export function singleOperation(opts: {
  tag: string;
  operationId: string;
  summary: string;
  description: string;
  request: z.ZodType;
  response: z.ZodType;
  errors: Record<string, string>;
}): OpenApiOperation {
  return {
    tags: [opts.tag],
    operationId: opts.operationId,
    summary: opts.summary,
    description: opts.description,
    requestBody: { required: true, content: json(openApiSchema(opts.request)) },
    responses: {
      '202': {
        description: 'Accepted: the event is acknowledged by the broker',
        content: json(openApiSchema(opts.response, 'output')),
      },
      ...Object.fromEntries(
        Object.entries(opts.errors).map(([status, description]) => [status, { description }]),
      ),
    },
  };
}

/**
 * The OpenAPI operation every batch endpoint shares (generations and feedback): per-item results,
 * 202 when at least one item was accepted, 400 batch_rejected when none was, 413 for the body or the
 * item count, 503 when the broker (or store) did not acknowledge.
 */
export function batchOperation(opts: {
  tag: string;
  operationId: string;
  /** The summary's verb: `Log` (generations), `Submit` (feedback). */
  verb: string;
  what: string;
  item: z.ZodType;
  unavailable: string;
  acceptedNote?: string;
}): OpenApiOperation {
  return {
    tags: [opts.tag],
    operationId: opts.operationId,
    summary: `${opts.verb} up to FEEDBACK_MAX_BATCH_ITEMS ${opts.what}; valid items are accepted even when others are not`,
    description:
      '202 when at least one item was accepted, 400 (same body plus error.code batch_rejected) when none was; ' +
      `all accepted items share one broker acknowledgement.${opts.acceptedNote ? ` ${opts.acceptedNote}` : ''}`,
    requestBody: {
      required: true,
      content: json(openApiSchema(z.strictObject({ items: z.array(opts.item).min(1) }))),
    },
    responses: {
      '202': {
        description: 'At least one item accepted',
        content: json(openApiSchema(batchResponseSchema, 'output')),
      },
      '400': {
        description: 'batch_rejected (no valid item) | validation_failed (envelope) | invalid_json',
        // batch_rejected answers the batch body (every item rejected, plus error); the others the error body.
        content: json({ anyOf: [openApiSchema(batchResponseSchema, 'output'), openApiErrorBody()] }),
      },
      '413': { description: 'payload_too_large (FEEDBACK_MAX_BATCH_BODY_BYTES) | too_many_items' },
      '415': { description: 'unsupported_media_type (send application/json)' },
      '503': { description: opts.unavailable },
    },
  };
}
