/**
 * MongoDB side of the aggregation: the partition state and the buckets. The hot path uses the
 * native collections behind the models, never mongoose documents, and does no reads: the partition
 * state is a cache, loaded when a partition is (re)assigned or after a write conflict.
 *
 * Per batch: one partition journal link (the state the batch added, see partition-state.ts), the
 * rare parked feedback and arms directory documents, then the bucket versions. Everything is inserted
 * with deterministic ids; an error inside a bulk update would stop the rest of the bulk on FerretDB,
 * while an unordered insertMany continues past duplicate keys (E11000 -> WriteConflictError). Bucket
 * states go through the BucketStore the server supports.
 */
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { GroupedInsertError, GroupedInserts, isDuplicateKey } from '@llmops/platform';
import type { Model, mongo } from 'mongoose';
import { DEFAULT_PROJECT } from '@llmops/contracts';
import type { BatchPlan } from '../domain/batch-planner';
import { type Bucket, coverWindow, SOURCE_KINDS, type SpanRange } from '../domain/bucket';
import { nextTurn } from '../domain/next-turn';
import { PHASE_RES, type PhaseLedgerDoc } from '../domain/phase-rollup';
import { experimentScope } from '../domain/project-scope';
import {
  type ArmSeenDoc,
  type JournalDoc,
  NOT_IN_EXPERIMENT,
  PartitionState,
  type PendingDoc,
  type RequestDoc,
  type RevisionDoc,
  type SeenDoc,
} from '../domain/partition-state';
import {
  ARM_SEEN,
  BUCKET,
  JOURNAL,
  PENDING,
  PHASE_BUCKET,
  PHASE_LEDGER,
  REQUEST,
  REVISION,
  SEEN,
  type StoredBucket,
  type StoredJournal,
} from './analytics.schemas';
import {
  BUCKET_STORE,
  bucketOf,
  type BucketStore,
  fromStored,
  latestVersions,
  PHASE_BUCKET_STORE,
  settleAll,
  WriteConflictError,
} from './bucket-store';
import { deleteByIds, deleteCommandsFor } from './delete-by-ids';
import { fromStoredJournal, toStoredJournal } from './journal-codec';
import { collectionFor, type ReadPath } from './read-path';

/** The grouped inserts into the collection behind `model`. */
function grouped<T extends mongo.Document>(model: Model<T>): GroupedInserts<T> {
  return new GroupedInserts(() => collectionFor(model, 'background'));
}

/** Buckets read or decoded between two turns of the event loop. */
const SLICE = 250;

@Injectable()
export class AggregationRepository implements OnApplicationShutdown {
  constructor(
    @InjectModel(BUCKET) private readonly buckets: Model<StoredBucket>,
    @InjectModel(JOURNAL) private readonly journal: Model<StoredJournal>,
    // Written by builds before the journal: read at load only, so an upgraded database keeps its state.
    @InjectModel(SEEN) private readonly seen: Model<SeenDoc>,
    @InjectModel(REQUEST) private readonly requests: Model<RequestDoc>,
    @InjectModel(REVISION) private readonly revisions: Model<RevisionDoc>,
    @InjectModel(PENDING) private readonly pending: Model<PendingDoc>,
    @InjectModel(ARM_SEEN) private readonly arms: Model<ArmSeenDoc>,
    @InjectModel(PHASE_BUCKET) private readonly phaseBuckets: Model<StoredBucket>,
    @InjectModel(PHASE_LEDGER) private readonly ledgers: Model<PhaseLedgerDoc>,
    @Inject(BUCKET_STORE) private readonly store: BucketStore,
    @Inject(PHASE_BUCKET_STORE) private readonly phaseStore: BucketStore,
  ) {
    this.inserts = {
      journal: grouped(journal),
      arms: grouped(arms),
      pending: grouped(pending),
      ledgers: grouped(ledgers),
    };
  }

  /**
   * The inserts of the batches handled at once (one per lane) go to each collection together: one
   * command in flight per collection (see GroupedInserts).
   */
  private readonly inserts: {
    journal: GroupedInserts<StoredJournal>;
    arms: GroupedInserts<ArmSeenDoc>;
    pending: GroupedInserts<PendingDoc>;
    ledgers: GroupedInserts<PhaseLedgerDoc>;
  };

