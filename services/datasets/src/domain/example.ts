/**
 * One example per generation: the generation as it was logged and every revision of every piece of
 * feedback about it. Stored documents only ever receive unconditional upserts that are idempotent
 * and commute (see materialization), so what the latest values are is decided when an example is
 * read (`signals.ts`), never when it is written.
 */
import { DEFAULT_PROJECT, type FeedbackSubmittedData, type GenerationLoggedData } from '@llmops/contracts';
import { sha256Hex } from '@llmops/hashing';

export type ExampleInput = NonNullable<GenerationLoggedData['input']>;

/**
 * The generation as logged, plus the hash of its input (dedupe and preference pairs group by it).
 * Its `metadata` is not stored: no record carries it, and its keys may hold `.`, which FerretDB
 * refuses in field names.
 */
export interface ExampleGeneration {
  input?: ExampleInput;
  /** sha256Hex(canonicalize(input)); absent when the generation has no input. */
  inputHash?: string;
  output: string;
  prompt?: { name: string; hash: string };
  model: string;
  experiment?: string;
  arm?: string;
  userId?: string;
  latencyMs: number;
  usage?: { promptTokens: number; completionTokens: number };
  costUsd?: number;
  timestamp: string;
  receivedAt: string;
}

/** One named score of a feedback revision. */
export interface StoredScore {
  name: string;
  value: number;
}

/**
 * One revision of one piece of feedback, as submitted, except its scores: an array sorted by name
 * (score names may hold `.`, which FerretDB refuses in field names).
 */
export type FeedbackRevision = Pick<
  FeedbackSubmittedData,
  | 'feedbackId'
  | 'revision'
  | 'source'
  | 'rating'
  | 'ratingScale'
  | 'thumbs'
  | 'comment'
  | 'correction'
  | 'timestamp'
  | 'receivedAt'
> & { scores?: StoredScore[] };

export interface ExampleDoc {
  /** `exampleId(project, requestId)` */
  _id: string;
  project: string;
  requestId: string;
  /** Absent until the generation arrives: the example then holds parked feedback only. */
  generation?: ExampleGeneration;
  /** feedbackKey(feedbackId) -> `r<revision>` -> that revision. */
  feedback?: Record<string, Record<string, FeedbackRevision>>;
  /** The earliest `receivedAt` of the example's events: the retention clock. */
  firstSeenAt: Date;
}

/**
 * The example id of a request: the bare requestId in project `default`, `<project>U+001F<requestId>`
 * in another (request ids are opaque text that may hold `/` but never a control character).
 */
export function exampleId(project: string, requestId: string): string {
  return project === DEFAULT_PROJECT ? requestId : `${project}\u001f${requestId}`;
}

/** A field name for a feedback id (ids may hold `.` or start with `$`, which field paths cannot). */
export function feedbackKey(feedbackId: string): string {
  return sha256Hex(feedbackId).slice(0, 32);
}

/** The field name of revision `revision` inside a feedback item. */
export function revisionKey(revision: number): string {
  return `r${revision}`;
}
