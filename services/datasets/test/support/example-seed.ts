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
import { EXAMPLE } from '../../src/persistence/datasets.schemas';

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

/** The test database's examples collection. */
export function examplesOf(app: NestFastifyApplication): mongo.Collection<ExampleDoc> {
  return app.get<Model<ExampleDoc>>(getModelToken(EXAMPLE))
    .collection as unknown as mongo.Collection<ExampleDoc>;
}

/** Stores (or replaces) the examples. */
export async function seedExamples(app: NestFastifyApplication, seeds: SeedExample[]): Promise<void> {
  const examples = examplesOf(app);
  await examples.bulkWrite(
    seeds.map((s) => {
      const doc = exampleDoc(s);
      return { replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } };
    }),
    { ordered: false },
  );
}