  /** Resolves when the deletes the bucket stores run beside the batches have ended. */
  async settled(): Promise<void> {
    await Promise.all([this.store.settled(), this.phaseStore.settled()]);
  }

  /** A delete of superseded versions in flight ends before the connection closes. */
  async onApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  /**
   * Loads everything partition number `part` owns (nine reads in parallel; only on (re)assignment,
   * gap or conflict): buckets, phase roll-ups and their ledger, journal, parked feedback, arms
   * directory and the collections older builds wrote. Deletes parked documents a journal link
   * resolved that a crash left behind. `requestsSince` (epoch ms, the request retention's cutoff):
   * the requests of links written before it, and the request documents of older builds whose
   * generation minute is before it, are not loaded (see `RequestPlacements`).
   */
  async loadPartition(part: number, requestsSince?: number): Promise<PartitionState> {
    const state = new PartitionState(part, requestsSince);
    const linksSince = requestsSince === undefined ? undefined : new Date(requestsSince).toISOString();
    const [buckets, phaseBuckets, ledgers, journal, pending, arms, seen, requests, revisions] =
      await Promise.all([
        collectionFor(this.buckets, 'background').find({ part }).toArray(),
        collectionFor(this.phaseBuckets, 'background').find({ part }).toArray(),
        collectionFor(this.ledgers, 'background').find({ part }).toArray(),
        collectionFor(this.journal, 'background').find({ part }).toArray(),
        collectionFor(this.pending, 'background').find({ part }).toArray(),
        collectionFor(this.arms, 'background').find({ part }).toArray(),
        collectionFor(this.seen, 'background').find({ part }).toArray(),
        collectionFor(this.requests, 'background')
          .find({ part }, { projection: { exp: 1, arm: 1, minute: 1 } })
          .toArray(),
        collectionFor(this.revisions, 'background').find({ part }).toArray(),
      ]);
    for (const b of latestVersions(buckets)) state.buckets.set(bucketOf(b), fromStored(b));
    await this.store.loaded(buckets);
    for (const b of latestVersions(phaseBuckets)) state.buckets.set(bucketOf(b), fromStored(b));
    await this.phaseStore.loaded(phaseBuckets);
    for (const l of ledgers) state.establishPhase(experimentScope(l.project, l.exp), l.kind, l.start);
    for (const s of seen) state.addLegacySeen(s);
    for (const r of requests)
      // Kept when any part of its minute is within the horizon.
      if (requestsSince === undefined || (r.minute + 1) * 60_000 > requestsSince)
        state.addRequest(r._id, r.exp ?? null, r.arm ?? null);
    for (const r of revisions) state.addRevision({ ...r, project: r.project ?? DEFAULT_PROJECT });
    for (const p of pending) state.addPending(p);
    const resolved = new Set<string>();
    for (const stored of journal) {
      // A link past the request retention adds no request (see RequestPlacements).
      const link = fromStoredJournal(stored, linksSince === undefined || stored.at >= linksSince);
      state.applyJournal(link);
      for (const id of link.resolved) resolved.add(id);
      state.journalHeads.set(link.kind, Math.max(state.journalHeads.get(link.kind) ?? -1, link.lastOffset));
    }
    for (const [kind, head] of state.journalHeads) state.loadedHeads.set(kind, head);
    const leftover = state.dropPending(resolved);
    if (leftover.length > 0) await deleteByIds(collectionFor(this.pending, 'background'), leftover);
    for (const a of arms) state.addArm(a._id, a.project ?? DEFAULT_PROJECT, a.exp, a.arm);
    return state;
  }

