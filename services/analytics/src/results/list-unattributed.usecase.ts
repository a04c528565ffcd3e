/**
 * Feedback of the caller's project that names no experiment/arm and whose generation has not
 * arrived (or names no experiment): parked, never dropped. Superseded parked revisions (a newer revision of the same
 * feedbackId was applied) are not listed: the aggregation deletes a parked document once its
 * revision is applied or superseded and stores the reason once the generation is known; documents
 * older builds left are checked against what those builds stored.
 *
 * The parked documents are keyed by the message that carried them, so one (feedbackId, revision)
 * can be parked several times: a client that sent the same feedback twice, or a producer retry,
 * gives two messages. Listing therefore reads in (feedbackId, revision) order, where such copies
 * are adjacent, and lists each pair once. Pages are read after the cursor's pair through an index,
 * never the whole collection.
 */
import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '@llmops/platform';
import { z } from 'zod';
import { type ParkedFeedback, ParkedFeedbackRepository } from '../persistence/parked-feedback.repository';
import type { ReadPath } from '../persistence/read-path';

export interface UnattributedFeedback {
  feedbackId: string;
  revision: number;
  requestId: string;
  receivedAt: string;
  reason: 'generation_not_seen' | 'generation_not_in_experiment';
}

export interface UnattributedPage {
  items: UnattributedFeedback[];
  /** Cursor of the next page; null when there is nothing after this page. */
  nextCursor: string | null;
}

export const UNATTRIBUTED_MAX_LIMIT = 1_000;

/** `GET /v1/feedback/unattributed` query: `limit` 1-1000 (default 100) and `cursor`, nothing else. */
export const unattributedQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: `expected an integer 1-${UNATTRIBUTED_MAX_LIMIT}` })
    .int({ error: `expected an integer 1-${UNATTRIBUTED_MAX_LIMIT}` })
    .min(1, { error: `expected an integer 1-${UNATTRIBUTED_MAX_LIMIT}` })
    .max(UNATTRIBUTED_MAX_LIMIT, { error: `expected an integer 1-${UNATTRIBUTED_MAX_LIMIT}` })
    .default(100)
    .describe(`1-${UNATTRIBUTED_MAX_LIMIT}, default 100`),
  cursor: z.string().min(1).max(1_024).optional().describe('nextCursor of the previous page'),
});

/** A cursor is the last (feedbackId, revision) pair a page examined. */
const cursorKey = z.tuple([z.string(), z.number().int()]);

/**
 * Parked documents one page may examine, as a multiple of its limit: resolved and duplicate
 * copies are skipped, and past this budget the page ends early (with a cursor to continue).
 */
const EXAMINE_FACTOR = 4;

@Injectable()
export class ListUnattributedUseCase {
  constructor(private readonly parked: ParkedFeedbackRepository) {}

  /** One page of `project` in (feedbackId, revision) order; it may hold fewer than `limit` items while nextCursor is set. */
  async page(project: string, limit: number, cursor?: string): Promise<UnattributedPage> {
    let position = decodeCursor(cursor, cursorKey);
    const items: UnattributedFeedback[] = [];
    const budget = limit * EXAMINE_FACTOR;
    let examined = 0;
    for (;;) {
      const batch = Math.min(limit * 2, budget - examined);
      const docs = await this.parked.parkedAfter(project, position, batch, 'request');
      examined += docs.length;
      // Copies of one pair are adjacent; the first has the earliest receivedAt.
      const firsts: ParkedFeedback[] = [];
      for (const d of docs) {
        const last = firsts[firsts.length - 1];
        if (!last || last.feedbackId !== d.feedbackId || last.revision !== d.revision) firsts.push(d);
      }
      const listed = await this.unresolved(project, firsts, 'request');
      for (const p of firsts) {
        position = [p.feedbackId, p.revision];
        const item = listed.get(p);
        if (item) items.push(item);
        if (items.length === limit) return { items, nextCursor: encodeCursor(position) };
      }
      if (docs.length < batch) return { items, nextCursor: null };
      if (examined >= budget) return { items, nextCursor: encodeCursor(position) };
    }
  }

  /**
   * Every parked (feedbackId, revision) still unattributed, of every project: a full read, for the
   * metric (no request deadline).
   */
  async count(): Promise<number> {
    const byProject = new Map<string, Map<string, ParkedFeedback>>();
    for (const d of await this.parked.allParked('background')) {
      let distinct = byProject.get(d.project);
      if (!distinct) byProject.set(d.project, (distinct = new Map()));
      distinct.set(`${d.revision}|${d.feedbackId}`, d);
    }
    let total = 0;
    for (const [project, distinct] of byProject)
      total += (await this.unresolved(project, [...distinct.values()], 'background')).size;
    return total;
  }

  /** The parked pairs of `project` that are still unattributed, with the reason. */
  private async unresolved(
    project: string,
    parked: ParkedFeedback[],
    path: ReadPath,
  ): Promise<Map<ParkedFeedback, UnattributedFeedback>> {
    const out = new Map<ParkedFeedback, UnattributedFeedback>();
    if (parked.length === 0) return out;
    const { requests, latestRevision } = await this.parked.attribution(
      project,
      [...new Set(parked.map((p) => p.requestId))],
      [...new Set(parked.map((p) => p.feedbackId))],
      path,
    );
    for (const p of parked) {
      const req = requests.get(p.requestId);
      if (req?.exp && req.arm) continue;
      if ((latestRevision.get(p.feedbackId) ?? 0) >= p.revision) continue;
      out.set(p, {
        feedbackId: p.feedbackId,
        revision: p.revision,
        requestId: p.requestId,
        receivedAt: p.receivedAt,
        reason: p.reason ?? (req ? 'generation_not_in_experiment' : 'generation_not_seen'),
      });
    }
    return out;
  }
}
