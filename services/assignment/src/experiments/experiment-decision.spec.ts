import { type AppError, parseOrThrow, type Principal } from '@llmops/platform';
import { snapshot } from '@llmops/testing';
import { createExperimentRequestSchema } from './dto/create-experiment.request';
import { updateExperimentRequestSchema } from './dto/update-experiment.request';
import { applyUpdate, assertAutoPromoteFits, assertMayAutoPromote, changedFields } from './experiment-rules';

const NOW = '2025-02-01T00:00:00.000Z';

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    return err as AppError;
  }
  throw new Error('expected an error');
}

/** The 400 `validation_failed` issues of a body, as the HTTP error body lists them. */
function issuesOf(fn: () => unknown): Array<{ path: string; message: string }> {
  const err = errorOf(fn);
  expect(err.status).toBe(400);
  expect(err.code).toBe('validation_failed');
  return (err.details as { issues: Array<{ path: string; message: string }> }).issues;
}

const arms = [
  { name: 'A', weight: 1, prompt: { name: 'summarizer', ref: '1' } },
  { name: 'B', weight: 1, prompt: { name: 'summarizer', ref: '2' } },
];
const mixedArms = [arms[0], { name: 'B', weight: 1, prompt: { name: 'other', ref: '1' } }];
const policy = { primary: 'rating', direction: 'increase' };

describe('decision policy on create', () => {
  it('is optional, and filled with the contract defaults when given', () => {
    expect(parseOrThrow(createExperimentRequestSchema, { key: 'k', arms }).decision).toBeUndefined();
    expect(
      parseOrThrow(createExperimentRequestSchema, { key: 'k', arms, decision: policy }).decision,
    ).toEqual({
      primary: 'rating',
      direction: 'increase',
      alpha: 0.05,
      guardrails: [],
      autoStop: { onGuardrailBreach: false, onDecision: false },
    });
  });

  it.each([
    ['an unknown primary metric', { ...policy, primary: 'clicks' }, 'decision.primary', 'unknown metric'],
    [
      'an unknown guardrail metric',
      { ...policy, guardrails: [{ metric: 'tokens', maxRelativeIncrease: 0.1 }] },
      'decision.guardrails.0.metric',
      'unknown metric',
    ],
    ['alpha 0', { ...policy, alpha: 0 }, 'decision.alpha', 'expected alpha in (0, 0.5]'],
    ['alpha 0.6', { ...policy, alpha: 0.6 }, 'decision.alpha', 'expected alpha in (0, 0.5]'],
    ['an unknown field', { ...policy, stopAt: 3 }, 'decision.stopAt', 'unknown field'],
    ['null', null, 'decision', 'expected object'],
  ])('refuses %s with 400 naming the field', (_, decision, path, message) => {
    expect(issuesOf(() => parseOrThrow(createExperimentRequestSchema, { key: 'k', arms, decision }))).toEqual(
      [{ path, message: expect.stringContaining(message) }],
    );
  });

  it('reports policy issues together with the other fields', () => {
    const issues = issuesOf(() =>
      parseOrThrow(createExperimentRequestSchema, {
        key: 'k',
        arms,
        trafficAllocation: 2,
        decision: { ...policy, alpha: 0.6 },
      }),
    );
    expect(issues.map((i) => i.path).sort()).toEqual(['decision.alpha', 'trafficAllocation']);
  });

  it('refuses autoPromote when the arms are versions of different prompts (decision.autoPromote)', () => {
    const decision = { ...policy, autoPromote: { alias: 'production' } };
    expect(parseOrThrow(createExperimentRequestSchema, { key: 'k', arms, decision }).decision).toMatchObject({
      autoPromote: { alias: 'production' },
    });
    expect(
      issuesOf(() => parseOrThrow(createExperimentRequestSchema, { key: 'k', arms: mixedArms, decision })),
    ).toEqual([
      {
        path: 'decision.autoPromote',
        message: expect.stringContaining('the arms use prompts "summarizer", "other"'),
      },
    ]);
    // Without autoPromote, arms of different prompts are fine.
    expect(
      parseOrThrow(createExperimentRequestSchema, { key: 'k', arms: mixedArms, decision: policy }).decision,
    ).toBeDefined();
  });
});

