/**
 * Feedback that names no experiment/arm and whose generation has not arrived (or names no
 * experiment): parked, never dropped. Superseded parked revisions (a newer revision of the same
 * feedbackId was applied) are not listed.
 *
 * The parked documents are keyed by the message that carried them, so one (feedbackId, revision)
 * can be parked several times: a client that sent the same feedback twice, or a producer retry,
 * gives two messages. Listing therefore reads in (feedbackId, revision) order, where such copies
 * are adjacent, and lists each pair once. Pages are read through the `{ fid, r, receivedAt }`
 * index after the cursor's pair, never the whole collection.
 */
import { decodeCursor, encodeCursor } from '@llmops/platform';
import type { Db, Filter } from 'mongodb';
import { z } from 'zod';
import { COLLECTIONS } from '../aggregation/persistence/aggregation.repository';
import type { PendingDoc, RequestDoc, RevisionDoc } from '../aggregation/partition-state';

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
  cursor: z.string().min(1).max(2_048).optional().describe('nextCursor of the previous page'),
});

/** A cursor is the last (feedbackId, revision) pair a page examined. */
const cursorKey = z.tuple([z.string(), z.number().int()]);
type Key = z.infer<typeof cursorKey>;

/**
 * Parked documents one page may examine, as a multiple of its limit: resolved and duplicate
 * copies are skipped, and past this budget the page ends early (with a cursor to continue).
 */
const EXAMINE_FACTOR = 4;

const PROJECTION = { fid: 1, r: 1, requestId: 1, receivedAt: 1 } as const;
type Parked = Pick<PendingDoc, 'fid' | 'r' | 'requestId' | 'receivedAt'>;

function after(key: Key | undefined): Filter<PendingDoc> {
  if (key === undefined) return {};
  const [fid, r] = key;
  return { $or: [{ fid: { $gt: fid } }, { fid, r: { $gt: r } }] };
}

export class ListUnattributedUseCase {
  constructor(private readonly db: Db) {}

  /** One page in (feedbackId, revision) order; it may hold fewer than `limit` items while nextCursor is set. */
  async page(limit: number, cursor?: string): Promise<UnattributedPage> {
    let position = decodeCursor(cursor, cursorKey);
    const items: UnattributedFeedback[] = [];
    const budget = limit * EXAMINE_FACTOR;
    let examined = 0;
    for (;;) {
      const batch = Math.min(limit * 2, budget - examined);
      // batchSize = limit: one round trip, no server cursor left open between requests.
      const docs = await this.db
        .collection<PendingDoc>(COLLECTIONS.pending)
        .find(after(position), { projection: PROJECTION })
        .sort({ fid: 1, r: 1, receivedAt: 1 })
        .limit(batch)
        .batchSize(batch)
        .toArray();
      examined += docs.length;
      // Copies of one pair are adjacent; the first has the earliest receivedAt.
      const firsts: Parked[] = [];
      for (const d of docs) {
        const last = firsts[firsts.length - 1];
        if (!last || last.fid !== d.fid || last.r !== d.r) firsts.push(d);
      }
      const listed = await this.unresolved(firsts);
      for (const p of firsts) {
        position = [p.fid, p.r];
        const item = listed.get(p);
        if (item) items.push(item);
        if (items.length === limit) return { items, nextCursor: encodeCursor(position) };
      }
      if (docs.length < batch) return { items, nextCursor: null };
      if (examined >= budget) return { items, nextCursor: encodeCursor(position) };
    }
  }

  /** Every parked (feedbackId, revision) still unattributed: a full read, for the metric. */
  async count(): Promise<number> {
    const docs = await this.db
      .collection<PendingDoc>(COLLECTIONS.pending)
      .find({}, { projection: PROJECTION })
      .toArray();
    const distinct = new Map<string, Parked>();
    for (const d of docs) distinct.set(`${d.r}|${d.fid}`, d);
    return (await this.unresolved([...distinct.values()])).size;
  }

  /** The parked pairs that are still unattributed, with the reason. */
  private async unresolved(parked: Parked[]): Promise<Map<Parked, UnattributedFeedback>> {
    const out = new Map<Parked, UnattributedFeedback>();
    if (parked.length === 0) return out;
    const requestIds = [...new Set(parked.map((p) => p.requestId))];
    const fids = [...new Set(parked.map((p) => p.fid))];
    const [requests, revisions] = await Promise.all([
      this.db
        .collection<RequestDoc>(COLLECTIONS.requests)
        .find({ _id: { $in: requestIds } }, { projection: { exp: 1, arm: 1 } })
        .toArray(),
      this.db
        .collection<RevisionDoc>(COLLECTIONS.revisions)
        .find({ fid: { $in: fids } }, { projection: { fid: 1, r: 1 } })
        .toArray(),
    ]);
    const byRequest = new Map(requests.map((r) => [r._id, r]));
    const maxRevision = new Map<string, number>();
    for (const r of revisions) maxRevision.set(r.fid, Math.max(maxRevision.get(r.fid) ?? 0, r.r));
    for (const p of parked) {
      const req = byRequest.get(p.requestId);
      if (req?.exp && req.arm) continue;
      if ((maxRevision.get(p.fid) ?? 0) >= p.r) continue;
      out.set(p, {
        feedbackId: p.fid,
        revision: p.r,
        requestId: p.requestId,
        receivedAt: p.receivedAt,
        reason: req ? 'generation_not_in_experiment' : 'generation_not_seen',
      });
    }
    return out;
  }
}
