/**
 * The use case's ordering of claims and publishing, with in-memory fakes (the real store, broker and
 * replicas are in test/*.int-spec.ts).
 */
import { KafkaUnavailableError, newContext, type RequestContext } from '@llmops/platform';
import { Registry } from 'prom-client';
import { InMemoryRevisionStore } from '../../test/support/in-memory-revision-store';
import { loadFeedbackConfig } from '../config/feedback.config';
import type { ExperimentDirectory } from '../experiments/experiment-directory';
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
      for (const e of events) {
        const project = e.event.project === 'default' ? '' : ` [${e.event.project}]`;
        log.push(`publish ${e.event.id}${project} (${context.correlationId})`);
      }
    },
  } as unknown as EventPublisher;
  const queue = ['issued-1', 'issued-2'];
  const ids = {
    next: () => queue.shift() ?? 'out-of-ids',
    isServerIssued: (id: string) => id.startsWith('issued-'),
  } as unknown as ServerFeedbackIds;
  const firstRevisions = {
    record: (states: readonly RevisionState[], project: string) => {
      for (const s of states) log.push(`after-ack claim ${s.feedbackId}#${s.revision} (${project})`);
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
  // Experiment `summarizer` exists in project default, `rival` in project team-b.
  const known = new Set(['default/summarizer', 'team-b/rival']);
  const experiments = {
    has: (project: string, key: string) => known.has(`${project}/${key}`),
  } as unknown as ExperimentDirectory;
  const useCase = new SubmitFeedbackUseCase(
    config,
    revisions,
    publisher,
    new IngestionMetrics(new Registry()),
    experiments,
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
    const [out] = await useCase.execute([item()], ctx, 'default');
    expect(accepted(out)).toEqual(['issued-1', 1, 'new']);
    expect(log).toEqual(['publish fb:issued-1:1 (spec-correlation)', 'after-ack claim issued-1#1 (default)']);
  });

  it('queues no claim when the broker did not acknowledge (the client never learnt the id)', async () => {
    const { useCase, log, setBrokerDown } = setup();
    setBrokerDown(true);
    await expect(useCase.execute([item()], ctx, 'default')).rejects.toBeInstanceOf(KafkaUnavailableError);
    expect(log).toEqual([]);
  });

  it('with FEEDBACK_FIRST_CLAIM_AFTER_ACK=false, claims revision 1 before publishing', async () => {
    const { useCase, log } = setup({ FEEDBACK_FIRST_CLAIM_AFTER_ACK: 'false' });
    const [out] = await useCase.execute([item()], ctx, 'default');
    expect(accepted(out)).toEqual(['issued-1', 1, 'new']);
    expect(log).toEqual(['claim issued-1#1', 'publish fb:issued-1:1 (spec-correlation)']);
  });

  it.each([['true'], ['false']])(
    'refuses a client item naming an id issued to another item of the same request (after ack: %s)',
    async (afterAck) => {
      const { useCase, log } = setup({ FEEDBACK_FIRST_CLAIM_AFTER_ACK: afterAck });
      const outcomes = await useCase.execute(
        [item(), item({ feedbackId: 'issued-1', rating: 1 })],
        ctx,
        'default',
      );
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
    const [out] = await useCase.execute([item({ feedbackId: 'issued-9' })], ctx, 'default');
    expect(accepted(out)).toEqual(['issued-9', 2, 'edit']);
    expect(log).toEqual(['claim issued-9#2', 'publish fb:issued-9:2 (spec-correlation)']);
  });
});

describe('SubmitFeedbackUseCase: plain design (MongoDB)', () => {
  it('claims revision 1 of an issued UUIDv7 before publishing; a resubmission is a duplicate, a change an edit', async () => {
    const { useCase, log } = setup({}, 'plain');
    const [first] = await useCase.execute([item()], ctx, 'default');
    expect(first).toMatchObject({ ok: true, revision: 1, outcome: 'new' });
    const feedbackId = first?.ok ? first.feedbackId : '';
    expect(feedbackId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    expect(log).toEqual([`claim ${feedbackId}#1`, `publish fb:${feedbackId}:1 (spec-correlation)`]);
    const [again, changed] = await useCase.execute(
      [item({ feedbackId }), item({ feedbackId, rating: 1 })],
      ctx,
      'default',
    );
    expect(accepted(again)).toEqual([feedbackId, 1, 'duplicate']);
    expect(accepted(changed)).toEqual([feedbackId, 2, 'edit']);
  });
});

describe('SubmitFeedbackUseCase: projects', () => {
  it.each(['plain', 'paged'] as const)(
    'the same feedbackId in two projects is two items, each with revisions of its own (%s design)',
    async (design) => {
      const { useCase, log } = setup({}, design);
      const [inDefault] = await useCase.execute([item({ feedbackId: 'fb-1' })], ctx, 'default');
      const [inTeamB] = await useCase.execute([item({ feedbackId: 'fb-1', rating: 1 })], ctx, 'team-b');
      expect(accepted(inDefault)).toEqual(['fb-1', 1, 'new']);
      expect(accepted(inTeamB)).toEqual(['fb-1', 1, 'new']);
      const [edit] = await useCase.execute([item({ feedbackId: 'fb-1', rating: 2 })], ctx, 'team-b');
      expect(accepted(edit)).toEqual(['fb-1', 2, 'edit']);
      expect(log).toEqual([
        'claim fb-1#1',
        'publish fb:fb-1:1 (spec-correlation)',
        'claim fb-1#1@team-b',
        'publish fb:fb-1:1 [team-b] (spec-correlation)',
        'claim fb-1#1@team-b',
        'claim fb-1#2@team-b',
        'publish fb:fb-1:2 [team-b] (spec-correlation)',
      ]);
    },
  );

  it('accepts an item naming an experiment of its project and refuses one of another project exactly like a missing one', async () => {
    const { useCase, log } = setup({}, 'plain');
    const outcomes = await useCase.execute(
      [
        item({ feedbackId: 'ok', experiment: 'summarizer', arm: 'B' }),
        item({ feedbackId: 'theirs', experiment: 'rival', arm: 'B' }),
        item({ feedbackId: 'missing', experiment: 'nowhere', arm: 'B' }),
      ],
      ctx,
      'default',
    );
    expect(accepted(outcomes[0])).toEqual(['ok', 1, 'new']);
    const notFound = (key: string) => ({
      ok: false,
      rejection: {
        status: 404,
        code: 'experiment_not_found',
        message: `No experiment with key "${key}". Create it with POST /v1/experiments (assignment service); ingestion knows it within moments.`,
        details: { key },
      },
    });
    expect(outcomes[1]).toEqual(notFound('rival'));
    expect(outcomes[2]).toEqual(notFound('nowhere'));
    // A refused item claims nothing and publishes nothing.
    expect(log).toEqual(['claim ok#1', 'publish fb:ok:1 (spec-correlation)']);
    const [own] = await useCase.execute([item({ feedbackId: 'b', experiment: 'rival' })], ctx, 'team-b');
    expect(accepted(own)).toEqual(['b', 1, 'new']);
  });
});
