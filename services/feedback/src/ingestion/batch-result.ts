import { z } from 'zod';
import type { ItemRejection } from './item-rejection';

export interface RejectedItem {
  index: number;
  code: string;
  message: string;
  issues?: { path: string; message: string }[];
}

export interface BatchResult {
  /** Ids of the accepted items, in item order. */
  accepted: string[];
  rejected: RejectedItem[];
}

/**
 * Status of a batch answer: 202 when at least one item was acknowledged by the broker (the
 * rejected ones are listed, the client fixes and resends only those); 400 when none was, with the
 * same body plus an `error` so generic error handling also notices. A broker failure is a 503 for
 * the whole batch (nothing was accepted), never a partial success.
 */
export function batchStatus(result: BatchResult): 202 | 400 {
  return result.accepted.length > 0 ? 202 : 400;
}

export type BatchResponse = BatchResult & { error?: { code: string; message: string } };

export function batchResponse(result: BatchResult): BatchResponse {
  if (result.accepted.length > 0) return result;
  return {
    ...result,
    error: {
      code: 'batch_rejected',
      message: `No item was accepted: all ${result.rejected.length} were rejected (see rejected[].index).`,
    },
  };
}

export function rejectedItem(index: number, r: ItemRejection): RejectedItem {
  return { index, code: r.code, message: r.message, ...(r.issues ? { issues: r.issues } : {}) };
}

export type ItemOutcome = { ok: true } | { ok: false; rejection: ItemRejection };

/** Collects per-item outcomes (in item order) into the batch answer: its status and its body. */
export function settleBatch<O extends ItemOutcome>(
  outcomes: O[],
  idOf: (accepted: Extract<O, { ok: true }>) => string,
): { status: 202 | 400; body: BatchResponse } {
  const result: BatchResult = { accepted: [], rejected: [] };
  outcomes.forEach((o, index) => {
    if (o.ok) result.accepted.push(idOf(o as Extract<O, { ok: true }>));
    else result.rejected.push(rejectedItem(index, o.rejection));
  });
  return { status: batchStatus(result), body: batchResponse(result) };
}

export const batchResponseSchema = z.object({
  accepted: z.array(z.string()),
  rejected: z.array(
    z.object({
      index: z.int(),
      code: z.string(),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  ),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
