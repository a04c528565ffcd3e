/**
 * Everything the aggregation needs to decide a message's effect, for one partition NUMBER p (the
 * exposures, generations and feedback partitions p are assigned together by the co-partition
 * assigner). It is a cache of MongoDB: loaded when p is first seen, after every rebalance of the
 * consumer group (ApplyBatchUseCase), after a gap in offsets or after any write conflict, then kept current by this instance's own writes, so the hot path never
 * reads MongoDB.
 *
 * Its durable form is the partition journal: one insert-only document per batch and topic
 * (`JournalDoc`), written BEFORE the batch's bucket versions, holding the state the batch added.
 * Each addition names the message that made it (the exposure's offset, a revision's source and
 * contributor), so a batch redelivered after a crash between the journal and the buckets recomputes
 * the contributions of exactly those messages (the buckets' lastOffset guard skips what was stored),
 * and every other message sees a duplicate. Held in memory compactly: seen users as 128-bit
 * fingerprints of (experiment, arm, user) -> offset in typed arrays (`FingerprintMap`, exact up to a
 * collision bound, no string kept), requests the same way, as fingerprints of their scoped ids ->
 * the index of one shared placement per (experiment, arm) (`RequestPlacements`).
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';
import type { Bucket, SourceKind } from './bucket';
import type { FeedbackValues } from './feedback-values';
import { FingerprintMap, fingerprintOf } from './fingerprint-map';
import { experimentScope, idScope } from './project-scope';

/** `${kind}:${partition}:${offset}`: a message's identity within this service's topics. */
export type MessageId = string;

export function messageId(kind: SourceKind, part: number, offset: number): MessageId {
  return `${kind}:${part}:${offset}`;
}

/** Where a generation put its request (null: it named no experiment/arm). */
export interface Placement {
  readonly exp: string | null;
  readonly arm: string | null;
}

/**
 * Where each request was placed, by scoped request id (`idScope`): like the seen users, a fingerprint
 * of the id in a `FingerprintMap` (no string kept, outside the JavaScript heap), whose value is the
 * index of the request's placement; one placement object per (experiment, arm) is shared by every
 * request placed there.
 *
 * Held in two epochs, so that memory is bounded by the traffic of a retention horizon, not by all
 * traffic ever. Epochs are consecutive spans of one horizon each, counted from `since`. Requests
 * are recorded in the current epoch; `rotate`, called before recording (the consumer calls it
 * before every batch, with the batch's time), moves on once the current epoch has ended: it becomes
 * the previous one and the one before is forgotten (both are, once two have ended). A request is
 * thus held for at least one horizon after it was recorded, and forgotten by the first `rotate` two
 * horizons after. A request forgotten is unknown: its feedback parks, as when its generation never
 * arrived.
 */
export class RequestPlacements {
  private current = new FingerprintMap();
  private previous = new FingerprintMap(0);
  private readonly placements: Placement[] = [];
  /** `${exp}\u0000${arm}` ('' for no placement) -> index in `placements`. */
  private readonly indexes = new Map<string, number>();
  /** The fingerprint being looked up (one buffer, reused). */
  private readonly probe = new Uint32Array(4);

  /**
   * `since` (epoch ms): when the current epoch began. A partition loaded from its journal starts at
   * the retention cutoff, after which the requests it loads were recorded.
   */
  constructor(private since: number) {}

  get size(): number {
    return this.current.size + this.previous.size;
  }

  has(scopedRequestId: string): boolean {
    return this.indexAt(fingerprintOf(scopedRequestId, this.probe)) !== undefined;
  }

  get(scopedRequestId: string): Placement | undefined {
    const index = this.indexAt(fingerprintOf(scopedRequestId, this.probe));
    return index === undefined ? undefined : this.placements[index];
  }

  set(scopedRequestId: string, exp: string | null, arm: string | null): void {
    const fp = fingerprintOf(scopedRequestId, this.probe);
    const index = this.indexOf(exp, arm);
    if (this.previous.getFingerprint(fp) !== undefined) this.previous.setFingerprint(fp, index);
    else this.current.setFingerprint(fp, index);
  }

