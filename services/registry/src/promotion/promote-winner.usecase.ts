import { type CloudEvent, EVENT_TYPES, projectOf } from '@llmops/contracts';
import { AuditTrail, auditActorId, LOGGER, NotFoundError } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { RegistryCache } from '../cache/registry-cache';
import { aliasNameProblem } from '../domain/ref';
import { REGISTRY_METRICS, type RegistryMetrics } from '../metrics/registry.metrics';
import { OutboxPublisher } from '../outbox/outbox.publisher';
import { AliasMoveRepository } from '../persistence/alias-move.repository';
import {
  type Promotion,
  type PromotionDecision,
  PromotionRepository,
} from '../persistence/promotion.repository';
import type { PromotionRefusalReason } from '../persistence/promotion.schema';
import { PromptSummaryRepository } from '../persistence/prompt-summary.repository';
import { ResolveVersionUseCase } from '../prompts/resolve-version.usecase';

export type DecisionEvent = CloudEvent<typeof EVENT_TYPES.experimentDecision>;

/**
 * Applies a `winner` decision whose policy has `autoPromote`: moves the policy's alias of the
 * winning prompt to the winning version, compare-and-set against the alias's revision when the
 * phase started running (the baseline). The move is an ordinary alias move (history, alias-moved
 * event and audit record through the outbox) whose actor is `decision:<event id>`. An alias that
 * was moved since (even back to the same version), or whose name no client may set, is left alone,
 * and the refusal is recorded (the phase's record, an
 * `alias.promotion-refused` audit record, `llmops_registry_promotion_refusals_total`). The phase's
 * outcome is written once, so a replayed decision changes nothing.
 */
