/**
 * Pure core of the exactly-once aggregation: turns one partition batch into (a) the state it adds to
 * the partition (its journal link, `additions`, plus parked feedback and arms directory entries) and
 * (b) the aggregate buckets to write, given the partition's state.
 *
 * Rules (see README "Exactly-once design"):
 * - Everything is per project (the event's envelope `project`): bucket, seen, request and revision
 *   ids are scoped by it (project-scope.ts), so two projects' same names never meet. Whether an arm
 *   exists in its experiment is decided when results are read, not here (see compute-results.ts).
 * - A message contributes to a bucket only if its offset is above the bucket's `lastOffset` as it was
 *   before this batch. A bucket belongs to one (topic, partition), so offsets are comparable.
 * - Exposure: +1 distinct user iff the partition state records this message as the exposure that
 *   first exposed the user to the arm, whether just now or in an earlier attempt whose journal link
 *   was stored but not all of its buckets.
 * - Generation: counted per message; records requestId -> (experiment, arm) for the join and
 *   resolves feedback parked for that requestId, contributing it to ITS (generation) bucket.
 * - Feedback revision r of feedbackId f: applied iff no revision >= r is applied yet; its delta is
 *   values(r) − values(previous applied revision). If revision r is already applied, the message
 *   recorded as its contributor recomputes the same delta (redelivery); anyone else adds 0. Parked
 *   copies of f up to r are then resolved (superseded), so they leave the unattributed list.
 *
 * - A message whose contribution would make a summary of its bucket non-finite (or whose latency
 *   the sketch cannot index) is refused before it changes anything (`rejected`; the consumer
 *   dead-letters it). Such poison costs no database round trip and no retry, and the rest of the
 *   batch is applied as usual. See aggregate-guard.ts.
 *
 * - Phase roll-ups (phase-rollup.ts): a contribution at or after the established phase start of its
 *   experiment and topic also goes to that roll-up, under the same guard. After the batch, where the
 *   state is complete, the roll-ups of each phase start learned since are established from the
 *   minute, hour and day buckets, and the plan's ledger documents record them.
 *
 * The state is mutated as the batch is planned (later messages of the batch see earlier ones); the
 * caller discards the whole partition state if the write fails.
 */
import type { ExposureData, FeedbackSubmittedData, GenerationLoggedData } from '@llmops/contracts';
import { latencyRefusal, nonFiniteField } from './aggregate-guard';
import {
  addValues,
  type Bucket,
  bucketId,
  type BucketValues,
  emptyBucket,
  emptyValues,
  minuteOf,
  newSketch,
  type Resolution,
  RESOLUTIONS,
  SOURCE_KINDS,
  type SourceKind,
} from './bucket';
import { feedbackDelta, feedbackValues, type FeedbackValues, limitScoreNames } from './feedback-values';
import {
  type AppliedRevision,
  type ArmSeenDoc,
  type JournalAdditions,
  messageId,
  type MessageId,
  NOT_IN_EXPERIMENT,
  type PartitionState,
  type Placement,
  type PendingDoc,
  type RequestGroup,
  type SeenGroup,
} from './partition-state';
import {
  coverSince,
  emptyPhaseBucket,
  mergeInto,
  phaseBucketId,
  type PhaseLedgerDoc,
  phaseLedgerId,
  type PhaseStarts,
} from './phase-rollup';
import { experimentScope, idScope } from './project-scope';

/** A consumed event with the project of its envelope (`projectOf`): every id it touches is scoped by it. */
export type PlannedEvent =
  | { kind: 'x'; offset: number; project: string; data: ExposureData }
  | { kind: 'g'; offset: number; project: string; data: GenerationLoggedData }
  | { kind: 'f'; offset: number; project: string; data: FeedbackSubmittedData };

export type Outcome = 'applied' | 'duplicate' | 'stale' | 'parked' | 'resolved' | 'ignored' | 'rejected';

export interface TouchedBucket {
  bucket: Bucket;
  /** lastOffset persisted before this batch; -1 for a bucket not yet in MongoDB. */
  previousLastOffset: number;
}

