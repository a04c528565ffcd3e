/**
 * Everything the aggregation needs to decide a message's effect, for one partition NUMBER p (the
 * exposures, generations and feedback partitions p are assigned together by the co-partition
 * assigner). It is a cache of MongoDB: loaded with one `find({ part: p })` per collection when p
 * is (re)assigned or after any write conflict, then kept current by this instance's own writes, so
 * the hot path never reads MongoDB.
 *
 * The state collections are INSERT-ONLY with deterministic ids and record which message created each
 * document (`createdBy` / `contributor`). That is what makes a redelivered message recognisable: after a
 * crash between the state write and the aggregate write, the reloaded state shows "created by this
 * very message", and the message's aggregate contribution is recomputed from it.
 */
import type { Bucket, SourceKind } from './bucket';
import type { FeedbackValues } from './feedback-values';
import { experimentScope, idScope } from './project-scope';

/** `${kind}:${partition}:${offset}`: a message's identity within this service's topics. */
export type MessageId = string;

export function messageId(kind: SourceKind, part: number, offset: number): MessageId {
  return `${kind}:${part}:${offset}`;
}

export interface SeenDoc {
  /** `${experiment scope}|${arm}|${userId}` (see project-scope.ts) */
  _id: string;
  part: number;
  project: string;
  exp: string;
  arm: string;
  minute: number;
  /** The exposure message that first exposed this user to this arm: only it counts the user. */
  createdBy: MessageId;
}

export interface RequestDoc {
  /** requestId, scoped by its project (`idScope`) */
  _id: string;
  part: number;
  project: string;
  exp: string | null;
  arm: string | null;
  minute: number;
  createdBy: MessageId;
}

export interface RevisionDoc {
  /** `${feedbackId scoped by its project}|${revision}` */
  _id: string;
  part: number;
  project: string;
  feedbackId: string;
  revision: number;
  values: FeedbackValues;
  /** The feedback message that carried this revision. */
  source: MessageId;
  /** The message whose aggregate bucket received this revision's delta (the feedback itself, or the
   * generation that resolved it when the feedback had to wait for its generation). */
  contributor: MessageId;
  exp: string;
  arm: string;
  /** Bucket minute, pinned by the first applied revision so an edit moves sums within one bucket. */
  minute: number;
}

export interface PendingDoc {
  /** The feedback message id (source). */
  _id: MessageId;
  part: number;
  project: string;
  feedbackId: string;
  revision: number;
  requestId: string;
  values: FeedbackValues;
  minute: number;
  receivedAt: string;
  offset: number;
}

/**
 * Which (project, experiment, arm) this partition holds buckets of: one document per triple and
 * partition, inserted with the triple's first bucket. Results count only the arms an experiment
 * has; this directory is how the others are found (`GET /v1/arms/uncounted`) without reading the
 * buckets.
 */
export interface ArmSeenDoc {
  /** `${experiment scope}|${arm}|${part}` */
  _id: string;
  part: number;
  project: string;
  exp: string;
  arm: string;
}

export class PartitionState {
  readonly buckets = new Map<string, Bucket>();
  readonly seen = new Map<string, SeenDoc>();
  /** By scoped requestId (`idScope`), like the documents' ids. */
  readonly requests = new Map<string, RequestDoc>();
  /** scoped feedbackId -> applied revisions, ascending by revision. */
  readonly revisions = new Map<string, RevisionDoc[]>();
  /** scoped requestId -> parked feedback, ascending by offset. */
  readonly pendingByRequest = new Map<string, PendingDoc[]>();
  /** Ids of the ArmSeenDocs of this partition. */
  readonly arms = new Set<string>();
  readonly pendingIds = new Set<string>();
  /** Next offset this instance expects per source topic; a gap means someone else processed it. */
  readonly expected = new Map<SourceKind, number>();

  constructor(readonly part: number) {}

  /**
   * experiment scope -> arm -> escaped score names of its recorded revisions in this partition (see
   * `limitScoreNames`). Per arm: an arm the experiment does not have is not counted in its results,
   * and its items must not use up the names of the arms that are.
   */
  private readonly scoreNames = new Map<string, Map<string, Set<string>>>();

  scoreNamesOf(scope: string, arm: string): ReadonlySet<string> {
    return this.scoreNames.get(scope)?.get(arm) ?? new Set<string>();
  }

  addRevision(doc: RevisionDoc): void {
    const scope = experimentScope(doc.project, doc.exp);
    let arms = this.scoreNames.get(scope);
    if (!arms) {
      arms = new Map();
      this.scoreNames.set(scope, arms);
    }
    let names = arms.get(doc.arm);
    if (!names) {
      names = new Set<string>();
      arms.set(doc.arm, names);
    }
    for (const name of Object.keys(doc.values.scores)) names.add(name);
    const key = idScope(doc.project, doc.feedbackId);
    const list = this.revisions.get(key) ?? [];
    list.push(doc);
    list.sort((a, b) => a.revision - b.revision);
    this.revisions.set(key, list);
  }

  addPending(doc: PendingDoc): void {
    if (this.pendingIds.has(doc._id)) return;
    this.pendingIds.add(doc._id);
    const key = idScope(doc.project, doc.requestId);
    const list = this.pendingByRequest.get(key) ?? [];
    list.push(doc);
    list.sort((a, b) => a.offset - b.offset);
    this.pendingByRequest.set(key, list);
  }

  /**
   * Forgets the parked feedback received before `cutoff` (an ISO time, compared as a string like the
   * retention's delete of the documents); returns how many were forgotten.
   */
  forgetParkedBefore(cutoff: string): number {
    let forgotten = 0;
    for (const [key, list] of this.pendingByRequest) {
      const kept = list.filter((p) => p.receivedAt >= cutoff);
      if (kept.length === list.length) continue;
      for (const p of list) if (p.receivedAt < cutoff) this.pendingIds.delete(p._id);
      forgotten += list.length - kept.length;
      if (kept.length === 0) this.pendingByRequest.delete(key);
      else this.pendingByRequest.set(key, kept);
    }
    return forgotten;
  }
}
