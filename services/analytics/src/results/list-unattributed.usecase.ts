/**
 * Feedback that names no experiment/arm and whose generation has not arrived (or names no
 * experiment): parked, never dropped. Superseded parked revisions (a newer revision of the same
 * feedbackId was applied) are not listed.
 */
import type { Db } from 'mongodb';
import { COLLECTIONS } from '../aggregation/persistence/aggregation.repository';
import type { PendingDoc, RequestDoc, RevisionDoc } from '../aggregation/partition-state';

export interface UnattributedFeedback {
  feedbackId: string;
  revision: number;
  requestId: string;
  receivedAt: string;
  reason: 'generation_not_seen' | 'generation_not_in_experiment';
}

export class ListUnattributedUseCase {
  constructor(private readonly db: Db) {}

  async execute(limit = 1_000): Promise<{ count: number; items: UnattributedFeedback[] }> {
    const pending = await this.db.collection<PendingDoc>(COLLECTIONS.pending).find({}).toArray();
    if (pending.length === 0) return { count: 0, items: [] };
    const requestIds = [...new Set(pending.map((p) => p.requestId))];
    const fids = [...new Set(pending.map((p) => p.fid))];
    const [requests, revisions] = await Promise.all([
      this.db
        .collection<RequestDoc>(COLLECTIONS.requests)
        .find({ _id: { $in: requestIds } })
        .toArray(),
      this.db
        .collection<RevisionDoc>(COLLECTIONS.revisions)
        .find({ fid: { $in: fids } })
        .toArray(),
    ]);
    const byRequest = new Map(requests.map((r) => [r._id, r]));
    const maxRevision = new Map<string, number>();
    for (const r of revisions) maxRevision.set(r.fid, Math.max(maxRevision.get(r.fid) ?? 0, r.r));
    const items: UnattributedFeedback[] = [];
    for (const p of pending) {
      const req = byRequest.get(p.requestId);
      if (req?.exp && req.arm) continue;
      if ((maxRevision.get(p.fid) ?? 0) >= p.r) continue;
      items.push({
        feedbackId: p.fid,
        revision: p.r,
        requestId: p.requestId,
        receivedAt: p.receivedAt,
        reason: req ? 'generation_not_in_experiment' : 'generation_not_seen',
      });
    }
    items.sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    return { count: items.length, items: items.slice(0, limit) };
  }
}