export interface BatchPlan {
  /** The state this batch adds: what its journal link records. */
  additions: JournalAdditions;
  /** Feedback parked by this batch (one document each, keyed by its message). */
  pending: PendingDoc[];
  /** Parked feedback whose generation arrived in this batch naming no experiment/arm: their stored reason. */
  notInExperiment: MessageId[];
  arms: ArmSeenDoc[];
  buckets: TouchedBucket[];
  /** Phase roll-ups this batch established: written once its buckets are. */
  ledgers: PhaseLedgerDoc[];
  /** Experiment scopes whose phase this batch could not establish: a bucket is past the batch. */
  phasesNotEstablished?: string[];
  outcomes: Array<{ type: 'exposure' | 'generation' | 'feedback'; outcome: Outcome }>;
  /** Messages refused before they changed anything (poison), by offset, with the reason (planBatch always sets it). */
  rejected?: Array<{ offset: number; reason: string }>;
}

interface Contributor {
  kind: SourceKind;
  part: number;
  offset: number;
  id: MessageId;
}

class Planner {
  private readonly touched = new Map<string, TouchedBucket>();
  /** The minute, hour and day buckets of each (experiment scope, arm, minute, topic) this batch touched. */
  private readonly spans = new Map<string, TouchedBucket[]>();
  /** The batch's journal groups, by (project, experiment, arm). */
  private readonly seenGroups = new Map<string, SeenGroup>();
  private readonly requestGroups = new Map<string, RequestGroup>();
  readonly plan: BatchPlan & { rejected: NonNullable<BatchPlan['rejected']> } = {
    additions: { seen: [], requests: [], revisions: [], resolved: [] },
    pending: [],
    notInExperiment: [],
    arms: [],
    buckets: [],
    ledgers: [],
    outcomes: [],
    rejected: [],
    // Present from the start, so that every plan has one shape: set later only on some batches, it
    // made the optimized planner deoptimize on the plans that had it, several times per run.
    phasesNotEstablished: undefined,
  };

  constructor(
    private readonly state: PartitionState,
    private readonly phases?: PhaseStarts,
  ) {}

  private contribute(
    project: string,
    exp: string,
    arm: string,
    minute: number,
    message: Contributor,
    delta: BucketValues,
    latencyMs?: number,
  ): boolean {
    const scope = experimentScope(project, exp);
    const spanKey = `${scope}|${arm}|${minute}|${message.kind}`;
    let spans = this.spans.get(spanKey);
    if (!spans) {
      spans = RESOLUTIONS.map((res) => this.touch(project, exp, scope, arm, minute, message, res));
      const start = this.state.phaseStartOf(scope, message.kind);
      if (start !== undefined && minute >= start)
        spans.push(this.touchPhase(project, exp, scope, arm, start, message));
      this.spans.set(spanKey, spans);
    }
    let included = false;
    // The minute, hour and day that hold `minute` (and the phase roll-up): each bucket has its own
    // guard, so a contribution is included exactly once per bucket, whichever an earlier attempt stored.
    for (let i = 0; i < spans.length; i++) {
      const { bucket, previousLastOffset } = spans[i];
      if (message.offset <= previousLastOffset) continue; // already included by an earlier attempt
      addValues(bucket, delta);
      if (latencyMs !== undefined) {
        bucket.latency ??= newSketch();
        bucket.latency.accept(latencyMs);
      }
      bucket.lastOffset = Math.max(bucket.lastOffset, message.offset);
      if (RESOLUTIONS[i] === 'm') included = true;
    }
    return included;
  }

  /** The bucket of resolution `res` holding `minute`, as this batch found it (created when new). */
  private touch(
    project: string,
    exp: string,
    scope: string,
    arm: string,
    minute: number,
    message: Contributor,
    res: Resolution,
  ): TouchedBucket {
    const id = bucketId(scope, arm, minute, message.kind, message.part, res);
    const touched = this.touched.get(id);
    if (touched) return touched;
    let bucket = this.state.buckets.get(id);
    if (!bucket) {
      bucket = emptyBucket(project, exp, arm, minute, message.kind, message.part, res);
      this.state.buckets.set(id, bucket);
      const armId = `${scope}|${arm}|${message.part}`;
      if (!this.state.arms.has(armId)) {
        this.state.addArm(armId, project, exp, arm);
        this.plan.arms.push({ _id: armId, part: message.part, project, exp, arm });
      }
    }
    const fresh = { bucket, previousLastOffset: bucket.lastOffset };
    this.touched.set(id, fresh);
    return fresh;
  }