  /**
   * The phase roll-ups of `experiment` of `project` from `start` on (see phase-rollup.ts), or null
   * when some (topic, partition) holding data of the experiment has not established them for that
   * start: then only the window read is exact. The ledgers are read before the roll-ups, which are
   * stored before their ledger, so a ledger read vouches for roll-ups the next read finds.
   */
  async phaseRollups(
    project: string,
    experiment: string,
    start: number,
    path: ReadPath,
  ): Promise<Bucket[] | null> {
    const scope = { project, exp: experiment };
    const [arms, ledgers] = await Promise.all([
      collectionFor(this.arms, path)
        .find(scope, { projection: { part: 1 } })
        .toArray(),
      collectionFor(this.ledgers, path).find(scope).toArray(),
    ]);
    const established = new Map<string, number>();
    for (const l of ledgers) {
      const key = `${l.kind}|${l.part}`;
      established.set(key, Math.max(established.get(key) ?? l.start, l.start));
    }
    // Read only where every topic of every partition holding data has established them.
    for (const part of new Set(arms.map((a) => a.part)))
      for (const kind of SOURCE_KINDS) if (established.get(`${kind}|${part}`) !== start) return null;
    const docs = await collectionFor(this.phaseBuckets, path)
      .find({ ...scope, res: PHASE_RES, minute: start })
      .toArray();
    return latestVersions(docs).map(fromStored);
  }

  /**
   * The current version of the buckets that hold the minutes [fromMinute, toMinute) of `experiment`
   * of `project` (and of `arm` only, when given), each minute in exactly one bucket per (arm, topic,
   * partition): whole days, hours and minutes at the edges (`coverWindow`), so merging them gives
   * what merging that window's minute buckets gives. Where the window holds minute buckets stored
   * before roll-ups (no `res`), a second read covers their minutes [first, last] with minutes.
   * Read in batches and decoded in slices, letting other requests run in between.
   */
  async bucketsInWindow(
    project: string,
    experiment: string,
    fromMinute: number,
    toMinute: number,
    path: ReadPath,
    arm?: string,
  ): Promise<Bucket[]> {
    const scope = { project, exp: experiment, ...(arm === undefined ? {} : { arm }) };
    const window = { $gte: fromMinute, $lt: toMinute };
    // One read for the roll-ups and, in the same round trip, any minute bucket stored before them.
    let docs = await this.readSpans(scope, coverWindow(fromMinute, toMinute), path, {
      res: { $exists: false },
      minute: window,
    });
    let first = Infinity;
    let last = -Infinity;
    for (const doc of docs) {
      if (doc.res !== undefined) continue;
      first = Math.min(first, doc.minute);
      last = Math.max(last, doc.minute);
    }
    if (first <= last)
      docs = await this.readSpans(scope, coverWindow(fromMinute, toMinute, [first, last + 1]), path);
    const buckets: Bucket[] = [];
    for (const doc of latestVersions(docs)) {
      buckets.push(fromStored(doc));
      if (buckets.length % SLICE === 0) await nextTurn();
    }
    return buckets;
  }

  /** The stored bucket versions of `scope` in `ranges` (and matching `also`), in one round trip. */
  private async readSpans(
    scope: { project: string; exp: string; arm?: string },
    ranges: readonly SpanRange[],
    path: ReadPath,
    also?: mongo.Filter<StoredBucket>,
  ): Promise<StoredBucket[]> {
    const spans: Array<mongo.Filter<StoredBucket>> = ranges.map(({ res, from, to }) => ({
      // A minute bucket stored before roll-ups has no `res`.
      res: res === 'm' ? { $nin: ['h', 'd'] } : res,
      minute: { $gte: from, $lt: to },
    }));
    const docs: StoredBucket[] = [];
    const cursor = collectionFor(this.buckets, path)
      .find({ ...scope, $or: also ? [...spans, also] : spans })
      .batchSize(SLICE);
    for await (const doc of cursor) {
      docs.push(doc);
      if (docs.length % SLICE === 0) await nextTurn();
    }
    return docs;
  }

  /**
   * Up to `limit` directory documents of `project` after the (experiment, arm) pair `after`, in
   * (experiment, arm) order (one per partition that holds the pair), in one round trip.
   */
  armsAfter(
    project: string,
    after: [string, string] | undefined,
    limit: number,
    path: ReadPath,
  ): Promise<ArmSeenDoc[]> {
    const filter: mongo.Filter<ArmSeenDoc> = after
      ? { project, $or: [{ exp: { $gt: after[0] } }, { exp: after[0], arm: { $gt: after[1] } }] }
      : { project };
    return collectionFor(this.arms, path)
      .find(filter)
      .sort({ exp: 1, arm: 1 })
      .limit(limit)
      .batchSize(limit)
      .toArray();
  }

