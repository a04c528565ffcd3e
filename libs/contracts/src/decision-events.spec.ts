import {
  createEvent,
  EVENT_CATALOG,
  EVENT_SOURCES,
  EVENT_TYPES,
  experimentDecisionEventId,
  ExperimentSnapshotSchema,
  parseEvent,
  partitionKeyFor,
  safeParseEvent,
  serializeEvent,
  topicForEventType,
  TOPIC_SPECS,
  TOPICS,
} from './index';
import { VALID_DATA } from '../test/support/fixtures';

const type = EVENT_TYPES.experimentDecision;
const source = EVENT_SOURCES.analytics;
const DECISION = VALID_DATA[type];
const CREATED = VALID_DATA[EVENT_TYPES.experimentCreated];
const HASH_B = '0123456789abcdef'.repeat(4);

function issuesOf(data: object, tolerateUnknownFields = false): string[] {
  const envelope = JSON.parse(serializeEvent(createEvent(type, DECISION, { source }))) as Record<
    string,
    unknown
  >;
  const result = safeParseEvent(JSON.stringify({ ...envelope, data }), { tolerateUnknownFields });
  return result.ok ? [] : [...new Set(result.error.issues.map((i) => i.path))].sort();
}

describe('io.llmops.experiment.decision.v1', () => {
  it('is published by analytics on the experiment-decisions topic for assignment and the registry', () => {
    expect(type).toBe('io.llmops.experiment.decision.v1');
    expect(TOPICS.experimentDecisions).toBe('llmops.experiment-decisions.v1');
    expect(topicForEventType(type)).toBe(TOPICS.experimentDecisions);
    expect(TOPIC_SPECS.find((t) => t.name === TOPICS.experimentDecisions)).toMatchObject({
      compacted: false,
      partitions: 6,
      producer: 'analytics',
      consumers: ['assignment', 'registry'],
    });
    expect(EVENT_CATALOG[type]).toMatchObject({
      producer: 'analytics',
      source: '/llmops/analytics',
      messageName: 'ExperimentDecision',
      operationId: 'analytics.publishExperimentDecision',
    });
  });

  it('is keyed like the experiments topic: the experiment key, <project>/<key> outside default', () => {
    const { data } = createEvent(type, DECISION, { source, project: 'team-a' });
    expect(partitionKeyFor(type, data)).toBe('checkout-copy.v2');
    expect(partitionKeyFor(type, data, 'team-a')).toBe('team-a/checkout-copy.v2');
  });

  it('round-trips a breach, a winner, a no-difference and a continue', () => {
    const winner = {
      ...DECISION,
      verdict: 'winner' as const,
      previousVerdict: 'continue' as const,
      winner: { arm: 'friendly', prompt: { name: 'checkout', hash: HASH_B } },
      breaches: [],
    };
    const others = (['no-difference', 'continue'] as const).map((verdict) => ({
      ...DECISION,
      verdict,
      breaches: [],
    }));
    for (const data of [DECISION, winner, ...others]) {
      const event = createEvent(type, data, { source, project: 'team-a' });
      expect(parseEvent(serializeEvent(event)).data).toEqual(data);
    }
  });

  it('requires a winner iff the verdict is winner, and breaches iff it is guardrail-breach', () => {
    expect(issuesOf({ ...DECISION, breaches: [] })).toEqual(['data.breaches']);
    expect(issuesOf({ ...DECISION, verdict: 'winner' })).toEqual(['data.breaches', 'data.winner']);
    expect(
      issuesOf({
        ...DECISION,
        verdict: 'continue',
        breaches: [],
        winner: { arm: 'friendly', prompt: { name: 'checkout', hash: HASH_B } },
      }),
    ).toEqual(['data.winner']);
  });

  it('rejects an unknown verdict, p-values outside [0, 1], a bad alpha and an invalid policy', () => {
    expect(
      issuesOf({
        ...DECISION,
        verdict: 'maybe',
        previousVerdict: 'later',
        alpha: 0,
        primary: [{ ...DECISION.primary[0], pValue: 1.5, decided: 'tied' }],
        policy: { ...DECISION.policy, primary: 'clicks' },
      }),
    ).toEqual(
      expect.arrayContaining([
        'data.alpha',
        'data.policy.primary',
        'data.previousVerdict',
        'data.primary.0.decided',
        'data.primary.0.pValue',
        'data.verdict',
      ]),
    );
  });

  it('a tolerant consumer strips fields a newer minor adds, down to the policy', () => {
    const data = {
      ...DECISION,
      extra: 1,
      policy: { ...DECISION.policy, autoStop: { onGuardrailBreach: true, onDecision: false, later: 2 } },
    };
    expect(issuesOf(data)).toEqual(['data.extra', 'data.policy.autoStop.later']);
    expect(issuesOf(data, true)).toEqual([]);
  });
});

