/**
 * The analytics documents as mongoose models. The hot path reads and writes the native collection
 * behind each model (`model.collection`, or `requestCollection(model)` with the request deadline);
 * the schemas name the collections, the identifying fields and the indexes, each beside the query it
 * serves. Summaries inside buckets and feedback values are written as they are (`strict: false`).
 */
import type { ModelDefinition } from '@nestjs/mongoose';
import type { DecisionVerdict, ExperimentDecisionData, ExperimentDecisionPolicy } from '@llmops/contracts';
import type { DecisionState } from '@llmops/stats';
import { type mongo, Schema } from 'mongoose';
import type { Bucket, BucketValues } from '../domain/bucket';
import type { PhaseLedgerDoc } from '../domain/phase-rollup';
import type {
  ArmSeenDoc,
  JournalDoc,
  PendingDoc,
  RequestDoc,
  RevisionDoc,
  SeenDoc,
} from '../domain/partition-state';

/**
 * One stored version of a bucket (see bucket-store.ts `toStored`): its summaries are one JSON text,
 * `values`; versions stored before that hold each summary as a field of their own.
 */
export interface StoredBucket extends Omit<Bucket, 'latency' | keyof BucketValues>, Partial<BucketValues> {
  /** `JSON.stringify` of the bucket's `BucketValues` (absent in documents stored before it). */
  values?: string;
  /** The version id, `${bucketId}^${previousLastOffset}`. */
  _id: string;
  /** The bucket every version of it shares. Absent before buckets were versioned (then `_id`). */
  bucketId?: string;
  /** lastOffset of the version this one supersedes (-1: first version; absent before versioning). */
  previousLastOffset?: number;
  latency: mongo.Binary | null;
}

/**
 * A partition journal link as stored: what it adds (its seen users, requests and applied revisions)
 * is one JSON text per field, the revisions grouped by project, experiment, arm and minute (see
 * journal-codec.ts). Links written with arrays (by earlier builds) still load.
 */
export interface StoredJournal extends Omit<JournalDoc, 'seen' | 'requests' | 'revisions'> {
  seen: string | JournalDoc['seen'];
  requests: string | JournalDoc['requests'];
  revisions: string | JournalDoc['revisions'];
}

export interface ExperimentDoc {
  /** `experimentScope(project, key)` */
  _id: string;
  project: string;
  key: string;
  revision: number;
  status: 'draft' | 'running' | 'paused' | 'stopped';
  control: string;
  /** `prompt`: the arm's prompt version (absent in documents stored before decisions). */
  arms: Array<{ name: string; weight: number; prompt?: { name: string; hash: string } }>;
  /** The decision policy of the snapshot (null or absent: none). */
  decision?: ExperimentDecisionPolicy | null;
  phase: number;
  /** When the current phase began (null: phase never changed while we watched; use all data). */
  phaseStartedAt: string | null;
  /** When the experiment was stopped (drives removal of its metrics). */
  stoppedAt: string | null;
  updatedAt: string;
}

const options = (collection: string) => ({ collection, versionKey: false, strict: false }) as const;
const owned = { _id: String, part: Number, project: String };
const placed = { exp: String, arm: String, minute: Number };
const feedback = { feedbackId: String, revision: Number };

const bucketFields = {
  ...owned,
  ...placed,
  res: String,
  bucketId: String,
  previousLastOffset: Number,
  kind: String,
  lastOffset: Number,
};

export const BucketSchema = new Schema<StoredBucket>(bucketFields, options('buckets'));
// Results, decisions, uncounted arms: the days, hours and minutes that cover a window of one experiment
// of a project, find({ project, exp, $or: [{ res, minute: { $gte, $lt } }, ...] }) (see coverWindow).
BucketSchema.index({ project: 1, exp: 1, res: 1, minute: 1 });
// Partition load after (re)assignment: find({ part }); the same for every state collection below.
BucketSchema.index({ part: 1 });

/**
 * Phase roll-ups (see phase-rollup.ts), stored like buckets, in a collection of their own: a
 * `window=all` read finds them without scanning the buckets (FerretDB scans a whole collection for
 * every find).
 */
export const PhaseBucketSchema = new Schema<StoredBucket>(bucketFields, options('phase_buckets'));
// Results of window=all: the roll-ups of one experiment's phase, find({ project, exp, minute }).
PhaseBucketSchema.index({ project: 1, exp: 1, minute: 1 });
PhaseBucketSchema.index({ part: 1 });

/** Which phase start the roll-ups of (experiment, topic, partition) are established for. Insert-only. */
export const PhaseLedgerSchema = new Schema<PhaseLedgerDoc>(
  { _id: String, part: Number, project: String, exp: String, kind: String, start: Number },
  options('phase_ledgers'),
);
// Results of window=all: find({ project, exp }).
PhaseLedgerSchema.index({ project: 1, exp: 1 });
PhaseLedgerSchema.index({ part: 1 });

/** The partition journal: one link per batch and topic (see partition-state.ts). Its `_id` chain is the compare-and-set. */
export const JournalSchema = new Schema<StoredJournal>(
  { _id: String, part: Number, kind: String, base: Number, lastOffset: Number, at: String },
  options('partition_journal'),
);
JournalSchema.index({ part: 1 });