  /**
   * Writes a plan in two round trips: its journal link (null: none) with the arms directory
   * documents, then the bucket versions and phase roll-ups with the parked feedback, their reasons
   * and the deletes of the parked documents the batch resolved; a third, rare one stores the phase
   * ledgers the batch established, once their roll-ups are stored. After a crash between the link
   * and the buckets, the reloaded state names this batch's messages as creators, and the
   * redelivered batch recomputes their contributions (the buckets' guard skips those stored). A
   * link that another writer already extended is a WriteConflictError. Returns the number of
   * MongoDB commands sent.
   */
  async write(plan: BatchPlan, link: JournalDoc | null = null): Promise<number> {
    let commands = 0;
    const insertAll = <T extends mongo.Document>(
      inserts: GroupedInserts<T>,
      docs: T[],
    ): Array<Promise<void>> => {
      if (docs.length === 0) return [];
      return [
        inserts.insert(docs).then(
          (n) => {
            commands += n;
          },
          (err: unknown) => {
            if (isDuplicateKey(err))
              throw new WriteConflictError(`${inserts.collectionName}: a document already exists`);
            throw err;
          },
        ),
      ];
    };
    const pending = collectionFor(this.pending, 'background');
    const resolved = plan.additions.resolved;
    // A feedback parked and resolved within the batch is never stored (its delete could overtake its
    // insert), so of the resolved ones only those an earlier batch stored are deleted.
    const done = new Set(resolved);
    const parked = done.size > 0 ? plan.pending.filter((p) => !done.has(p._id)) : plan.pending;
    const parkedHere = new Set(plan.pending.map((p) => p._id));
    const storedResolved = resolved.filter((id) => !parkedHere.has(id));
    const reasons = plan.notInExperiment.filter((id) => !done.has(id));
    const marks = (): Array<Promise<void>> => {
      if (reasons.length === 0) return [];
      commands++;
      return [
        pending
          .updateMany({ _id: { $in: reasons } }, { $set: { reason: NOT_IN_EXPERIMENT } })
          .then(() => undefined),
      ];
    };
    // The link stores its parked-feedback state (`resolved`): once it is stored, a parked document
    // it resolved is never read again to derive anything (a redelivery re-derives from the link), so
    // its delete goes with the buckets; one a crash left behind is dropped by the next load.
    const deletes = (): Array<Promise<void>> => {
      if (storedResolved.length === 0) return [];
      commands += deleteCommandsFor(storedResolved.length);
      return [deleteByIds(pending, storedResolved)];
    };
    await settleAll([
      ...insertAll(this.inserts.journal, link ? [toStoredJournal(link)] : []),
      ...insertAll(this.inserts.arms, plan.arms),
    ]);
    // Parked documents only once the link is stored: a writer that lost the link race planned them
    // against stale state. After a crash before they are stored, the redelivered feedback parks again.
    // And before the buckets: a redelivery must find a feedback this batch parked still parked (the
    // planner keeps it so), since a later message's stored bucket would hold back its contribution.
    await settleAll(insertAll(this.inserts.pending, parked));
    const rollups = plan.buckets.filter((t) => t.bucket.res === PHASE_RES);
    const buckets =
      rollups.length > 0 ? plan.buckets.filter((t) => t.bucket.res !== PHASE_RES) : plan.buckets;
    await settleAll([
      ...marks(),
      ...deletes(),
      this.store.write(buckets).then((n) => {
        commands += n;
      }),
      this.phaseStore.write(rollups).then((n) => {
        commands += n;
      }),
    ]);
    if (plan.ledgers.length > 0) {
      // A ledger stored by an earlier attempt of this batch is the same document.
      commands += await this.inserts.ledgers.insert(plan.ledgers).catch((err: unknown) => {
        if (!isDuplicateKey(err)) throw err;
        return err instanceof GroupedInsertError ? err.commands : 1;
      });
    }
    return commands;
  }
}
