/**
 * The decision of each experiment phase (see DecisionDoc), kept as insert-only revisions: `_id` is
 * `<decisionId>^<revision>`, and a save inserts the revision after the one its evaluation read.
 * Two evaluators (replicas) that read the same revision collide on the unique `_id`: exactly one
 * save is applied, the other is refused and its evaluation discarded (compare-and-set), so a save
 * from an older state never overwrites a newer one (`published` never moves backwards). An insert
 * of a unique `_id` is atomic on MongoDB and on FerretDB alike (FerretDB does not apply a
 * conditional update atomically). Each applied save deletes the older revisions of its phase.
 */
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import { isDuplicateKey } from '@llmops/platform';
import type { Model } from 'mongoose';
import { experimentScope } from '../domain/project-scope';
import { DECISION, type DecisionDoc } from './analytics.schemas';
import { collectionFor, type ReadPath } from './read-path';

export function decisionId(project: string, key: string, phase: number): string {
  return `${experimentScope(project, key)}|${phase}`;
}

/** A phase's decision as a save writes it: without its storage identity. */
export type DecisionFields = Omit<DecisionDoc, '_id' | 'decision' | 'revision'>;

@Injectable()
export class DecisionsRepository {
  constructor(@InjectModel(DECISION) private readonly decisions: Model<DecisionDoc>) {}

  /**
   * The latest revision of a phase's decision. A document stored before revisions (`_id` is the
   * decision id, no `revision`) reads as revision 0.
   */
  async find(project: string, key: string, phase: number, path: ReadPath): Promise<DecisionDoc | null> {
    const id = decisionId(project, key, phase);
    const [latest] = await collectionFor(this.decisions, path)
      .find({ $or: [{ decision: id }, { _id: id }] })
      .sort({ revision: -1 })
      .limit(1)
      .toArray();
    return latest ? { ...latest, decision: id, revision: latest.revision ?? 0 } : null;
  }

  /**
   * Saves `doc` as the revision after `readRevision` (the revision `find` returned, 0 when there was
   * none). Returns false, writing nothing, when another save got there first.
   */
  async save(doc: DecisionFields, readRevision: number): Promise<boolean> {
    const decision = decisionId(doc.project, doc.key, doc.phase);
    const revision = readRevision + 1;
    const collection = collectionFor(this.decisions, 'background');
    try {
      await collection.insertOne({ ...doc, _id: `${decision}^${revision}`, decision, revision });
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
    await collection.deleteMany({ $or: [{ _id: decision }, { decision, revision: { $lt: revision } }] });
    return true;
  }
}