// `exposures_seen`, `requests` and `feedback_revisions` hold what builds before the journal wrote;
// nothing writes them any more, partition loads read them (and the unattributed list `requests`
// and `feedback_revisions`), so an upgraded database keeps its state.
export const SeenSchema = new Schema<SeenDoc>(
  { ...owned, ...placed, createdBy: String },
  options('exposures_seen'),
);
SeenSchema.index({ part: 1 });

export const RequestSchema = new Schema<RequestDoc>(
  { ...owned, ...placed, createdBy: String },
  options('requests'),
);
RequestSchema.index({ part: 1 });

export const RevisionSchema = new Schema<RevisionDoc>(
  { ...owned, ...placed, ...feedback, source: String, contributor: String },
  options('feedback_revisions'),
);
RevisionSchema.index({ part: 1 });
// Unattributed feedback: the applied revisions of a page's feedback ids, find({ project, feedbackId: { $in } }).
RevisionSchema.index({ project: 1, feedbackId: 1 });

export const PendingSchema = new Schema<PendingDoc>(
  {
    ...owned,
    ...feedback,
    requestId: String,
    minute: Number,
    receivedAt: String,
    offset: Number,
    reason: String,
  },
  options('pending_feedback'),
);
PendingSchema.index({ part: 1 });
// Unattributed pages: find({ project, (feedbackId, revision) > cursor }).sort({ feedbackId, revision, receivedAt }).
PendingSchema.index({ project: 1, feedbackId: 1, revision: 1, receivedAt: 1 });
// Retention sweep: deleteMany({ receivedAt: { $lt: cutoff } }).
PendingSchema.index({ receivedAt: 1 });

export const ArmSeenSchema = new Schema<ArmSeenDoc>(
  { ...owned, exp: String, arm: String },
  options('arms_seen'),
);
ArmSeenSchema.index({ part: 1 });
// Uncounted arms: a project's (experiment, arm) pairs in order, find({ project, (exp, arm) > cursor }).sort({ exp, arm }).
ArmSeenSchema.index({ project: 1, exp: 1, arm: 1 });

export const ExperimentSchema = new Schema<ExperimentDoc>(
  {
    _id: String,
    project: String,
    key: String,
    revision: Number,
    status: String,
    control: String,
    arms: [{ _id: false, name: String, weight: Number, prompt: { name: String, hash: String } }],
    decision: Schema.Types.Mixed,
    phase: Number,
    phaseStartedAt: String,
    stoppedAt: String,
    updatedAt: String,
  },
  { versionKey: false, collection: 'experiments' },
);
// Uncounted arms and the metrics: the experiments of one project, find({ project }).
ExperimentSchema.index({ project: 1 });

/**
 * The decision of one experiment phase: the policy's running state (`@llmops/stats`' DecisionState,
 * passed back at the next evaluation), the last evaluation's statistics (what the results API shows)
 * and the verdict last published, saved as insert-only revisions of `<experimentScope(project, key)>|<phase>`.
 */
export interface DecisionDoc {
  /** `<decision>^<revision>` (see DecisionsRepository). */
  _id: string;
  /** `<project>/<key>|<phase>`: the phase this is a revision of. */
  decision: string;
  /** Counts the saves of this phase's decision from 1; a save writes the revision after the one it read. */
  revision: number;
  project: string;
  key: string;
  phase: number;
  state: DecisionState;
  /** The verdict of the last evaluation. */
  verdict: DecisionVerdict;
  /** The verdict last published for this phase (null: none yet; the phase starts at `continue`). */
  published: DecisionVerdict | null;
  /** Id of the last published decision event (null: none yet). */
  publishedEventId: string | null;
  /** The last evaluation, as the event data it would publish (statistics, winner, breaches, policy). */
  evaluation: ExperimentDecisionData;
  evaluatedAt: string;
}

export const DecisionSchema = new Schema<DecisionDoc>(
  {
    _id: String,
    decision: String,
    revision: Number,
    project: String,
    key: String,
    phase: Number,
    verdict: String,
    published: String,
    publishedEventId: String,
    evaluatedAt: String,
  },
  options('decisions'),
);
// The latest revision of one phase (the results API and the evaluator).
DecisionSchema.index({ decision: 1, revision: -1 });

export const BUCKET = 'Bucket';
export const PHASE_BUCKET = 'PhaseBucket';
export const PHASE_LEDGER = 'PhaseLedger';
export const JOURNAL = 'PartitionJournal';
export const SEEN = 'ExposureSeen';
export const REQUEST = 'Request';
export const REVISION = 'FeedbackRevision';
export const PENDING = 'PendingFeedback';
export const EXPERIMENT = 'Experiment';
export const ARM_SEEN = 'ArmSeen';
export const DECISION = 'Decision';

export const ANALYTICS_MODELS: ModelDefinition[] = [
  { name: BUCKET, schema: BucketSchema },
  { name: PHASE_BUCKET, schema: PhaseBucketSchema },
  { name: PHASE_LEDGER, schema: PhaseLedgerSchema },
  { name: JOURNAL, schema: JournalSchema },
  { name: SEEN, schema: SeenSchema },
  { name: REQUEST, schema: RequestSchema },
  { name: REVISION, schema: RevisionSchema },
  { name: PENDING, schema: PendingSchema },
  { name: ARM_SEEN, schema: ArmSeenSchema },
  { name: EXPERIMENT, schema: ExperimentSchema },
  { name: DECISION, schema: DecisionSchema },
];
