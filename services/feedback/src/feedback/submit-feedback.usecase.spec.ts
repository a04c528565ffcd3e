/**
 * The use case's ordering of claims and publishing, with in-memory fakes (the real store, broker and
 * replicas are in test/*.int-spec.ts).
 */
import { KafkaUnavailableError, newContext, type RequestContext } from '@llmops/platform';
import { Registry } from 'prom-client';
import { InMemoryRevisionStore } from '../../test/support/in-memory-revision-store';
import { loadFeedbackConfig } from '../config/feedback.config';
import type { EventPublisher, KeyedEvent } from '../ingestion/event-publisher';
import { IngestionMetrics } from '../ingestion/ingestion.metrics';
import { PagedFeedbackRevisions } from './paged-feedback-revisions';
import type { FirstRevisionWriter } from './persistence/first-revision-writer';
import { PlainFeedbackRevisions } from './plain-feedback-revisions';
import type { RevisionState } from './revision-plan';
import type { ServerFeedbackIds } from './server-feedback-ids';
import { type FeedbackOutcome, SubmitFeedbackUseCase } from './submit-feedback.usecase';

/** The use case over the FerretDB design (PagedFeedbackRevisions) with fake ids and writer, or the plain one. */
function setup(env: Record<string, string> = {}, design: 'paged' | 'plain' = 'paged') {
  const log: string[] = [];
  const store = new InMemoryRevisionStore(log);
  let brokerDown = false;
  const publisher = {
    async publish(_topic: string, events: readonly KeyedEvent[], context: RequestContext) {
      if (brokerDown) throw new KafkaUnavailableError();
      for (const e of events) log.push(`publish ${e.event.id} (${context.correlationId})`);
    },
  } as unknown as EventPublisher;
  const queue = ['issued-1', 'issued-2'];
  const ids = {
    next: () => queue.shift() ?? 'out-of-ids',
    isServerIssued: (id: string) => id.startsWith('issued-'),
  } as unknown as ServerFeedbackIds;
  const firstRevisions = {
    record: (states: readonly RevisionState[]) => {
      for (const s of states) log.push(`after-ack claim ${s.feedbackId}#${s.revision}`);
    },
    settled: () => undefined,
  } as unknown as FirstRevisionWriter;
  const config = loadFeedbackConfig({ LOG_LEVEL: 'silent', ...env });
  const revisions =
    design === 'plain'
      ? new PlainFeedbackRevisions(store, config.FEEDBACK_REVISION_MAX_ATTEMPTS)
      : new PagedFeedbackRevisions(store, ids, firstRevisions, {
          firstClaimAfterAck: config.FEEDBACK_FIRST_CLAIM_AFTER_ACK,
          maxClockSkewMs: config.FEEDBACK_ID_MAX_CLOCK_SKEW_MS,
          maxAttempts: config.FEEDBACK_REVISION_MAX_ATTEMPTS,
        });
  const useCase = new SubmitFeedbackUseCase(
    config,
    revisions,
    publisher,
    new IngestionMetrics(new Registry()),
  );
  return { useCase, log, setBrokerDown: (down: boolean) => (brokerDown = down) };
}

const item = (extra: Record<string, unknown> = {}) => ({
  requestId: 'r1',
  rating: 4,
  source: 'user',
  ...extra,
});
const ctx = newContext('spec-correlation');
const accepted = (o: FeedbackOutcome | undefined) => (o?.ok ? [o.feedbackId, o.revision, o.outcome] : o);

describe('SubmitFeedbackUseCase: server-issued ids', () => {
  it('publishes revision 1 of an issued id first and queues its claim only after the ack', async () => {
    const { useCase, log } = setup();
    const [out] = await useCase.execute([item()], ctx);
    expect(accepted(out)).toEqual(['issued-1', 1, 'new']);
    expect(log).toEqual(['publish fb:issued-1:1 (spec-correlation)', 'after-ack claim issued-1#1']);
  });

  it('queues no claim when the broker did not acknowledge (the client never learnt the id)', async () => {
    const { useCase, log, setBrokerDown } = setup();
    setBrokerDown(true);
    await expect(useCase.execute([item()], ctx)).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(log).toEqual([]);
  });

  it('with FEEDBACK_FIRST_CLAIM_AFTER_ACK=false, claims revision 1 before publishing', async () => {
    const { useCase, log } = setup({ FEEDBACK_FIRST_CLAIM_AFTER_ACK: 'false' });
    const [out] = await useCase.execute([item()], ctx);
    expect(accepted(out)).toEqual(['issued-1', 1, 'new']);
    expect(log).toEqual(['claim issued-1#1', 'publish fb:issued-1:1 (spec-correlation)']);
  });

  it.each([['true'], ['false']])(
    'refuses a client item naming an id issued to another item of the same request (after ack: %s)',
    async (afterAck) => {
      const { useCase, log } = setup({ FEEDBACK_FIRST_CLAIM_AFTER_ACK: afterAck });
      const outcomes = await useCase.execute([item(), item({ feedbackId: 'issued-1', rating: 1 })], ctx);
      expect(accepted(outcomes[0])).toEqual(['issued-1', 1, 'new']);
      expect(outcomes[1]).toMatchObject({
        ok: false,
        rejection: { status: 409, code: 'feedback_id_conflict' },
      });
      // Exactly one value for fb:issued-1:1, and nothing else of that id.
      expect(log.filter((l) => l.startsWith('publish'))).toEqual([
        'publish fb:issued-1:1 (spec-correlation)',
      ]);
    },
  );

  it('a recognised id without a readable claim is planned as revision 2 and claimed before publishing', async () => {
    const { useCase, log } = setup();
    const [out] = await useCase.execute([item({ feedbackId: 'issued-9' })], ctx);
    expect(accepted(out)).toEqual(['issued-9', 2, 'edit']);
    expect(log).toEqual(['claim issued-9#2', 'publish fb:issued-9:2 (spec-correlation)']);
  });
});

describe('SubmitFeedbackUseCase: plain design (MongoDB)', () => {
  it('claims revision 1 of an issued UUIDv7 before publishing; a resubmission is a duplicate, a change an edit', async () => {
    const { useCase, log } = setup({}, 'plain');
    const [first] = await useCase.execute([item()], ctx);
    expect(first).toMatchObject({ ok: true, revision: 1, outcome: 'new' });
    const feedbackId = first?.ok ? first.feedbackId : '';
    expect(feedbackId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(log).toEqual([`claim ${feedbackId}#1`, `publish fb:${feedbackId}:1 (spec-correlation)`]);
    const [again, changed] = await useCase.execute(
      [item({ feedbackId }), item({ feedbackId, rating: 1 })],
      ctx,
    );
    expect(accepted(again)).toEqual([feedbackId, 1, 'duplicate']);
    expect(accepted(changed)).toEqual([feedbackId, 2, 'edit']);
  });
});
