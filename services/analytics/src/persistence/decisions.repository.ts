/**
 * The decision of each experiment phase (see DecisionDoc): read by id, written whole after every
 * evaluation. One evaluator writes a phase's document at a time in practice (every instance with
 * the consumer evaluates, but the writes carry running minima and the last verdict, so the later
 * of two concurrent writes is as good as the earlier).
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import { experimentScope } from '../domain/project-scope';
import { DECISION, type DecisionDoc } from './analytics.schemas';
import { collectionFor, type ReadPath } from './read-path';

export function decisionId(project: string, key: string, phase: number): string {
  return `${experimentScope(project, key)}|${phase}`;
}

@Injectable()
export class DecisionsRepository {
  constructor(@InjectModel(DECISION) private readonly decisions: Model<DecisionDoc>) {}

  find(project: string, key: string, phase: number, path: ReadPath): Promise<DecisionDoc | null> {
    return collectionFor(this.decisions, path).findOne({ _id: decisionId(project, key, phase) });
  }

  async save(doc: DecisionDoc): Promise<void> {
    const { _id, ...rest } = doc;
    await collectionFor(this.decisions, 'background').replaceOne({ _id }, rest, { upsert: true });
  }
}
