/**
 * Stores examples straight into the test database, as materialization stores them (the consumer
 * has its own tests), so snapshot tests control exactly which examples exist.
 */
import { canonicalize, sha256Hex } from '@llmops/hashing';
import { getModelToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Model, mongo } from 'mongoose';
import {
  type ExampleDoc,
  type ExampleGeneration,
  exampleId,
  feedbackKey,
  type FeedbackRevision,
  revisionKey,
} from '../../src/domain/example';
import { storedScores } from '../../src/materialization/example-upserts';
import { EXAMPLE, EXAMPLE_FACT } from '../../src/persistence/datasets.schemas';
import { EXAMPLE_LAYOUT, type ExampleLayout } from '../../src/persistence/example-layout';
import { type ExampleFact, factsOfDoc } from '../../src/domain/example-facts';

export interface SeedExample {
  requestId: string;
  project?: string;
  /** Omit the generation: feedback only (parked). null input: a generation without input. */
  generation?: Partial<Omit<ExampleGeneration, 'input'>> & { input?: ExampleGeneration['input'] | null };
  /** Feedback revisions (feedbackId, revision and source default per item; scores as sent). */
  feedback?: Array<Partial<Omit<FeedbackRevision, 'scores'>> & { scores?: Record<string, number> }>;
}

const T = '2026-03-01T12:00:00.000Z';

export function exampleDoc(seed: SeedExample): ExampleDoc {
  const project = seed.project ?? 'default';
  const doc: ExampleDoc = {
    _id: exampleId(project, seed.requestId),
    project,
    requestId: seed.requestId,
    firstSeenAt: new Date(),
  };
  if (seed.generation !== undefined) {
    const { input = `question of ${seed.requestId}`, ...rest } = seed.generation;
    doc.generation = {
      output: `answer of ${seed.requestId}`,
      model: 'gpt-test',
      latencyMs: 100,
      timestamp: T,
      receivedAt: T,
      ...rest,
      ...(input === null ? {} : { input, inputHash: sha256Hex(canonicalize(input)) }),
    };
  }
  if (seed.feedback?.length) {
    const feedback: NonNullable<ExampleDoc['feedback']> = (doc.feedback = {});
    seed.feedback.forEach(({ scores, ...f }, n) => {
      const revision: FeedbackRevision = {
        feedbackId: `${seed.requestId}-fb${n}`,
        revision: 1,
        source: 'user',
        ratingScale: { min: 1, max: 5 },
        timestamp: T,
        receivedAt: T,
        ...f,
        ...(scores ? { scores: storedScores(scores) } : {}),
      };
      (feedback[feedbackKey(revision.feedbackId)] ??= {})[revisionKey(revision.revision)] = revision;
    });
  }
  return doc;
}

/**
 * Stores (or replaces) example documents the way the service stores them: in `examples`, or as
 * their facts in `example_facts` (the layout the app chose at boot, see example-layout.ts).
 */
export async function storeExampleDocs(app: NestFastifyApplication, docs: ExampleDoc[]): Promise<void> {
  if (docs.length === 0) return;
  if (app.get<ExampleLayout>(EXAMPLE_LAYOUT) === 'facts') {
    const facts = app.get<Model<ExampleFact>>(getModelToken(EXAMPLE_FACT))
      .collection as unknown as mongo.Collection<ExampleFact>;
    await facts.deleteMany({ example: { $in: docs.map((d) => d._id) } });
    await facts.insertMany(docs.flatMap(factsOfDoc));
    return;
  }
  const examples = app.get<Model<ExampleDoc>>(getModelToken(EXAMPLE))
    .collection as unknown as mongo.Collection<ExampleDoc>;
  await examples.bulkWrite(
    docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
    { ordered: false },
  );
}

/** Stores (or replaces) the examples. */
export async function seedExamples(app: NestFastifyApplication, seeds: SeedExample[]): Promise<void> {
  await storeExampleDocs(app, seeds.map(exampleDoc));
}