describe('decision policy on patch', () => {
  const promoting = parseOrThrow(updateExperimentRequestSchema, {
    decision: { ...policy, autoPromote: { alias: 'production' } },
  }).decision!;

  it('validates like create, and null removes the policy', () => {
    expect(
      issuesOf(() => parseOrThrow(updateExperimentRequestSchema, { decision: { ...policy, alpha: 0 } })),
    ).toEqual([{ path: 'decision.alpha', message: 'expected alpha in (0, 0.5]' }]);
    const current = snapshot({ status: 'running', decision: promoting });
    const request = parseOrThrow(updateExperimentRequestSchema, { decision: null });
    expect(changedFields(current, request)).toEqual(['decision']);
    expect(applyUpdate(current, request, undefined, NOW).decision).toBeUndefined();
  });

  it('may change while running; the same policy again is no change', () => {
    const current = snapshot({ status: 'running', decision: promoting });
    const same = parseOrThrow(updateExperimentRequestSchema, {
      decision: { autoPromote: { alias: 'production' }, direction: 'increase', primary: 'rating' },
    });
    expect(changedFields(current, same)).toEqual([]);
    const stricter = parseOrThrow(updateExperimentRequestSchema, { decision: { ...policy, alpha: 0.01 } });
    expect(changedFields(current, stricter)).toEqual(['decision']);
    expect(applyUpdate(current, stricter, undefined, NOW).decision).toMatchObject({ alpha: 0.01 });
  });

  it('refuses autoPromote on arms of different prompts, whichever of the two changes', () => {
    const mixed = snapshot({
      status: 'draft',
      arms: [
        { name: 'A', weight: 1, prompt: { name: 'p', ref: '1', hash: 'a'.repeat(64) } },
        { name: 'B', weight: 1, prompt: { name: 'q', ref: '1', hash: 'b'.repeat(64) } },
      ],
    });
    expect(issuesOf(() => assertAutoPromoteFits(promoting, mixed.arms))).toEqual([
      { path: 'decision.autoPromote', message: expect.stringContaining('"p", "q"') },
    ]);
    expect(() => assertAutoPromoteFits(promoting, snapshot().arms)).not.toThrow();
    expect(() => assertAutoPromoteFits(null, mixed.arms)).not.toThrow();
    expect(() => assertAutoPromoteFits(undefined, mixed.arms)).not.toThrow();
  });
});

describe('who may give an experiment autoPromote', () => {
  const promoting = snapshot({ decision: parsedPolicy('production') });
  const key = (scopes: string[], aliases?: string[]): Principal =>
    ({
      keyId: 'k1',
      project: 'default',
      scopes: new Set(scopes),
      ...(aliases ? { aliases } : {}),
    }) as Principal;
  const writer = key(['experiments:write', 'prompts:read']);
  const promoter = key(['experiments:write', 'prompts:read', 'prompts:promote']);
  const stagingOnly = key(['experiments:write', 'prompts:read', 'prompts:promote'], ['staging']);

  function parsedPolicy(alias: string) {
    return parseOrThrow(updateExperimentRequestSchema, { decision: { ...policy, autoPromote: { alias } } })
      .decision!;
  }

  it('needs prompts:promote and the alias when autoPromote is new: 403 forbidden naming the scope or the alias', () => {
    const denied = errorOf(() => assertMayAutoPromote(writer, undefined, promoting));
    expect(denied).toMatchObject({
      status: 403,
      code: 'forbidden',
      details: { requiredScope: 'prompts:promote', alias: 'production' },
    });
    expect(errorOf(() => assertMayAutoPromote(stagingOnly, undefined, promoting))).toMatchObject({
      status: 403,
      code: 'forbidden',
      details: { allowedAliases: ['staging'] },
    });
    expect(() => assertMayAutoPromote(promoter, undefined, promoting)).not.toThrow();
    expect(() => assertMayAutoPromote(writer, snapshot(), promoting)).toThrow();
  });

  it('needs them again when the alias or the candidate prompt versions change', () => {
    const otherAlias = { ...promoting, decision: parsedPolicy('canary') };
    expect(() => assertMayAutoPromote(writer, promoting, otherAlias)).toThrow();
    const rearmed = {
      ...promoting,
      arms: [
        promoting.arms[0],
        { ...promoting.arms[1], prompt: { name: 'p', ref: '3', hash: 'c'.repeat(64) } },
      ],
    };
    expect(() => assertMayAutoPromote(writer, promoting, rearmed)).toThrow();
    expect(() => assertMayAutoPromote(promoter, promoting, rearmed)).not.toThrow();
  });

  it('needs nothing when both stay (weights, description, a new seed) or autoPromote goes', () => {
    const reweighted = {
      ...promoting,
      description: 'd',
      seed: 's2',
      arms: promoting.arms.map((a) => ({ ...a, weight: 1 })),
    };
    expect(() => assertMayAutoPromote(writer, promoting, reweighted)).not.toThrow();
    expect(() => assertMayAutoPromote(writer, promoting, snapshot())).not.toThrow();
    expect(() => assertMayAutoPromote(writer, undefined, snapshot())).not.toThrow();
  });
});
