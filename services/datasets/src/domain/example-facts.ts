/**
 * The examples as insert-only facts: one document per generation and one per feedback revision,
 * each with an id derived from what it records, so re-consumed events are refused as duplicates and
 * nothing is ever updated. An example is the fold of its facts. This is how examples are stored on a
 * server whose updates cost a scan of the collection (FerretDB); see persistence/example-writer.ts.
 */
import type { ExampleDoc, ExampleGeneration, FeedbackRevision } from './example';

export interface ExampleFact {
  /** `${example id}U+0000${path}`: the path is `generation` or `feedback.<key>.r<revision>`. */
  _id: string;
  /** The example id (`exampleId`). */
  example: string;
  project: string;
  requestId: string;
  path: string;
  /** The event's `receivedAt`: the fact's retention clock. */
  at: Date;
  generation?: ExampleGeneration;
  revision?: FeedbackRevision;
}

export const GENERATION_PATH = 'generation';

/** The facts of one example's values at `path` (`generation` or `feedback.<key>.r<revision>`). */
export function factOf(
  example: string,
  project: string,
  requestId: string,
  path: string,
  value: unknown,
  at: Date,
): ExampleFact {
  const fact: ExampleFact = { _id: `${example}\u0000${path}`, example, project, requestId, path, at };
  if (path === GENERATION_PATH) fact.generation = value as ExampleGeneration;
  else fact.revision = value as FeedbackRevision;
  return fact;
}

/** The facts an example document holds (tests seed examples through it). */
export function factsOfDoc(doc: ExampleDoc): ExampleFact[] {
  const facts: ExampleFact[] = [];
  if (doc.generation) {
    facts.push(factOf(doc._id, doc.project, doc.requestId, GENERATION_PATH, doc.generation, doc.firstSeenAt));
  }
  for (const [key, revisions] of Object.entries(doc.feedback ?? {})) {
    for (const [rev, revision] of Object.entries(revisions)) {
      facts.push(
        factOf(doc._id, doc.project, doc.requestId, `feedback.${key}.${rev}`, revision, doc.firstSeenAt),
      );
    }
  }
  return facts;
}

/** The example the facts of one example id make (the earliest fact time is its retention clock). */
export function foldFacts(facts: readonly ExampleFact[]): ExampleDoc {
  const first = facts[0];
  const doc: ExampleDoc = {
    _id: first.example,
    project: first.project,
    requestId: first.requestId,
    firstSeenAt: first.at,
  };
  for (const fact of facts) {
    if (fact.at < doc.firstSeenAt) doc.firstSeenAt = fact.at;
    if (fact.generation) {
      doc.generation = fact.generation;
      continue;
    }
    const [, key, rev] = fact.path.split('.');
    ((doc.feedback ??= {})[key] ??= {})[rev] = fact.revision as FeedbackRevision;
  }
  return doc;
}
