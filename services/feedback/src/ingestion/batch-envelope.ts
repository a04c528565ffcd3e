import { AppError, parseOrThrow } from '@llmops/platform';
import { z } from 'zod';

/** `{ "items": [...] }`: items are validated one by one, so one bad item never sinks the others. */
export const batchEnvelopeSchema = z.strictObject({
  items: z
    .array(z.unknown(), { error: 'expected an array of items' })
    .min(1, { error: 'expected at least one item' }),
});

export function parseBatchEnvelope(body: unknown, maxItems: number): unknown[] {
  const { items } = parseOrThrow(batchEnvelopeSchema, body);
  if (items.length > maxItems) {
    throw new AppError(
      413,
      'too_many_items',
      `A batch holds at most ${maxItems} items (FEEDBACK_MAX_BATCH_ITEMS); got ${items.length}. Split it.`,
      { items: items.length, maxItems },
    );
  }
  return items;
}