  /**
   * The established phase roll-up from `start` on, as this batch found it. Created empty when new:
   * establishing it created every roll-up whose buckets held data from `start` on, so a key without
   * one had none, and every contribution since went here.
   */
  private touchPhase(
    project: string,
    exp: string,
    scope: string,
    arm: string,
    start: number,
    message: Contributor,
  ): TouchedBucket {
    const id = phaseBucketId(scope, arm, start, message.kind, message.part);
    const touched = this.touched.get(id);
    if (touched) return touched;
    let bucket = this.state.buckets.get(id);
    if (!bucket) {
      bucket = emptyPhaseBucket(project, exp, arm, start, message.kind, message.part);
      this.state.buckets.set(id, bucket);
    }
    const fresh = { bucket, previousLastOffset: bucket.lastOffset };
    this.touched.set(id, fresh);
    return fresh;
  }

  /**
   * Establishes the roll-ups of every phase start learned since they were last established, for
   * topic `kind` as of this batch (which ends at `lastOffset`) and for the partition's other topics
   * as of the last batch of theirs this instance wrote (or none: a topic with no journal link has
   * nothing stored), where the state is complete (see phase-rollup.ts): per arm, the sum of the
   * buckets that cover [start, ∞). A topic no record reaches is thus established by the others'.
   */
  establishPhases(kind: SourceKind, lastOffset: number): void {
    const phases = this.phases;
    if (!phases) return;
    for (const k of SOURCE_KINDS) {
      const position = k === kind ? lastOffset : (this.state.expected.get(k) ?? 0) - 1;
      if (this.state.completeAfter(k, position)) this.establishPhasesOf(phases, k, position, k === kind);
    }
  }

  /**
   * `establishPhases` for topic `kind` as of `lastOffset`. `report`: name in the plan the experiments
   * a bucket past `lastOffset` kept from being established (for the batch's own topic).
   */
  private establishPhasesOf(
    phases: PhaseStarts,
    kind: SourceKind,
    lastOffset: number,
    report: boolean,
  ): void {
    const due: Array<{ scope: string; project: string; exp: string; arms: Set<string>; start: number }> = [];
    for (const [scope, e] of this.state.experiments) {
      const start = phases(e.project, e.exp);
      const established = this.state.phaseStartOf(scope, kind);
      // Phases only move forward: a start before the established one is a stale read of the experiment.
      if (start !== undefined && (established === undefined || start > established))
        due.push({ scope, ...e, start });
    }
    if (due.length === 0) return;
    const scopes = new Set(due.map((d) => d.scope));
    const byKey = new Map<string, Bucket[]>();
    // Experiments with a bucket past this batch: it holds what another writer stored after the
    // state's journal was read (a previous owner of the partition, still writing), not a complete
    // state to sum. They are established by a later batch, on a state loaded again.
    const past = new Set<string>();
    for (const b of this.state.buckets.values()) {
      if (b.kind !== kind) continue;
      const scope = experimentScope(b.project, b.exp);
      if (!scopes.has(scope)) continue;
      if (b.lastOffset > lastOffset) past.add(scope);
      const key = `${scope}|${b.arm}`;
      const list = byKey.get(key);
      if (list) list.push(b);
      else byKey.set(key, [b]);
    }
    const part = this.state.part;
    if (report && past.size > 0) this.plan.phasesNotEstablished = [...past];
    for (const { scope, project, exp, arms, start } of due) {
      if (past.has(scope)) continue;
      for (const arm of arms) {
        const id = phaseBucketId(scope, arm, start, kind, part);
        const existing = this.state.buckets.get(id);
        // A roll-up holds every contribution up to its lastOffset: one an interrupted attempt stored
        // at this offset is already what establishing it would give.
        if (existing && existing.lastOffset >= lastOffset) continue;
        const cover = coverSince(byKey.get(`${scope}|${arm}`) ?? [], start);
        if (cover.length === 0 && !existing) continue;
        const bucket = emptyPhaseBucket(project, exp, arm, start, kind, part);
        for (const b of cover) mergeInto(bucket, b);
        bucket.lastOffset = lastOffset;
        this.state.buckets.set(id, bucket);
        this.touched.set(id, { bucket, previousLastOffset: existing?.lastOffset ?? -1 });
      }
      this.state.establishPhase(scope, kind, start);
      this.plan.ledgers.push({
        _id: phaseLedgerId(scope, kind, part, start),
        project,
        exp,
        kind,
        part,
        start,
      });
    }
  }