@Injectable()
export class PromoteWinnerUseCase {
  constructor(
    private readonly promotions: PromotionRepository,
    private readonly moves: AliasMoveRepository,
    private readonly resolver: ResolveVersionUseCase,
    private readonly summaries: PromptSummaryRepository,
    private readonly cache: RegistryCache,
    private readonly outbox: OutboxPublisher,
    private readonly audit: AuditTrail,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REGISTRY_METRICS) private readonly metrics: RegistryMetrics,
  ) {}

  async execute(event: DecisionEvent): Promise<void> {
    const { data } = event;
    const alias = data.policy.autoPromote?.alias;
    if (data.verdict !== 'winner' || !data.winner || alias === undefined) return;
    const project = projectOf(event);
    const { name, hash } = data.winner.prompt;
    const phase = { project, experimentKey: data.experimentKey, phase: data.phase, promptName: name, alias };
    const decided = (outcome: PromotionDecision['outcome'], extra: Partial<PromotionDecision> = {}) => ({
      decisionId: event.id,
      outcome,
      winnerHash: hash,
      decidedAt: new Date(),
      ...extra,
    });

    const record = await this.promotions.find(project, data.experimentKey, data.phase);
    if (record?.outcome) {
      // Applied before: only a refusal whose audit record may not have reached the broker is left.
      if (record.outcome === 'refused' && !record.auditPublished) await this.auditRefusal(record, event);
      return;
    }
    const problem = aliasNameProblem(alias);
    if (problem || !record || record.expectedHash === undefined) {
      const reason = problem ? 'invalid-alias' : 'no-baseline';
      if (record) return this.refuse(record, event, decided('refused', { reason }));
      if (await this.promotions.recordUnbasedRefusal(phase, decided('refused', { reason }))) {
        this.countRefusal(reason);
      }
      return this.auditStored(project, data.experimentKey, data.phase, event);
    }
    if (record.promptName !== name || record.alias !== alias) {
      return this.refuse(record, event, decided('refused', { reason: 'baseline-mismatch' }));
    }
    const target = await this.resolver.resolve(project, name, hash).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null;
      throw err;
    });
    if (!target) return this.refuse(record, event, decided('refused', { reason: 'version-not-found' }));

    const actor = auditActorId({ decision: event.id, project });
    const expectedRev = record.expectedRev ?? (await this.legacyExpectedRev(record));
    const result = await this.moves.compareAndMove(
      { project, name, alias, to: hash, toVersion: target.version.version, actor, movedAt: new Date() },
      expectedRev,
    );
    if (result.outcome === 'refused') {
      const actual = { actualHash: result.current?.to ?? null, actualRev: result.current?.rev ?? 0 };
      return this.refuse(record, event, decided('refused', { reason: 'alias-moved', ...actual }));
    }
    if (result.outcome === 'moved') {
      this.cache.setAlias(project, name, alias, hash);
      this.outbox.kick();
      await this.summaries
        .applyAliasMove({ ...result.move, movedAt: result.move.movedAt.toISOString() })
        .catch((err: unknown) =>
          this.logger.warn(
            { err, project, name, alias },
            'alias summary update failed; the outbox publisher will repair it',
          ),
        );
    }
    // Already at the winner: this decision moved it before its outcome was written, or someone did.
    const outcome = result.outcome === 'moved' || result.current.actor === actor ? 'promoted' : 'unchanged';
    if (
      await this.promotions.recordDecision(record.id, decided(outcome, { actualHash: record.expectedHash }))
    ) {
      this.metrics.autoPromotions.inc({ outcome });
      this.logger.info(
        { project, experimentKey: data.experimentKey, phase: data.phase, name, alias, to: hash, outcome },
        'winner decision applied to the alias',
      );
    }
  }

  /** A baseline recorded without its rev stands for the alias as it was when it was recorded. */
  private async legacyExpectedRev(record: Promotion): Promise<number> {
    const at = record.recordedAt ?? new Date();
    return (await this.moves.asOf(record.project, record.promptName, record.alias, at))?.rev ?? 0;
  }

  private async refuse(record: Promotion, event: DecisionEvent, refusal: PromotionDecision): Promise<void> {
    if (await this.promotions.recordDecision(record.id, refusal)) this.countRefusal(refusal.reason);
    await this.auditStored(record.project, record.experimentKey, record.phase, event);
  }

  private countRefusal(reason: PromotionRefusalReason | undefined): void {
    this.metrics.autoPromotions.inc({ outcome: 'refused' });
    if (reason) this.metrics.promotionRefusals.inc({ reason });
  }

  /** Audits the refusal as stored (a concurrent or earlier delivery may have written it). */
  private async auditStored(project: string, experimentKey: string, phase: number, event: DecisionEvent) {
    const stored = await this.promotions.find(project, experimentKey, phase);
    if (stored?.outcome === 'refused' && !stored.auditPublished) await this.auditRefusal(stored, event);
  }

  /**
   * The refusal's audit record, with an id derived from the decision's, so a re-sent record is the
   * same event; marked sent once the broker has it.
   */
  private async auditRefusal(record: Promotion, event: DecisionEvent): Promise<void> {
    const decisionId = record.decisionId ?? event.id;
    this.logger.warn(
      {
        project: record.project,
        experimentKey: record.experimentKey,
        phase: record.phase,
        name: record.promptName,
        alias: record.alias,
        reason: record.reason,
        expected: record.expectedHash ?? null,
        expectedRev: record.expectedRev ?? null,
        actual: record.actualHash ?? null,
        actualRev: record.actualRev ?? null,
      },
      'automatic promotion refused',
    );
    await this.audit.record(
      { decision: decisionId, project: record.project },
      {
        action: 'alias.promotion-refused',
        resource: `${record.promptName}/${record.alias}`,
        details: {
          experiment: record.experimentKey,
          phase: record.phase,
          reason: record.reason ?? null,
          expected: record.expectedHash ?? null,
          expectedRev: record.expectedRev ?? null,
          actual: record.actualHash ?? null,
          actualRev: record.actualRev ?? null,
          winner: record.winnerHash ?? null,
        },
      },
      undefined,
      { id: `audit/promotion-refused/${decisionId}`, time: record.decidedAt ?? new Date() },
    );
    await this.promotions.markAuditPublished(record.id);
  }
}
