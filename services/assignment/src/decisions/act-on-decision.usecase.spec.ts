import { stopsExperiment } from './act-on-decision.usecase';

const policy = (autoStop: { onGuardrailBreach: boolean; onDecision: boolean }) => ({
  primary: 'rating',
  direction: 'increase' as const,
  alpha: 0.05,
  guardrails: [],
  autoStop,
});

describe('stopsExperiment', () => {
  it.each([
    ['winner', { onGuardrailBreach: false, onDecision: false }, true],
    ['guardrail-breach', { onGuardrailBreach: false, onDecision: true }, false],
    ['guardrail-breach', { onGuardrailBreach: true, onDecision: false }, true],
    ['no-difference', { onGuardrailBreach: true, onDecision: false }, false],
    ['no-difference', { onGuardrailBreach: false, onDecision: true }, true],
    ['continue', { onGuardrailBreach: true, onDecision: true }, false],
  ] as const)('%s with autoStop %j: %s', (verdict, autoStop, stops) => {
    expect(stopsExperiment({ verdict, policy: policy(autoStop) })).toBe(stops);
  });
});
