/**
 * Projects and keys: two projects with the same experiment key, arms, users, request and feedback
 * ids keep independent results; another project's experiment answers exactly like a missing one;
 * parked feedback and uncounted arms are per project; 401 without a valid key, 403 without
 * `results:read`; and 200 forged rating-5 items of another project naming this project's experiment
 * and arm change nothing here and are listed, not counted, in the forger's project.
 */
import { expectEventually, type IssuedTestKey, issueTestKey, testInfra } from '@llmops/testing';
import type { ExperimentResults } from '../src/results/dto/results.response';
import type { UncountedArmsPage } from '../src/results/list-uncounted-arms.usecase';
import type { UnattributedPage } from '../src/results/list-unattributed.usecase';
import { AnalyticsFixture } from './support/analytics-fixture';
import {
  experimentEvent,
  exposureEvent,
  feedbackEvent,
  generationEvent,
  type Produced,
} from './support/scenario';

const EXP = 'shared-exp';
const ARMS = [
  { name: 'A', weight: 1 },
  { name: 'B', weight: 1 },
];

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

describe('analytics per project (real Kafka + MongoDB)', () => {
  const infra = testInfra();
  let analytics: AnalyticsFixture;
  let acme: IssuedTestKey;
  let ingestOnly: IssuedTestKey;

  beforeAll(async () => {
    analytics = await AnalyticsFixture.start(infra, { env: null });
    // Issued before the service starts: it is ready once it has read them.
    acme = await issueTestKey(infra, { project: 'acme', scopes: ['results:read'] });
    ingestOnly = await issueTestKey(infra, { scopes: ['ingest'] });
    await analytics.startApp();
  });

  afterAll(() => analytics?.close());

  /** The same names in both projects, with different numbers: `ratings` on arm B, users on A. */
  function projectData(project: string | undefined, users: number, ratings: number[]): Produced[] {
    const at = new Date();
    const events: Produced[] = [experimentEvent(EXP, ARMS, 'A', 1, 'running', project)];
    for (let i = 0; i < users; i++) events.push(exposureEvent(EXP, 'A', `u${i}`, at, project));
    ratings.forEach((rating, i) => {
      events.push(generationEvent(`r${i}`, EXP, 'B', at, 100, 0.001, [1, 1], project));
      // Named no arm: joined through the generation of the same project.
      events.push(
        feedbackEvent(
          { feedbackId: `f${i}`, requestId: `r${i}`, rating, revision: 1, edit: null, at },
          project,
        ),
      );
    });
    // Parked: its generation never comes.
    events.push(
      feedbackEvent(
        { feedbackId: 'lost', requestId: 'never', rating: 1, revision: 1, edit: null, at },
        project,
      ),
    );
    return events;
  }

  const results = async (headers = analytics.app.process.headers) => {
    const res = await analytics.inject(`/v1/experiments/${EXP}/results?window=all`, headers);
    expect(res.status).toBe(200);
    return res.body as ExperimentResults;
  };
  const arm = (r: ExperimentResults, name: string) => r.arms.find((a) => a.arm === name)!;

  it('keeps two projects with the same names apart, and answers 404 for the other project’s experiment', async () => {
    await analytics.produce([...projectData(undefined, 3, [4, 4]), ...projectData('acme', 5, [1, 2, 3])]);
    await analytics.settle();

    const own = await results();
    expect(arm(own, 'A').exposures).toBe(3);
    expect(arm(own, 'B')).toMatchObject({ generations: 2, rating: { n: 2, mean: 4 } });
    const other = await results(acme.header);
    expect(other.experiment).toBe(EXP);
    expect(arm(other, 'A').exposures).toBe(5);
    expect(arm(other, 'B')).toMatchObject({ generations: 3, rating: { n: 3, mean: 2 } });

    // An experiment only `default` has: for acme exactly what a key no project has answers.
    await analytics.produce([experimentEvent('only-default', ARMS)]);
    await analytics.settle();
    expect((await analytics.inject('/v1/experiments/only-default/results')).status).toBe(200);
    const hidden = await analytics.inject('/v1/experiments/only-default/results', acme.header);
    const missing = await analytics.inject('/v1/experiments/nowhere/results', acme.header);
    expect(hidden.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(JSON.stringify(hidden.body).replaceAll('only-default', 'nowhere')).toBe(
      JSON.stringify(missing.body),
    );
    expect((hidden.body as ErrorBody).error.code).toBe('experiment_not_found');

    // Parked feedback: each project sees its own.
    for (const headers of [analytics.app.process.headers, acme.header]) {
      const page = (await analytics.inject('/v1/feedback/unattributed', headers)).body as UnattributedPage;
      expect(page.items.map((i) => [i.feedbackId, i.reason])).toEqual([['lost', 'generation_not_seen']]);
    }

    // Metrics: one series per project, the experiment label scoped for acme.
    await expectEventually(
      async () => {
        const text = (await analytics.inject('/metrics', {})).text;
        expect(text).toMatch(/^llmops_experiment_exposed_users\{experiment="shared-exp",arm="A"[^}]*\} 3$/m);
        expect(text).toMatch(
          /^llmops_experiment_exposed_users\{experiment="acme\/shared-exp",arm="A"[^}]*\} 5$/m,
        );
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  });

  it('answers 401 without a valid key and 403 without results:read', async () => {
    const invalid: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer llmk_not-a-key' },
      { authorization: 'Basic abc' },
    ];
    for (const url of [`/v1/experiments/${EXP}/results`, '/v1/feedback/unattributed', '/v1/arms/uncounted']) {
      for (const headers of invalid) {
        const res = await analytics.inject(url, headers);
        expect([url, res.status]).toEqual([url, 401]);
        expect((res.body as ErrorBody).error.code).toBe('unauthenticated');
      }
      const forbidden = await analytics.inject(url, ingestOnly.header);
      expect([url, forbidden.status]).toEqual([url, 403]);
      expect((forbidden.body as ErrorBody).error.code).toBe('forbidden');
    }
    // Probes and metrics stay open.
    expect((await analytics.inject('/health/live', {})).status).toBe(200);
  });

  it('counts only the arms an experiment has: forged items of another project and unknown arms are listed, not counted', async () => {
    const before = await results();
    const at = new Date();
    const forged: Produced[] = [];
    // What ingestion writes for 200 rating-5 items sent with a key of project `intruder` naming
    // default's experiment and arm B: events of project `intruder`.
    for (let i = 0; i < 200; i++) {
      forged.push(
        feedbackEvent(
          {
            feedbackId: `forged-${i}`,
            requestId: `forged-r${i}`,
            experiment: EXP,
            arm: 'B',
            rating: 5,
            revision: 1,
            edit: null,
            at,
          },
          'intruder',
        ),
      );
    }
    // In default's own project: an arm the experiment does not have, and an experiment it lacks.
    forged.push(exposureEvent(EXP, 'Z', 'u-z', at), generationEvent('rz', EXP, 'Z', at, 100, 0.001, [1, 1]));
    forged.push(
      feedbackEvent({ feedbackId: 'fz', requestId: 'rz', rating: 5, revision: 1, edit: null, at }),
      feedbackEvent({
        feedbackId: 'fq',
        requestId: 'rq',
        experiment: 'no-such-exp',
        arm: 'A',
        rating: 5,
        revision: 1,
        edit: null,
        at,
      }),
    );
    await analytics.produce(forged);
    await analytics.settle();

    const intruder = await issueTestKey(infra, { project: 'intruder', scopes: ['results:read'] });
    await expectEventually(async () => {
      const page = await analytics.inject('/v1/arms/uncounted', intruder.header);
      expect(page.status).toBe(200);
      expect(page.body).toEqual({
        items: [
          {
            experiment: EXP,
            arm: 'B',
            reason: 'experiment_not_found',
            exposures: 0,
            generations: 0,
            ratings: 200,
            thumbs: 0,
            comments: 0,
            corrections: 0,
          },
        ],
        nextCursor: null,
      } satisfies UncountedArmsPage);
    });
    // The intruder cannot read default's results either.
    expect((await analytics.inject(`/v1/experiments/${EXP}/results`, intruder.header)).status).toBe(404);

    const after = await results();
    expect(after.arms).toEqual(before.arms);
    expect(after.arms.map((a) => a.arm)).toEqual(['A', 'B']);
    expect(after.srm).toEqual(before.srm);

    const own = (await analytics.inject('/v1/arms/uncounted')).body as UncountedArmsPage;
    expect(
      own.items.map((i) => [i.experiment, i.arm, i.reason, i.exposures, i.generations, i.ratings]),
    ).toEqual([
      ['no-such-exp', 'A', 'experiment_not_found', 0, 0, 1],
      [EXP, 'Z', 'arm_not_in_experiment', 1, 1, 1],
    ]);
    // acme has nothing uncounted; pages are per project.
    expect((await analytics.inject('/v1/arms/uncounted', acme.header)).body).toEqual({
      items: [],
      nextCursor: null,
    });
    // One item a page: the cursor walks on to the next pair.
    const first = (await analytics.inject('/v1/arms/uncounted?limit=1')).body as UncountedArmsPage;
    expect(first.items.map((i) => i.arm)).toEqual(['A']);
    const second = (await analytics.inject(`/v1/arms/uncounted?limit=1&cursor=${first.nextCursor}`))
      .body as UncountedArmsPage;
    expect(second.items.map((i) => i.arm)).toEqual(['Z']);
    expect((await analytics.inject('/v1/arms/uncounted?limit=0')).status).toBe(400);
    expect((await analytics.inject('/v1/arms/uncounted?cursor=bm9wZQ')).status).toBe(400);
  });
});