  /**
   * Why `delta` cannot go into its bucket (null: it can). It depends on the message alone, never on
   * the bucket: a redelivered message is judged as it was the first time, even after later records
   * of its bucket were written (a refusal is not stored, so a bucket-dependent one could read a
   * refused record as "already included" on redelivery). Summing can still not overflow: the
   * contracts bound every summed value (see aggregate-guard.ts).
   */
  private refusal(exp: string, arm: string, delta: BucketValues, latencyMs?: number): string | null {
    if (latencyMs !== undefined) {
      const refused = latencyRefusal(latencyMs);
      if (refused) return refused;
    }
    const field = nonFiniteField(delta);
    return field ? `${field} of ${exp}/${arm} is not a finite number` : null;
  }

  private reject(type: 'generation' | 'feedback', offset: number, reason: string): void {
    this.plan.rejected.push({ offset, reason });
    this.plan.outcomes.push({ type, outcome: 'rejected' });
  }

  exposure(offset: number, project: string, data: ExposureData): void {
    const message = this.contributor('x', offset);
    const { experiment: exp, arm, userId } = data;
    const firstBy = this.state.seenByOrAdd(project, exp, arm, userId, offset);
    if (firstBy === undefined) {
      const key = `${project}\u0000${exp}\u0000${arm}`;
      let group = this.seenGroups.get(key);
      if (!group) {
        group = { project, exp, arm, users: [], offsets: [] };
        this.seenGroups.set(key, group);
        this.plan.additions.seen.push(group);
      }
      group.users.push(userId);
      group.offsets.push(offset);
    } else if (firstBy !== offset) {
      this.plan.outcomes.push({ type: 'exposure', outcome: 'duplicate' });
      return;
    }
    const delta = emptyValues();
    delta.exposures = 1;
    this.contribute(project, exp, arm, minuteOf(data.assignedAt), message, delta);
    this.plan.outcomes.push({ type: 'exposure', outcome: 'applied' });
  }

  generation(offset: number, project: string, data: GenerationLoggedData): void {
    const message = this.contributor('g', offset);
    const minute = minuteOf(data.timestamp);
    if (data.experiment && data.arm) {
      const delta = emptyValues();
      delta.generations = 1;
      delta.costSum = data.costUsd ?? 0;
      delta.latencyMoments = { n: 1, sum: data.latencyMs, sumSq: data.latencyMs * data.latencyMs };
      if (data.costUsd !== undefined) {
        delta.costMoments = { n: 1, sum: data.costUsd, sumSq: data.costUsd * data.costUsd };
      }
      delta.promptTokens = data.usage?.promptTokens ?? 0;
      delta.completionTokens = data.usage?.completionTokens ?? 0;
      const refused = this.refusal(data.experiment, data.arm, delta, data.latencyMs);
      if (refused) return this.reject('generation', offset, refused);
      this.contribute(project, data.experiment, data.arm, minute, message, delta, data.latencyMs);
      this.plan.outcomes.push({ type: 'generation', outcome: 'applied' });
    } else {
      this.plan.outcomes.push({ type: 'generation', outcome: 'ignored' });
    }
    const request = idScope(project, data.requestId);
    const exp = data.experiment ?? null;
    const arm = exp === null ? null : (data.arm ?? null);
    if (this.state.addRequestIfAbsent(request, exp, arm)) {
      const key = `${project}\u0000${exp}\u0000${arm}`;
      let group = this.requestGroups.get(key);
      if (!group) {
        group = { project, exp, arm, ids: [] };
        this.requestGroups.set(key, group);
        this.plan.additions.requests.push(group);
      }
      group.ids.push(data.requestId);
    }
    // Redelivered: the parked feedback this very message resolved in an earlier attempt.
    for (const r of this.state.contributedBy(message.id)) {
      const prev = this.previous(project, r.feedbackId, r.revision);
      this.contribute(project, r.exp, r.arm, r.minute, message, feedbackDelta(prev, r.values));
    }
    // Feedback that arrived before this generation: apply it now, as part of this message.
    for (const p of [...(this.state.pendingByRequest.get(request) ?? [])]) {
      if (!this.state.pendingIds.has(p._id)) continue; // superseded by an earlier one of the loop
      const outcome = this.revision(
        project,
        p.feedbackId,
        p.revision,
        p.values,
        p.requestId,
        p.minute,
        null,
        null,
        p._id,
        message,
      );
      if (outcome === 'parked') {
        // The generation is here but places the request in no experiment: say so in the list.
        if (p.reason === undefined) {
          p.reason = NOT_IN_EXPERIMENT;
          this.plan.notInExperiment.push(p._id);
        }
        continue;
      }
      this.resolve(p._id, request);
      this.plan.outcomes.push({ type: 'feedback', outcome: outcome === 'applied' ? 'resolved' : outcome });
    }
  }

