import { isDuplicateKey, requestCollection } from '@llmops/platform';
import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model, mongo } from 'mongoose';
import { scopedId } from '../domain/project-scope';
import { PromotionDocument, type PromotionOutcome, type PromotionRefusalReason } from './promotion.schema';

/** The alias target an experiment phase started from. */
export interface PromotionBaseline {
  readonly project: string;
  readonly experimentKey: string;
  readonly phase: number;
  readonly promptName: string;
  readonly alias: string;
  readonly expectedHash: string | null;
  /** The alias's rev at the start; 0 when it did not exist. */
  readonly expectedRev: number;
  readonly startedAt: Date;
}

/** The outcome of a phase's winner decision. */
export interface PromotionDecision {
  readonly decisionId: string;
  readonly outcome: PromotionOutcome;
  readonly reason?: PromotionRefusalReason;
  readonly winnerHash: string;
  readonly actualHash?: string | null;
  readonly actualRev?: number;
  readonly decidedAt: Date;
}

export type Promotion = Partial<PromotionBaseline> &
  Partial<PromotionDecision> &
  Pick<PromotionBaseline, 'project' | 'experimentKey' | 'phase' | 'promptName' | 'alias'> & {
    readonly id: string;
    readonly recordedAt?: Date;
    readonly auditPublished: boolean;
  };

function toPromotion(d: PromotionDocument): Promotion {
  return {
    id: d._id,
    project: d.project,
    experimentKey: d.experimentKey,
    phase: d.phase,
    promptName: d.promptName,
    alias: d.alias,
    ...(d.expectedHash !== undefined ? { expectedHash: d.expectedHash } : {}),
    ...(d.expectedRev !== undefined ? { expectedRev: d.expectedRev } : {}),
    ...(d.startedAt ? { startedAt: d.startedAt } : {}),
    ...(d.recordedAt ? { recordedAt: d.recordedAt } : {}),
    ...(d.outcome
      ? {
          decisionId: d.decisionId,
          outcome: d.outcome,
          ...(d.reason ? { reason: d.reason } : {}),
          winnerHash: d.winnerHash,
          ...(d.actualHash !== undefined ? { actualHash: d.actualHash } : {}),
          ...(d.actualRev !== undefined ? { actualRev: d.actualRev } : {}),
          decidedAt: d.decidedAt,
        }
      : {}),
    auditPublished: d.auditPublished === true,
  };
}

/** Every write is insert-if-absent or set-if-unset: a replayed event never overwrites a record. */
@Injectable()
export class PromotionRepository {
  private readonly promotions: mongo.Collection<PromotionDocument>;

  constructor(@InjectModel(PromotionDocument.name) model: Model<PromotionDocument>) {
    this.promotions = requestCollection(model);
  }

  static idOf(project: string, experimentKey: string, phase: number): string {
    return scopedId(project, experimentKey, phase);
  }

  async find(project: string, experimentKey: string, phase: number): Promise<Promotion | null> {
    const doc = await this.promotions.findOne({
      _id: PromotionRepository.idOf(project, experimentKey, phase),
    });
    return doc ? toPromotion(doc) : null;
  }

  /** Records the alias as of the phase's start; false when the phase already has a record. */
  async recordBaseline(baseline: PromotionBaseline, recordedAt = new Date()): Promise<boolean> {
    return this.insertIfAbsent({
      _id: PromotionRepository.idOf(baseline.project, baseline.experimentKey, baseline.phase),
      ...baseline,
      recordedAt,
    });
  }

  /** Sets the phase's outcome unless it has one; false when it had. */
  async recordDecision(id: string, decision: PromotionDecision): Promise<boolean> {
    const result = await this.promotions.updateOne(
      { _id: id, outcome: { $exists: false } },
      { $set: decision },
    );
    return result.modifiedCount === 1;
  }

  /** A refusal without a baseline: the record holds only the decision; false when the phase has a record. */
  async recordUnbasedRefusal(
    phase: Omit<PromotionBaseline, 'expectedHash' | 'expectedRev' | 'startedAt'>,
    decision: PromotionDecision,
  ): Promise<boolean> {
    return this.insertIfAbsent({
      _id: PromotionRepository.idOf(phase.project, phase.experimentKey, phase.phase),
      ...phase,
      ...decision,
    });
  }

  async markAuditPublished(id: string): Promise<void> {
    await this.promotions.updateOne({ _id: id }, { $set: { auditPublished: true } });
  }

  private async insertIfAbsent(doc: PromotionDocument): Promise<boolean> {
    try {
      await this.promotions.insertOne(doc);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }
}
