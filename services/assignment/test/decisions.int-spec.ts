/**
 * Decision policies and decisions (real Kafka, MongoDB and registry): `decision` on create and
 * PATCH (validated, 400 with field paths, in the snapshot on the experiments topic), and the
 * decisions consumer: a `guardrail-breach` with `autoStop.onGuardrailBreach`, a `winner`, and a
 * `no-difference` with `autoStop.onDecision` stop the experiment through the stop use case (one
 * status event, one audit event whose actor is the decision); a decision about an earlier phase,
 * or one its policy does not act on, changes nothing; replaying every decision changes nothing.
 */
import {
  createEvent,
  EVENT_TYPES,
  type ExperimentDecisionData,
  type ExperimentDecisionDataInput,
  experimentDecisionEventId,
  experimentTopicKey,
  parseEvent,
  serializeEvent,
  TOPICS,
  topicName,
} from '@llmops/contracts';
import { expectEventually, startTopicReader, testInfra, type TopicReader } from '@llmops/testing';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { type AssignmentApp, startAssignmentApp } from './support/assignment-app';
import { type ArmSpec, createRunning, registeredArms } from './support/fixtures';
import type { RegistryHandle } from './support/registry';
import { startTestRegistry } from './support/test-registry';

type Issues = { error: { code: string; details: { issues: Array<{ path: string; message: string }> } } };
type Experiment = {
  status: string;
  phase: number;
  revision: number;
  arms: Array<{ name: string; prompt: { name: string; hash: string } }>;
  decision?: Record<string, unknown>;
};

const POLICY = { primary: 'rating', direction: 'increase' } as const;
const GUARDED = {
  ...POLICY,
  guardrails: [{ metric: 'latencyMs', maxRelativeIncrease: 0.1 }],
  autoStop: { onGuardrailBreach: true },
};

