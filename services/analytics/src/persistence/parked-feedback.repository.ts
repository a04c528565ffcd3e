import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import type { PendingDoc, RequestDoc, RevisionDoc } from '../domain/partition-state';
import { idScope } from '../domain/project-scope';
import { PENDING, REQUEST, REVISION } from './analytics.schemas';
import { collectionFor, type ReadPath } from './read-path';

/** What listing needs of a parked feedback document. */
export type ParkedFeedback = Pick<
  PendingDoc,
  'project' | 'feedbackId' | 'revision' | 'requestId' | 'receivedAt' | 'reason'
>;

const PARKED = { project: 1, feedbackId: 1, revision: 1, requestId: 1, receivedAt: 1, reason: 1 } as const;

/**
 * Reads of feedback parked until its generation arrives, and of what would attribute it. The
 * aggregation deletes a parked document once its revision is applied or superseded, and stores
 * `reason` once its generation arrived placing the request in no experiment; documents older builds
 * left are judged by the `requests` and `feedback_revisions` they wrote.
 */
@Injectable()
export class ParkedFeedbackRepository {
  constructor(
    @InjectModel(PENDING) private readonly pending: Model<PendingDoc>,
    @InjectModel(REQUEST) private readonly requests: Model<RequestDoc>,
    @InjectModel(REVISION) private readonly revisions: Model<RevisionDoc>,
  ) {}

  /**
   * Up to `limit` parked documents of `project` after the (feedbackId, revision) pair `after`, in
   * (feedbackId, revision, receivedAt) order, through that index, in one round trip (no server
   * cursor stays open).
   */
  parkedAfter(
    project: string,
    after: [string, number] | undefined,
    limit: number,
    path: ReadPath,
  ): Promise<ParkedFeedback[]> {
    const filter: mongo.Filter<PendingDoc> = after
      ? {
          project,
          $or: [{ feedbackId: { $gt: after[0] } }, { feedbackId: after[0], revision: { $gt: after[1] } }],
        }
      : { project };
    return collectionFor(this.pending, path)
      .find(filter, { projection: PARKED })
      .sort({ feedbackId: 1, revision: 1, receivedAt: 1 })
      .limit(limit)
      .batchSize(limit)
      .toArray();
  }

  /**
   * Deletes every parked document received before `cutoff` (an ISO time; `receivedAt` compared as
   * stored) in one command; returns how many were deleted.
   */
  async deleteReceivedBefore(cutoff: string): Promise<number> {
    const res = await collectionFor(this.pending, 'background').deleteMany({ receivedAt: { $lt: cutoff } });
    return res.deletedCount;
  }

  /** Every parked document of every project (a full read). */
  allParked(path: ReadPath): Promise<ParkedFeedback[]> {
    return collectionFor(this.pending, path).find({}, { projection: PARKED }).toArray();
  }

  /**
   * Of `project`, as builds before the partition journal stored them: the experiment/arm of the
   * generations seen among `requestIds`, and the latest applied revision of `feedbackIds` (both
   * keyed by the ids as given).
   */
  async attribution(
    project: string,
    requestIds: string[],
    feedbackIds: string[],
    path: ReadPath,
  ): Promise<{
    requests: Map<string, Pick<RequestDoc, 'exp' | 'arm'>>;
    latestRevision: Map<string, number>;
  }> {
    const scoped = new Map(requestIds.map((id) => [idScope(project, id), id]));
    const [requests, revisions] = await Promise.all([
      collectionFor(this.requests, path)
        .find({ _id: { $in: [...scoped.keys()] } }, { projection: { exp: 1, arm: 1 } })
        .toArray(),
      collectionFor(this.revisions, path)
        .find({ project, feedbackId: { $in: feedbackIds } }, { projection: { feedbackId: 1, revision: 1 } })
        .toArray(),
    ]);
    const latestRevision = new Map<string, number>();
    for (const r of revisions)
      latestRevision.set(r.feedbackId, Math.max(latestRevision.get(r.feedbackId) ?? 0, r.revision));
    return { requests: new Map(requests.map((r) => [scoped.get(r._id) ?? r._id, r])), latestRevision };
  }
}
