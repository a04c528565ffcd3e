import { ExperimentDecisionPolicySchema, parseDecisionPolicy } from './index';

const minimal = { primary: 'rating', direction: 'increase' };

describe('decision policy', () => {
  it('fills the defaults', () => {
    expect(parseDecisionPolicy(minimal)).toEqual({
      ok: true,
      value: {
        primary: 'rating',
        direction: 'increase',
        alpha: 0.05,
        guardrails: [],
        autoStop: { onGuardrailBreach: false, onDecision: false },
      },
    });
  });

  it('accepts a full policy', () => {
    const full = {
      primary: 'score:helpfulness',
      direction: 'decrease',
      alpha: 0.5,
      minimumDetectableEffect: 0.1,
      guardrails: [
        { metric: 'latencyMs', maxRelativeIncrease: 0.1 },
        { metric: 'latencyMs', maxAbsoluteIncrease: 200 },
        { metric: 'costUsd', maxRelativeIncrease: 0 },
        { metric: 'thumbsDownRate', maxAbsoluteIncrease: 0.02 },
        { metric: 'score:faithfulness', maxRelativeDecrease: 0.05 },
        { metric: 'score:toxicity', maxAbsoluteIncrease: 0.01 },
      ],
      autoStop: { onGuardrailBreach: true, onDecision: true },
      autoPromote: { alias: 'production' },
    };
    expect(parseDecisionPolicy(full)).toEqual({ ok: true, value: full });
  });

  it.each([
    ['primary metric unknown', { ...minimal, primary: 'latencyMs' }, 'primary', 'unknown metric'],
    ['primary score without a name', { ...minimal, primary: 'score:' }, 'primary', 'unknown metric'],
    ['direction unknown', { ...minimal, direction: 'up' }, 'direction', 'expected one of'],
    ['alpha 0', { ...minimal, alpha: 0 }, 'alpha', 'expected alpha in (0, 0.5]'],
    ['alpha negative', { ...minimal, alpha: -0.1 }, 'alpha', 'expected alpha in (0, 0.5]'],
    ['alpha above 0.5', { ...minimal, alpha: 0.51 }, 'alpha', 'expected alpha in (0, 0.5]'],
    ['alpha not a number', { ...minimal, alpha: '0.05' }, 'alpha', 'expected a number in (0, 0.5]'],
    ['MDE zero', { ...minimal, minimumDetectableEffect: 0 }, 'minimumDetectableEffect', ''],
    [
      'guardrail metric unknown',
      {
        ...minimal,
        guardrails: [
          { metric: 'latencyMs', maxRelativeIncrease: 0.1 },
          { metric: 'rating', maxAbsoluteIncrease: 1 },
        ],
      },
      'guardrails.1.metric',
      'unknown metric',
    ],
    [
      'guardrail without a margin',
      { ...minimal, guardrails: [{ metric: 'costUsd' }] },
      'guardrails.0',
      'exactly one of',
    ],
    [
      'guardrail with two margins',
      { ...minimal, guardrails: [{ metric: 'costUsd', maxRelativeIncrease: 0.1, maxAbsoluteIncrease: 1 }] },
      'guardrails.0',
      'got maxAbsoluteIncrease, maxRelativeIncrease',
    ],
    [
      'negative margin',
      { ...minimal, guardrails: [{ metric: 'costUsd', maxRelativeIncrease: -0.1 }] },
      'guardrails.0.maxRelativeIncrease',
      'expected a number ≥ 0',
    ],
    [
      'relative decrease of 100%',
      { ...minimal, guardrails: [{ metric: 'score:x', maxRelativeDecrease: 1 }] },
      'guardrails.0.maxRelativeDecrease',
      'below 1',
    ],
    [
      'the same guardrail twice',
      {
        ...minimal,
        guardrails: [
          { metric: 'costUsd', maxRelativeIncrease: 0.1 },
          { metric: 'costUsd', maxRelativeIncrease: 0.2 },
        ],
      },
      'guardrails.1',
      'second',
    ],
    ['unknown field', { ...minimal, threshold: 3 }, 'threshold', 'unknown field'],
    [
      'unknown autoStop field',
      { ...minimal, autoStop: { onWinner: true } },
      'autoStop.onWinner',
      'unknown field',
    ],
    ['bad alias', { ...minimal, autoPromote: { alias: 'Prod!' } }, 'autoPromote.alias', ''],
    ['missing primary', { direction: 'increase' }, 'primary', 'required field missing'],
  ])('rejects %s with a field path', (_, raw, path, message) => {
    const result = parseDecisionPolicy(raw);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([{ path, message: expect.stringContaining(message) }]);
  });

  it('prefixes the paths for a policy inside a request body', () => {
    const result = parseDecisionPolicy(
      { ...minimal, alpha: 0.9, guardrails: [{ metric: 'tokens', maxAbsoluteIncrease: 1 }] },
      ['decision'],
    );
    expect(result).toEqual({
      ok: false,
      issues: [
        { path: 'decision.alpha', message: 'expected alpha in (0, 0.5]' },
        { path: 'decision.guardrails.0.metric', message: expect.stringContaining('unknown metric') },
      ],
    });
  });

  it('is a plain zod schema for request DTOs', () => {
    expect(ExperimentDecisionPolicySchema.safeParse({ ...minimal, alpha: 0.05 }).success).toBe(true);
  });
});