describe('decision policies and decisions', () => {
  const infra = testInfra();
  const decisionsTopic = topicName(TOPICS.experimentDecisions, infra.topicPrefix);
  let registry: RegistryHandle;
  let app: AssignmentApp;
  let arms: ArmSpec[];
  let audit: TopicReader;
  let experiments: TopicReader;
  let producer: Producer;
  /** Every decision record published, for the replay. */
  const published: Array<{ key: string; value: string }> = [];

  beforeAll(async () => {
    registry = await startTestRegistry(infra);
    app = await startAssignmentApp(infra, { REGISTRY_URL: registry.url });
    arms = await registeredArms(registry, 'decided', [
      ['A', 1],
      ['B', 1],
    ]);
    audit = await startTopicReader(infra.kafkaBrokers, topicName(TOPICS.audit, infra.topicPrefix));
    experiments = await startTopicReader(
      infra.kafkaBrokers,
      topicName(TOPICS.experiments, infra.topicPrefix),
    );
    const kafka = new Kafka({ brokers: infra.kafkaBrokers.split(','), logLevel: logLevel.NOTHING });
    producer = kafka.producer();
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    await producer?.disconnect();
    await audit?.stop();
    await experiments?.stop();
    await app?.close();
    await registry?.stop();
  });

  /** Decisions the consumer has handled so far, whatever they did (`llmops_experiment_decisions_total`). */
  async function handled(outcome?: string): Promise<number> {
    const res = await app.app.getHttpAdapter().getInstance().inject({ method: 'GET', url: '/metrics' });
    let total = 0;
    for (const [, labels, value] of res.body.matchAll(
      /^llmops_experiment_decisions_total\{(.*)\} (\d+)$/gm,
    )) {
      if (outcome === undefined || labels.includes(`outcome="${outcome}"`)) total += Number(value);
    }
    return total;
  }

  /** Publishes records to the decisions topic and waits until the consumer has handled them. */
  async function publish(records: Array<{ key: string; value: string }>): Promise<void> {
    const before = await handled();
    await producer.send({ topic: decisionsTopic, acks: -1, messages: records });
    await expectEventually(async () => expect(await handled()).toBe(before + records.length));
  }

  /** A decision event as analytics publishes it (deterministic id), about `experiment`'s `phase`. */
  async function decide(
    experiment: string,
    verdict: ExperimentDecisionData['verdict'],
    policy: ExperimentDecisionDataInput['policy'],
    phase = 1,
  ): Promise<string> {
    const current = (await app.request<Experiment>('GET', `/v1/experiments/${experiment}`)).body;
    const winner = current.arms[1];
    const data: ExperimentDecisionDataInput = {
      experimentKey: experiment,
      phase,
      verdict,
      previousVerdict: null,
      winner:
        verdict === 'winner'
          ? { arm: winner.name, prompt: { name: winner.prompt.name, hash: winner.prompt.hash } }
          : null,
      breaches:
        verdict === 'guardrail-breach'
          ? [{ arm: winner.name, guardrail: 'latencyMs maxRelativeIncrease 0.1', metric: 'latencyMs' }]
          : [],
      control: 'A',
      alpha: 0.05,
      primary: [],
      guardrails: [],
      policy,
      evaluatedAt: new Date().toISOString(),
    };
    const id = experimentDecisionEventId('default', {
      ...data,
      previousVerdict: null,
      winner: data.winner ?? null,
    });
    const event = createEvent(EVENT_TYPES.experimentDecision, data, { id, source: '/llmops/analytics' });
    const record = { key: experimentTopicKey(experiment), value: serializeEvent(event) };
    published.push(record);
    await publish([record]);
    return id;
  }

  const status = async (key: string) =>
    (await app.request<Experiment>('GET', `/v1/experiments/${key}`)).body.status;

  const auditsOf = (key: string, action: string) =>
    audit.records
      .map((r) => parseEvent(r.value).data as { action: string; resource: string; actor: string })
      .filter((a) => a.resource === key && a.action === action);

  const stopEventsOf = (key: string) =>
    experiments.records
      .map((r) => parseEvent(r.value))
      .filter(
        (e) =>
          e.type === EVENT_TYPES.experimentStatusChanged &&
          e.data.experiment.key === key &&
          e.data.experiment.status === 'stopped',
      );

  it('create and PATCH take a decision policy (defaults filled in), published in the snapshot; null removes it', async () => {
    const created = await app.request<Experiment>('POST', '/v1/experiments', {
      key: 'with-policy',
      arms,
      decision: { ...POLICY, autoPromote: { alias: 'production' } },
    });
    expect(created.status).toBe(201);
    expect(created.body.decision).toEqual({
      ...POLICY,
      alpha: 0.05,
      guardrails: [],
      autoStop: { onGuardrailBreach: false, onDecision: false },
      autoPromote: { alias: 'production' },
    });
    await app.request('POST', '/v1/experiments/with-policy/start');
    const patched = await app.request<Experiment>('PATCH', '/v1/experiments/with-policy', {
      decision: { ...GUARDED, alpha: 0.01 },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.decision).toMatchObject({ alpha: 0.01, autoStop: { onGuardrailBreach: true } });
    await expectEventually(() => {
      const updates = experiments.records
        .map((r) => parseEvent(r.value))
        .filter((e) => e.type === EVENT_TYPES.experimentUpdated && e.data.experiment.key === 'with-policy');
      expect(updates.at(-1)?.data).toMatchObject({
        changes: ['decision'],
        experiment: { revision: patched.body.revision, decision: { alpha: 0.01 } },
      });
    });
    const removed = await app.request<Experiment>('PATCH', '/v1/experiments/with-policy', { decision: null });
    expect(removed.status).toBe(200);
    expect(removed.body.decision).toBeUndefined();
  });

  it('400 validation_failed naming the field: unknown metrics, alpha 0 and 0.6, autoPromote over arms of different prompts', async () => {
    const refusals: Array<[body: Record<string, unknown>, path: string]> = [
      [{ ...POLICY, primary: 'clicks' }, 'decision.primary'],
      [
        { ...POLICY, guardrails: [{ metric: 'tokens', maxRelativeIncrease: 0.1 }] },
        'decision.guardrails.0.metric',
      ],
      [{ ...POLICY, alpha: 0 }, 'decision.alpha'],
      [{ ...POLICY, alpha: 0.6 }, 'decision.alpha'],
    ];
    for (const [decision, path] of refusals) {
      const res = await app.request<Issues>('POST', '/v1/experiments', { key: 'refused', arms, decision });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.issues.map((i) => i.path)).toEqual([path]);
    }

    const other = await registeredArms(registry, 'other-prompt', [['B', 1]]);
    const mixed = [arms[0], other[0]];
    const promote = { ...POLICY, autoPromote: { alias: 'production' } };
    const create = await app.request<Issues>('POST', '/v1/experiments', {
      key: 'refused',
      arms: mixed,
      decision: promote,
    });
    expect(create.status).toBe(400);
    expect(create.body.error.details.issues).toEqual([
      { path: 'decision.autoPromote', message: expect.stringContaining('"decided", "other-prompt"') },
    ]);

    // PATCH: adding autoPromote to arms of two prompts, or arms of two prompts to autoPromote.
    await app.request('POST', '/v1/experiments', { key: 'mixed', arms: mixed });
    const patch = await app.request<Issues>('PATCH', '/v1/experiments/mixed', { decision: promote });
    expect(patch.status).toBe(400);
    expect(patch.body.error.details.issues.map((i) => i.path)).toEqual(['decision.autoPromote']);
    await app.request('POST', '/v1/experiments', { key: 'promoting', arms, decision: promote });
    const rearm = await app.request<Issues>('PATCH', '/v1/experiments/promoting', { arms: mixed });
    expect(rearm.status).toBe(400);
    expect(rearm.body.error.details.issues.map((i) => i.path)).toEqual(['decision.autoPromote']);
    // A new phase too.
    await app.request('POST', '/v1/experiments/promoting/start');
    const phase = await app.request<Issues>('POST', '/v1/experiments/promoting/phases', { arms: mixed });
    expect(phase.status).toBe(400);
    expect(phase.body.error.details.issues.map((i) => i.path)).toEqual(['decision.autoPromote']);
    expect((await app.request<Experiment>('GET', '/v1/experiments/promoting')).body).toMatchObject({
      phase: 1,
      arms: [{ prompt: { name: 'decided' } }, { prompt: { name: 'decided' } }],
    });
  });

  it("403 forbidden unless the key may move autoPromote's alias (prompts:promote, not limited to other aliases), on create, PATCH and a new phase", async () => {
    type Refusal = { error: { code: string; details: Record<string, unknown> } };
    const readWrite = ['experiments:read', 'experiments:write', 'prompts:read'] as const;
    const writer = await app.issueKey({ name: 'writer', scopes: [...readWrite] });
    const promoter = await app.issueKey({ name: 'promoter', scopes: [...readWrite, 'prompts:promote'] });
    const stagingOnly = await app.issueKey({
      name: 'staging promoter',
      scopes: [...readWrite, 'prompts:promote'],
      aliases: ['staging'],
    });
    const promote = { ...POLICY, autoPromote: { alias: 'production' } };
    const noScope = { requiredScope: 'prompts:promote', alias: 'production' };
    const otherAliases = { allowedAliases: ['staging'] };
    const refused = async (
      reply: Promise<{ status: number; body: Refusal }>,
      details: Record<string, unknown>,
    ): Promise<void> => {
      const res = await reply;
      expect([res.status, res.body.error.code]).toEqual([403, 'forbidden']);
      expect(res.body.error.details).toMatchObject(details);
    };

    // Create.
    const body = { key: 'auto-promoted', arms, decision: promote };
    await refused(app.request<Refusal>('POST', '/v1/experiments', body, writer.header), noScope);
    await refused(app.request<Refusal>('POST', '/v1/experiments', body, stagingOnly.header), otherAliases);
    expect((await app.request('GET', '/v1/experiments/auto-promoted')).status).toBe(404);
    expect((await app.request('POST', '/v1/experiments', body, promoter.header)).status).toBe(201);
    const staged = { key: 'auto-staged', arms, decision: { ...POLICY, autoPromote: { alias: 'staging' } } };
    expect((await app.request('POST', '/v1/experiments', staged, stagingOnly.header)).status).toBe(201);

    // PATCH: adding autoPromote, or changing its alias.
    await app.request('POST', '/v1/experiments', { key: 'later-promoted', arms, decision: POLICY });
    const patch = (key: string, change: unknown, as: { header: Record<string, string> }) =>
      app.request<Refusal>('PATCH', `/v1/experiments/${key}`, change, as.header);
    await refused(patch('later-promoted', { decision: promote }, writer), noScope);
    await refused(patch('later-promoted', { decision: promote }, stagingOnly), otherAliases);
    await refused(patch('auto-staged', { decision: promote }, stagingOnly), otherAliases);
    expect(
      (await app.request<Experiment>('GET', '/v1/experiments/later-promoted')).body.decision,
    ).not.toHaveProperty('autoPromote');
    expect((await patch('later-promoted', { decision: promote }, promoter)).status).toBe(200);
    // Changes that keep the alias and the candidate versions need no promotion right.
    expect((await patch('auto-promoted', { description: 'by a writer' }, writer)).status).toBe(200);

    // A new phase with other prompt versions gives autoPromote other candidates.
    await app.request('POST', '/v1/experiments/auto-promoted/start');
    const rearmed = [arms[0], ...(await registeredArms(registry, 'decided', [['C', 1]]))];
    const phase = (as: { header: Record<string, string> }, change: unknown) =>
      app.request<Refusal>('POST', '/v1/experiments/auto-promoted/phases', change, as.header);
    await refused(phase(writer, { arms: rearmed }), noScope);
    await refused(phase(stagingOnly, { arms: rearmed }), otherAliases);
    expect((await app.request<Experiment>('GET', '/v1/experiments/auto-promoted')).body.phase).toBe(1);
    expect((await phase(writer, {})).status).toBe(201);
    expect((await phase(promoter, { arms: rearmed })).status).toBe(201);
    expect((await app.request<Experiment>('GET', '/v1/experiments/auto-promoted')).body).toMatchObject({
      phase: 3,
      arms: [{ name: 'A' }, { name: 'C' }],
    });
    // Nor does removing autoPromote.
    expect((await patch('later-promoted', { decision: POLICY }, writer)).status).toBe(200);
  });

  it('a guardrail breach stops the experiment when autoStop.onGuardrailBreach says so; the audit actor is the decision; users get the control prompt', async () => {
    await createRunning(app, { key: 'breach-watched', arms, decision: POLICY });
    const noAction = await handled('no-action');
    await decide('breach-watched', 'guardrail-breach', POLICY);
    expect(await handled('no-action')).toBe(noAction + 1);
    expect(await status('breach-watched')).toBe('running');

    await createRunning(app, { key: 'breach-stops', arms, decision: GUARDED });
    const id = await decide('breach-stops', 'guardrail-breach', GUARDED);
    expect(await status('breach-stops')).toBe('stopped');
    await expectEventually(() => {
      expect(auditsOf('breach-stops', 'experiment.stopped')).toEqual([
        expect.objectContaining({ actor: `decision:${id}` }),
      ]);
      expect(stopEventsOf('breach-stops')).toHaveLength(1);
    });

    const served = await app.request('POST', '/v1/assign', { experiment: 'breach-stops', userId: 'u1' });
    expect(served.body).toEqual({
      experiment: 'breach-stops',
      arm: 'A',
      prompt: { name: 'decided', hash: arms[0].prompt.ref },
      inExperiment: false,
      reason: 'not-running',
      phase: 1,
    });
  });

  it('a winner stops the experiment whatever autoStop says; no-difference only with autoStop.onDecision', async () => {
    await createRunning(app, { key: 'winner', arms, decision: POLICY });
    const id = await decide('winner', 'winner', POLICY);
    expect(await status('winner')).toBe('stopped');
    await expectEventually(() =>
      expect(auditsOf('winner', 'experiment.stopped').map((a) => a.actor)).toEqual([`decision:${id}`]),
    );

    await createRunning(app, { key: 'no-difference', arms, decision: POLICY });
    await decide('no-difference', 'no-difference', POLICY);
    expect(await status('no-difference')).toBe('running');
    const settles = { ...POLICY, minimumDetectableEffect: 0.2, autoStop: { onDecision: true } };
    await app.request('PATCH', '/v1/experiments/no-difference', { decision: settles });
    await decide('no-difference', 'no-difference', settles);
    expect(await status('no-difference')).toBe('stopped');
  });

  it('a decision about an earlier phase, or for an experiment that is not running, changes nothing', async () => {
    await createRunning(app, { key: 'rephased', arms, decision: GUARDED });
    expect((await app.request('POST', '/v1/experiments/rephased/phases', {})).status).toBe(201);
    const ignoredBefore = await handled('other-phase');
    await decide('rephased', 'winner', GUARDED, 1);
    await decide('rephased', 'guardrail-breach', GUARDED, 1);
    expect(await handled('other-phase')).toBe(ignoredBefore + 2);
    expect((await app.request<Experiment>('GET', '/v1/experiments/rephased')).body).toMatchObject({
      status: 'running',
      phase: 2,
    });

    await createRunning(app, { key: 'paused', arms, decision: GUARDED });
    await app.request('POST', '/v1/experiments/paused/pause');
    await decide('paused', 'winner', GUARDED);
    expect(await status('paused')).toBe('paused');
    expect(auditsOf('rephased', 'experiment.stopped')).toEqual([]);
  });

  it('replaying every decision changes nothing: no second status event, no second audit event', async () => {
    const stopped = ['breach-stops', 'winner', 'no-difference'];
    const revisions = await Promise.all(
      stopped.map(
        async (key) => (await app.request<Experiment>('GET', `/v1/experiments/${key}`)).body.revision,
      ),
    );
    const notRunning = await handled('not-running');
    await publish([...published]);
    // Every decision about a stopped experiment found it stopped (the paused one: paused).
    expect(await handled('not-running')).toBeGreaterThanOrEqual(notRunning + stopped.length);
    for (const [i, key] of stopped.entries()) {
      expect((await app.request<Experiment>('GET', `/v1/experiments/${key}`)).body).toMatchObject({
        status: 'stopped',
        revision: revisions[i],
      });
      expect(auditsOf(key, 'experiment.stopped')).toHaveLength(1);
      expect(stopEventsOf(key)).toHaveLength(1);
    }
    expect(await status('rephased')).toBe('running');
    expect(await status('paused')).toBe('paused');
    expect(await status('breach-watched')).toBe('running');
  });
});