  /** `set` when the request has no placement yet (one fingerprint); false, changing nothing, when it has. */
  setIfAbsent(scopedRequestId: string, exp: string | null, arm: string | null): boolean {
    const fp = fingerprintOf(scopedRequestId, this.probe);
    if (this.previous.getFingerprint(fp) !== undefined) return false;
    return this.current.getOrSetFingerprint(fp, this.indexOf(exp, arm)) === undefined;
  }

  /**
   * At `now` (epoch ms), when the current epoch of `horizonMs` has ended: it becomes the previous
   * one and the previous one is forgotten (each of its requests was recorded at least a horizon
   * ago); when two epochs have ended, both are. Returns how many requests were forgotten.
   */
  rotate(now: number, horizonMs: number): number {
    const ended = Math.floor((now - this.since) / horizonMs);
    if (ended < 1) return 0;
    let forgotten = this.previous.size;
    if (ended >= 2) {
      // Every request of the current epoch was recorded before it ended (a record after its end
      // would have rotated first), so a horizon ago or more: it goes too.
      forgotten += this.current.size;
      this.previous = new FingerprintMap(0);
    } else this.previous = this.current;
    this.current = new FingerprintMap();
    this.since += ended * horizonMs;
    return forgotten;
  }

  private indexAt(fp: Uint32Array): number | undefined {
    return this.current.getFingerprint(fp) ?? this.previous.getFingerprint(fp);
  }

  private indexOf(exp: string | null, arm: string | null): number {
    const key = exp === null || arm === null ? '' : `${exp}\u0000${arm}`;
    let index = this.indexes.get(key);
    if (index === undefined) {
      index = this.placements.length;
      this.placements.push(key === '' ? { exp: null, arm: null } : { exp, arm });
      this.indexes.set(key, index);
    }
    return index;
  }
}

/** An applied feedback revision, with the values it was aggregated with. */
export interface AppliedRevision {
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

/** Users first exposed to one arm by this batch, with the offsets of the exposures that did it. */
export interface SeenGroup {
  project: string;
  exp: string;
  arm: string;
  users: string[];
  offsets: number[];
}

/** Requests (ids as sent, unscoped) whose generations this batch recorded, per placement. */
export interface RequestGroup {
  project: string;
  exp: string | null;
  arm: string | null;
  ids: string[];
}

/** The state one batch adds to its partition. */
export interface JournalAdditions {
  seen: SeenGroup[];
  requests: RequestGroup[];
  revisions: AppliedRevision[];
  /** Parked feedback (its document ids) this batch applied or found superseded. */
  resolved: MessageId[];
}

/**
 * One link of a partition's journal for one topic: `_id` `${kind}:${part}^${base}`, where `base` is
 * the lastOffset of the previous link (-1 for the first). Insert-only: the unique `_id` is the
 * compare-and-set of the chain (two writers extending the same link collide).
 */
export interface JournalDoc extends JournalAdditions {
  _id: string;
  part: number;
  kind: SourceKind;
  base: number;
  /** Last offset of the batch. */
  lastOffset: number;
  /** The time of the batch that wrote it (ISO time): the request retention's clock. */
  at: string;
}

/** The journal link a batch writes, or null when it added nothing and moved no offset past the head. */
export function journalOf(
  part: number,
  kind: SourceKind,
  head: number,
  lastOffset: number,
  additions: JournalAdditions,
  at: Date,
): JournalDoc | null {
  const added =
    additions.seen.length +
    additions.requests.length +
    additions.revisions.length +
    additions.resolved.length;
  if (added === 0 && lastOffset <= head) return null;
  return {
    _id: `${kind}:${part}^${head}`,
    part,
    kind,
    base: head,
    // Strictly past its base, so the next link's id differs from this one's.
    lastOffset: Math.max(lastOffset, head + 1),
    at: at.toISOString(),
    ...additions,
  };
}

/** Why a parked feedback is still unattributed, when known (absent: its generation was not seen). */
export const NOT_IN_EXPERIMENT = 'generation_not_in_experiment';

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
  /** Set once its generation arrived naming no experiment/arm (or another experiment). */
  reason?: typeof NOT_IN_EXPERIMENT;
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

/** A seen user as builds before the journal stored it (`exposures_seen`, read at load only). */
export interface SeenDoc {
  /** `${experiment scope}|${arm}|${userId}` */
  _id: string;
  part: number;
  project: string;
  exp: string;
  arm: string;
  minute: number;
  createdBy: MessageId;
}

/** A request as builds before the journal stored it (`requests`, read at load only). */
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

/** A revision as builds before the journal stored it (`feedback_revisions`, read at load only). */
export interface RevisionDoc extends AppliedRevision {
  /** `${feedbackId scoped by its project}|${revision}` */
  _id: string;
  part: number;
}

/** The offset in a message id (`x:3:42` -> 42). */
export function offsetOf(id: MessageId): number {
  return Number(id.slice(id.lastIndexOf(':') + 1));
}

export class PartitionState {
  readonly buckets = new Map<string, Bucket>();
  /** By scoped requestId (`idScope`): where its generation put it. */
  readonly requests: RequestPlacements;
  /** scoped feedbackId -> applied revisions, ascending by revision. */
  readonly revisions = new Map<string, AppliedRevision[]>();
  /** scoped requestId -> parked feedback, ascending by offset. */
  readonly pendingByRequest = new Map<string, PendingDoc[]>();
  /** Ids of the ArmSeenDocs of this partition (add through `addArm`). */
  readonly arms = new Set<string>();
  /** By experiment scope: the experiment and its arms that have data in this partition (`addArm`). */
  readonly experiments = new Map<string, { project: string; exp: string; arms: Set<string> }>();
  readonly pendingIds = new Set<string>();
  /** Next offset this instance expects per source topic; a gap means someone else processed it. */
  readonly expected = new Map<SourceKind, number>();
  /** Per source topic: lastOffset of the newest journal link (absent: none yet), the next link's base. */
  readonly journalHeads = new Map<SourceKind, number>();
  /** Per source topic: the journal head when the state was loaded (absent: no link then). */
  readonly loadedHeads = new Map<SourceKind, number>();
  /** `${experiment scope}|${kind}` -> the phase start this partition's roll-ups are established for. */
  private readonly phaseStarts = new Map<string, number>();