  feedback(offset: number, project: string, data: FeedbackSubmittedData): void {
    const message = this.contributor('f', offset);
    const values = feedbackValues(data);
    // Its own contribution must be finite, even when it is parked until its generation arrives.
    const field = nonFiniteField(feedbackDelta(null, values));
    if (field) return this.reject('feedback', offset, `feedback ${field} is not a finite number`);
    const refusals: string[] = [];
    const outcome = this.revision(
      project,
      data.feedbackId,
      data.revision,
      values,
      data.requestId,
      minuteOf(data.timestamp),
      data.experiment ?? null,
      data.arm ?? null,
      message.id,
      message,
      { receivedAt: data.receivedAt, offset },
      refusals,
    );
    if (outcome === 'rejected') return this.reject('feedback', offset, refusals[0]);
    this.plan.outcomes.push({ type: 'feedback', outcome });
  }

  private revision(
    project: string,
    feedbackId: string,
    revision: number,
    values: FeedbackValues,
    requestId: string,
    minute: number,
    exp: string | null,
    arm: string | null,
    source: MessageId,
    message: Contributor,
    parkInfo?: { receivedAt: string; offset: number },
    refusals?: string[],
  ): Outcome {
    const scopedFeedbackId = idScope(project, feedbackId);
    const revs = this.state.revisions.get(scopedFeedbackId) ?? [];
    const own = revs.find((e) => e.revision === revision);
    if (own) {
      // Only the very message that applied it directly (its own source) re-derives its delta
      // (redelivery); a parked copy adds nothing here, and neither does the generation that resolved
      // one: it re-derives that revision once, from `contributedBy` (see `generation`), even when
      // the parked document is still there (left by a build before the journal, or by a crash).
      if (own.contributor !== own.source || own.contributor !== message.id || own.source !== source)
        return 'duplicate';
      const prev = revs.filter((e) => e.revision < revision).pop() ?? null;
      const delta = feedbackDelta(prev?.values ?? null, own.values);
      this.contribute(project, own.exp, own.arm, own.minute, message, delta);
      return 'applied';
    }
    const latest = revs.length > 0 ? revs[revs.length - 1] : null;
    if (latest && latest.revision > revision) return 'stale';
    const requestKey = idScope(project, requestId);
    // This very message was parked when first delivered: delivered again, it stays parked, as the
    // first delivery left it, even when this state now places its request (a replica whose clock
    // still holds the request within its retention). Applied now, its contribution could fall below
    // the offset guard of buckets the first delivery's later messages moved on, and be lost.
    if (
      parkInfo &&
      this.state.pendingIds.has(source) &&
      this.parkedAs(requestKey, source, feedbackId, revision)
    )
      return 'parked';
    let target: { exp: string; arm: string; minute: number } | null = null;
    // Where the request's generation placed it (looked up only when the feedback names no target).
    let req: Placement | undefined;
    if (latest) target = { exp: latest.exp, arm: latest.arm, minute: latest.minute };
    else if (exp && arm) target = { exp, arm, minute };
    else {
      req = this.state.requests.get(requestKey);
      // An explicit experiment without an arm still takes the arm from the generation.
      if (req?.exp && req.arm && (!exp || exp === req.exp)) target = { exp: req.exp, arm: req.arm, minute };
    }
    if (!target) {
      if (parkInfo && !this.state.pendingIds.has(source)) {
        const doc: PendingDoc = {
          _id: source,
          part: this.state.part,
          project,
          feedbackId,
          revision,
          requestId,
          values,
          minute,
          receivedAt: parkInfo.receivedAt,
          offset: parkInfo.offset,
          // Its generation was seen and placed the request elsewhere (no target: `req` was looked up).
          ...(req !== undefined ? { reason: NOT_IN_EXPERIMENT } : {}),
        };
        this.state.addPending(doc);
        this.plan.pending.push(doc);
      }
      return 'parked';
    }
    // Checked on the values as sent: the values kept for the aggregates are a subset of them.
    const refused = this.refusal(target.exp, target.arm, feedbackDelta(latest?.values ?? null, values));
    if (refused) {
      refusals?.push(refused);
      return 'rejected';
    }
    const kept = limitScoreNames(
      values,
      this.state.scoreNamesOf(experimentScope(project, target.exp), target.arm),
    );
    const doc: AppliedRevision = {
      project,
      feedbackId,
      revision,
      values: kept,
      source,
      contributor: message.id,
      ...target,
    };
    this.state.addRevision(doc);
    this.plan.additions.revisions.push(doc);
    this.contribute(
      project,
      target.exp,
      target.arm,
      target.minute,
      message,
      feedbackDelta(latest?.values ?? null, kept),
    );
    // Parked copies of this feedback up to this revision will never apply: superseded.
    for (const p of this.state.pendingByRequest.get(requestKey) ?? [])
      if (p.feedbackId === feedbackId && p.revision <= revision && p._id !== source)
        this.resolve(p._id, requestKey);
    return 'applied';
  }