describe('experimentDecisionEventId', () => {
  const base = { experimentKey: 'checkout-copy.v2', phase: 2, verdict: 'winner' as const };
  const id = (over: object = {}, project = 'default') =>
    experimentDecisionEventId(project, {
      ...base,
      previousVerdict: 'continue',
      winner: { arm: 'friendly' },
      ...over,
    });

  it('is a UUID that depends only on project, experiment, phase, verdict, previous verdict and winner arm', () => {
    expect(id()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id()).toBe(id());
    const others = [
      id({}, 'team-a'),
      id({ experimentKey: 'other' }),
      id({ phase: 3 }),
      id({ verdict: 'guardrail-breach', winner: null }),
      id({ previousVerdict: null }),
      id({ winner: { arm: 'formal' } }),
    ];
    expect(new Set([id(), ...others]).size).toBe(others.length + 1);
  });

  it('ignores the statistics and the evaluation time', () => {
    const a = experimentDecisionEventId(
      'default',
      DECISION as Parameters<typeof experimentDecisionEventId>[1],
    );
    const b = experimentDecisionEventId('default', {
      ...(DECISION as Parameters<typeof experimentDecisionEventId>[1]),
      evaluatedAt: '2030-01-01T00:00:00.000Z',
    } as Parameters<typeof experimentDecisionEventId>[1]);
    expect(a).toBe(b);
  });
});

describe('decision policy in the experiment snapshot', () => {
  const policy = DECISION.policy;

  it('is optional: a snapshot without one is valid, one with one keeps it', () => {
    expect(ExperimentSnapshotSchema.safeParse(CREATED.experiment).success).toBe(true);
    const withPolicy = { ...CREATED.experiment, decision: policy };
    const event = createEvent(
      EVENT_TYPES.experimentCreated,
      { ...CREATED, experiment: withPolicy },
      { source: EVENT_SOURCES.assignment },
    );
    expect(parseEvent(serializeEvent(event)).data).toEqual({ ...CREATED, experiment: withPolicy });
  });

  it('applies the policy defaults and validates it with field paths', () => {
    const parsed = ExperimentSnapshotSchema.parse({
      ...CREATED.experiment,
      decision: { primary: 'thumbs', direction: 'increase' },
    });
    expect(parsed.decision).toEqual({
      primary: 'thumbs',
      direction: 'increase',
      alpha: 0.05,
      guardrails: [],
      autoStop: { onGuardrailBreach: false, onDecision: false },
    });
    const bad = ExperimentSnapshotSchema.safeParse({
      ...CREATED.experiment,
      decision: { ...policy, alpha: 0.9, guardrails: [{ metric: 'clicks', maxRelativeIncrease: 0.1 }] },
    });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'decision.alpha',
      'decision.guardrails.0.metric',
    ]);
  });

  it('strict producers reject unknown policy fields, tolerant consumers strip them', () => {
    const experiment = { ...CREATED.experiment, decision: { ...policy, later: true } };
    const event = JSON.parse(
      serializeEvent(
        createEvent(EVENT_TYPES.experimentCreated, CREATED, { source: EVENT_SOURCES.assignment }),
      ),
    ) as Record<string, unknown>;
    const raw = JSON.stringify({ ...event, data: { ...CREATED, experiment } });
    expect(safeParseEvent(raw).ok).toBe(false);
    const tolerant = parseEvent(raw, { tolerateUnknownFields: true });
    expect((tolerant.data as typeof CREATED).experiment.decision).toEqual(policy);
  });
});