  /** `${experiment scope}|${arm}|${userId}` -> offset of the exposure that first exposed the user to the arm. */
  private readonly seen = new FingerprintMap();
  /** generation message -> revisions it contributed (the parked feedback it resolved). */
  private readonly contributed = new Map<MessageId, AppliedRevision[]>();

  /**
   * `requestsSince` (epoch ms): when the first epoch of the requests begins (see
   * `RequestPlacements`); a partition loaded under a request retention passes its cutoff.
   */
  constructor(
    readonly part: number,
    requestsSince = 0,
  ) {
    this.requests = new RequestPlacements(requestsSince);
  }

  /**
   * experiment scope -> arm -> escaped score names of its recorded revisions in this partition (see
   * `limitScoreNames`). Per arm: an arm the experiment does not have is not counted in its results,
   * and its items must not use up the names of the arms that are.
   */
  private readonly scoreNames = new Map<string, Map<string, Set<string>>>();

  scoreNamesOf(scope: string, arm: string): ReadonlySet<string> {
    return this.scoreNames.get(scope)?.get(arm) ?? new Set<string>();
  }

  /** Records an arms directory entry of this partition. */
  addArm(id: string, project: string, exp: string, arm: string): void {
    this.arms.add(id);
    const scope = experimentScope(project, exp);
    let experiment = this.experiments.get(scope);
    if (!experiment) this.experiments.set(scope, (experiment = { project, exp, arms: new Set() }));
    experiment.arms.add(arm);
  }

  /** The phase start the roll-ups of (experiment scope, topic) are established for (see phase-rollup.ts). */
  phaseStartOf(scope: string, kind: SourceKind): number | undefined {
    return this.phaseStarts.get(`${scope}|${kind}`);
  }

  /** Records an established phase start; the highest one of (experiment scope, topic) is current. */
  establishPhase(scope: string, kind: SourceKind, start: number): void {
    const key = `${scope}|${kind}`;
    this.phaseStarts.set(key, Math.max(this.phaseStarts.get(key) ?? start, start));
  }

  /**
   * Whether every bucket of topic `kind` holds every contribution up to `lastOffset` once the batch
   * ending there is applied: no journal link was loaded, or this instance wrote, or is writing, a
   * batch at or past the loaded head (the redelivery that completes a batch cut short between its
   * link and its buckets).
   */
  completeAfter(kind: SourceKind, lastOffset: number): boolean {
    const loaded = this.loadedHeads.get(kind);
    if (loaded === undefined) return true;
    return Math.max(lastOffset, (this.expected.get(kind) ?? 0) - 1) >= loaded;
  }