  /** Whether message `source` is parked as revision `revision` of `feedbackId` of the request. */
  private parkedAs(requestKey: string, source: MessageId, feedbackId: string, revision: number): boolean {
    return (this.state.pendingByRequest.get(requestKey) ?? []).some(
      (p) => p._id === source && p.feedbackId === feedbackId && p.revision === revision,
    );
  }

  /** The values of the revision of `feedbackId` applied before `revision` (null: none). */
  private previous(project: string, feedbackId: string, revision: number): FeedbackValues | null {
    const revs = this.state.revisions.get(idScope(project, feedbackId)) ?? [];
    return revs.filter((e) => e.revision < revision).pop()?.values ?? null;
  }

  private resolve(id: MessageId, requestKey: string): void {
    if (this.state.resolvePending(id, requestKey)) this.plan.additions.resolved.push(id);
  }

  private contributor(kind: SourceKind, offset: number): Contributor {
    return { kind, part: this.state.part, offset, id: messageId(kind, this.state.part, offset) };
  }

  finish(): BatchPlan {
    // Buckets whose every contribution was already included need no write.
    this.plan.buckets = [...this.touched.values()].filter((t) => t.bucket.lastOffset > t.previousLastOffset);
    return this.plan;
  }
}

/** A plan that writes nothing (repository tests fill in its buckets). */
export function emptyPlan(): BatchPlan {
  return {
    additions: { seen: [], requests: [], revisions: [], resolved: [] },
    pending: [],
    notInExperiment: [],
    arms: [],
    buckets: [],
    ledgers: [],
    outcomes: [],
  };
}

/**
 * Plans one partition batch (events in offset order, all from the same topic and partition).
 * `phases`: the experiments' current phase starts, for the phase roll-ups (none: no roll-up is
 * established, the established ones are kept).
 */
export function planBatch(state: PartitionState, events: PlannedEvent[], phases?: PhaseStarts): BatchPlan {
  const planner = new Planner(state, phases);
  for (const e of events) {
    if (e.kind === 'x') planner.exposure(e.offset, e.project, e.data);
    else if (e.kind === 'g') planner.generation(e.offset, e.project, e.data);
    else planner.feedback(e.offset, e.project, e.data);
  }
  if (events.length > 0) planner.establishPhases(events[0].kind, events[events.length - 1].offset);
  return planner.finish();
}
