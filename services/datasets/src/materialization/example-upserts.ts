/**
 * The upsert of `examples` each generation or feedback event becomes. Every upsert is
 * unconditional: it sets fields that only this event (or a duplicate of it) ever sets, and lowers
 * `firstSeenAt`. Applied in any order, any number of times, they leave the same document, so a
 * batch re-consumed after a crash or a replay changes nothing (exactly-once effects without reads).
 * An edit also removes the revision it replaces; a stale revision that arrives after its edit is
 * stored beside it and loses at read time (`latestRevisions`: the highest revision wins).
 */
import type { FeedbackSubmittedData, GenerationLoggedData } from '@llmops/contracts';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import {
  type ExampleGeneration,
  exampleId,
  type FeedbackRevision,
  feedbackKey,
  revisionKey,
  type StoredScore,
} from '../domain/example';
import { compareText, defined } from '../domain/util';
import type { ExampleUpsert } from '../persistence/example-writer';

/**
 * The stored generation: the contract's fields only (unknown ones tolerated on read are dropped),
 * without `metadata` (no record reads it, and its keys may hold `.`).
 */
export function toGeneration(data: GenerationLoggedData): ExampleGeneration {
  return defined<ExampleGeneration>({
    input: data.input,
    inputHash: data.input === undefined ? undefined : sha256Hex(canonicalize(data.input)),
    output: data.output,
    prompt: data.prompt && { name: data.prompt.name, hash: data.prompt.hash },
    model: data.model,
    experiment: data.experiment,
    arm: data.arm,
    userId: data.userId,
    latencyMs: data.latencyMs,
    usage: data.usage && {
      promptTokens: data.usage.promptTokens,
      completionTokens: data.usage.completionTokens,
    },
    costUsd: data.costUsd,
    timestamp: data.timestamp,
    receivedAt: data.receivedAt,
  });
}

/** The stored revision of a piece of feedback. */
export function toRevision(data: FeedbackSubmittedData): FeedbackRevision {
  return defined<FeedbackRevision>({
    feedbackId: data.feedbackId,
    revision: data.revision,
    source: data.source,
    rating: data.rating,
    ratingScale: { min: data.ratingScale.min, max: data.ratingScale.max },
    thumbs: data.thumbs,
    comment: data.comment,
    correction: data.correction,
    scores: data.scores && storedScores(data.scores),
    timestamp: data.timestamp,
    receivedAt: data.receivedAt,
  });
}

/** Scores as `[{name, value}]` sorted by name: names may hold `.`, so they cannot be field names. */
export function storedScores(scores: Record<string, number>): StoredScore[] {
  return Object.keys(scores)
    .sort(compareText)
    .map((name) => ({ name, value: scores[name] }));
}

export function generationUpsert(project: string, data: GenerationLoggedData): ExampleUpsert {
  return {
    _id: exampleId(project, data.requestId),
    $set: { project, requestId: data.requestId, generation: toGeneration(data) },
    firstSeenAt: new Date(data.receivedAt),
  };
}

export function feedbackUpsert(project: string, data: FeedbackSubmittedData): ExampleUpsert {
  const item = `feedback.${feedbackKey(data.feedbackId)}`;
  return {
    _id: exampleId(project, data.requestId),
    $set: { project, requestId: data.requestId, [`${item}.${revisionKey(data.revision)}`]: toRevision(data) },
    ...(data.edit ? { $unset: { [`${item}.${revisionKey(data.edit.previousRevision)}`]: '' as const } } : {}),
    firstSeenAt: new Date(data.receivedAt),
  };
}

/**
 * One upsert per example: the batch's upserts of one `_id` merged in batch order (later `$set`s of
 * a path win, the earliest `firstSeenAt` wins). A revision that an edit of the same batch removes is
 * not set at all (the edit's own revision is set by the same update). One update per document also
 * keeps the unordered bulk write free of writes racing each other on one document.
 */
export function mergeUpserts(upserts: ExampleUpsert[]): ExampleUpsert[] {
  const merged = new Map<string, ExampleUpsert>();
  for (const u of upserts) {
    const into = merged.get(u._id);
    if (!into) {
      merged.set(u._id, { ...u, $set: { ...u.$set }, ...(u.$unset ? { $unset: { ...u.$unset } } : {}) });
      continue;
    }
    Object.assign(into.$set, u.$set);
    if (u.$unset) into.$unset = { ...into.$unset, ...u.$unset };
    if (u.firstSeenAt < into.firstSeenAt) into.firstSeenAt = u.firstSeenAt;
  }
  for (const u of merged.values()) for (const path of Object.keys(u.$unset ?? {})) delete u.$set[path];
  return [...merged.values()];
}