  /** Distinct (experiment, arm, user) triples seen. */
  get seenCount(): number {
    return this.seen.size;
  }

  /** Offset of the exposure that first exposed `userId` to this arm (undefined: not seen). */
  seenBy(project: string, exp: string, arm: string, userId: string): number | undefined {
    return this.seen.get(`${experimentScope(project, exp)}|${arm}|${userId}`);
  }

  addSeen(project: string, exp: string, arm: string, userId: string, offset: number): void {
    this.seen.set(`${experimentScope(project, exp)}|${arm}|${userId}`, offset);
  }

  /**
   * `seenBy`, and when the user was not seen, records `offset` as its first exposure to the arm
   * (`addSeen`) in the same lookup.
   */
  seenByOrAdd(project: string, exp: string, arm: string, userId: string, offset: number): number | undefined {
    return this.seen.getOrSet(`${experimentScope(project, exp)}|${arm}|${userId}`, offset);
  }

  /** Records where the generation of `requestId` (scoped) put it. */
  addRequest(scopedRequestId: string, exp: string | null, arm: string | null): void {
    this.requests.set(scopedRequestId, exp, arm);
  }

  /**
   * `addRequest` when the request has no placement yet, in the same lookup; false (nothing changed)
   * when its generation was already seen.
   */
  addRequestIfAbsent(scopedRequestId: string, exp: string | null, arm: string | null): boolean {
    return this.requests.setIfAbsent(scopedRequestId, exp, arm);
  }

  /** Revisions a generation contributed when it resolved parked feedback (its redelivery re-derives them). */
  contributedBy(message: MessageId): readonly AppliedRevision[] {
    return this.contributed.get(message) ?? [];
  }

  addRevision(doc: AppliedRevision): void {
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
    if (doc.contributor !== doc.source) {
      const by = this.contributed.get(doc.contributor) ?? [];
      by.push(doc);
      this.contributed.set(doc.contributor, by);
    }
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

  /** Forgets a parked feedback (of scoped request `requestKey`) that was applied or superseded; false if it was not parked. */
  resolvePending(id: MessageId, requestKey: string): boolean {
    if (!this.pendingIds.delete(id)) return false;
    const list = this.pendingByRequest.get(requestKey) ?? [];
    const kept = list.filter((p) => p._id !== id);
    if (kept.length === 0) this.pendingByRequest.delete(requestKey);
    else this.pendingByRequest.set(requestKey, kept);
    return true;
  }

  /** Forgets the parked feedback among `ids` (resolved by journal links); returns the ids it held. */
  dropPending(ids: ReadonlySet<MessageId>): MessageId[] {
    const dropped: MessageId[] = [];
    if (ids.size === 0) return dropped;
    for (const [key, list] of this.pendingByRequest) {
      const kept = list.filter((p) => !ids.has(p._id));
      if (kept.length === list.length) continue;
      for (const p of list) if (ids.has(p._id) && this.pendingIds.delete(p._id)) dropped.push(p._id);
      if (kept.length === 0) this.pendingByRequest.delete(key);
      else this.pendingByRequest.set(key, kept);
    }
    return dropped;
  }

  /** Adds what one journal link (or a batch's plan) recorded, except its resolved parked feedback (`dropPending`). */
  applyJournal(additions: JournalAdditions): void {
    for (const g of additions.seen)
      g.users.forEach((user, i) => this.addSeen(g.project, g.exp, g.arm, user, g.offsets[i]));
    for (const g of additions.requests)
      for (const id of g.ids) this.addRequest(idScope(g.project, id), g.exp, g.arm);
    for (const r of additions.revisions) this.addRevision(r);
  }

  /** Adds a seen document written by a build before the journal. */
  addLegacySeen(doc: SeenDoc): void {
    const project = doc.project ?? DEFAULT_PROJECT;
    const prefix = `${experimentScope(project, doc.exp)}|${doc.arm}|`;
    this.addSeen(project, doc.exp, doc.arm, doc._id.slice(prefix.length), offsetOf(doc.createdBy));
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
