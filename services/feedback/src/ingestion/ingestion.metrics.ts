import { METRICS_REGISTRY } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import { Counter, type Registry } from 'prom-client';

export type IngestedEvent = 'generation' | 'feedback';
/** `accepted` for generations; feedback tells first submissions, edits and duplicates apart. */
export type IngestOutcome = 'accepted' | 'new' | 'edit' | 'duplicate';

/**
 * Labels are bounded enums only. Experiment and arm are deliberately NOT labels here: ingestion
 * accepts any experiment key a client sends, so they would be unbounded; analytics owns per-arm
 * metrics for the experiments it knows.
 */
@Injectable()
export class IngestionMetrics {
  private readonly accepted: Counter<'event' | 'outcome'>;
  private readonly rejected: Counter<'event' | 'code'>;
  private readonly publishFailures: Counter<'event'>;
  readonly revisionConflicts: Counter;
  private readonly firstClaims: Counter<'result'>;
  private readonly firstClaimWriteFailures: Counter;

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    this.accepted = new Counter({
      name: 'llmops_feedback_events_accepted_total',
      help: 'Events acknowledged by the broker and answered with 202, by event and outcome',
      labelNames: ['event', 'outcome'],
      registers: [registry],
    });
    this.rejected = new Counter({
      name: 'llmops_feedback_items_rejected_total',
      help: 'Items refused before publishing, by event and error code',
      labelNames: ['event', 'code'],
      registers: [registry],
    });
    this.publishFailures = new Counter({
      name: 'llmops_feedback_publish_failures_total',
      help: 'Requests answered 503 because the broker did not acknowledge',
      labelNames: ['event'],
      registers: [registry],
    });
    this.revisionConflicts = new Counter({
      name: 'llmops_feedback_revision_conflicts_total',
      help: 'Feedback revision compare-and-set attempts lost to a concurrent request (then re-planned)',
      registers: [registry],
    });
    this.firstClaims = new Counter({
      name: 'llmops_feedback_first_revision_claims_total',
      help:
        'Revision-1 claims of server-issued feedbackIds (written after the ack, as pages of ' +
        'feedback_first_revision_pages), by result: written, dropped (not written)',
      labelNames: ['result'],
      registers: [registry],
    });
    this.firstClaimWriteFailures = new Counter({
      name: 'llmops_feedback_first_revision_claim_write_failures_total',
      help: 'Failed writes of a page of revision-1 claims (retried with backoff)',
      registers: [registry],
    });
  }

  /** FirstRevisionMetrics */
  claims(result: 'written' | 'dropped', n: number): void {
    if (n > 0) this.firstClaims.inc({ result }, n);
  }

  writeFailed(): void {
    this.firstClaimWriteFailures.inc();
  }

  accept(event: IngestedEvent, outcome: IngestOutcome, n = 1): void {
    if (n > 0) this.accepted.inc({ event, outcome }, n);
  }

  reject(event: IngestedEvent, code: string): void {
    this.rejected.inc({ event, code });
  }

  publishFailed(event: IngestedEvent): void {
    this.publishFailures.inc({ event });
  }
}
