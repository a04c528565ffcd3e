import { LlmopsValidationError } from './errors';
import { checkFeedback, checkGeneration } from './item-checks';

const generation = {
  requestId: 'r-1',
  model: 'gpt-4o',
  output: 'hi',
  latencyMs: 12,
  timestamp: '2026-01-31T12:00:00.000Z',
};
const feedback = {
  requestId: 'r-1',
  feedbackId: 'f-1',
  source: 'user',
  rating: 4,
  timestamp: '2026-01-31T12:00:00Z',
};

/** The field a check refuses `item` for, or null when it accepts it. */
function refusedField(check: (item: unknown) => void, item: unknown): string | null {
  try {
    check(item);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(LlmopsValidationError);
    return ((err as LlmopsValidationError).details as { field: string }).field;
  }
}

describe('checkGeneration (the feedback service document)', () => {
  it.each([
    ['a minimal generation', {}],
    [
      'chat messages as input',
      {
        input: [
          { role: 'system', content: 's' },
          { role: 'user', content: 'u' },
        ],
      },
    ],
    [
      'usage, cost, context and metadata',
      {
        usage: { promptTokens: 3, completionTokens: 4 },
        costUsd: 0.002,
        experiment: 'checkout-copy',
        arm: 'treatment',
        userId: 'u-1',
        metadata: { tier: 'pro', nested: { ok: [1, 'two', null] } },
      },
    ],
  ])('accepts %s', (_, extra) => {
    expect(refusedField(checkGeneration, { ...generation, ...extra })).toBeNull();
  });

  it.each([
    ['model', { model: '' }],
    ['latencyMs', { latencyMs: -1 }],
    ['latencyMs', { latencyMs: 86_400_001 }],
    ['costUsd', { costUsd: -0.5 }],
    ['experiment', { experiment: 'Not A Key' }],
    ['arm', { arm: 'an arm' }],
    ['requestId', { requestId: 'a\u0000b' }],
    ['timestamp', { timestamp: 'yesterday' }],
    ['usage.promptTokens', { usage: { promptTokens: 1.5, completionTokens: 1 } }],
    ['input', { input: [{ role: 'wizard', content: 'x' }] }],
    ['stars', { stars: 5 }],
  ])('refuses %s: %j', (field, extra) => {
    expect(refusedField(checkGeneration, { ...generation, ...extra })).toBe(field);
  });

  it('refuses an item without its required fields, naming the first missing one', () => {
    expect(refusedField(checkGeneration, { requestId: 'r', model: 'm', latencyMs: 1 })).toBe('output');
  });
});

describe('checkFeedback (the feedback service document)', () => {
  it.each([
    ['a rating', { rating: 4 }],
    ['a rating outside the default scale (the deployment configures its scale)', { rating: 10 }],
    ['thumbs alone', { rating: undefined, thumbs: 'down' }],
    ['a comment alone', { rating: undefined, comment: 'too long' }],
    ['a correction alone', { rating: undefined, correction: 'Paris.' }],
    ['scores alone', { rating: undefined, scores: { helpfulness: 0.8, 'judge:v2': 1 } }],
  ])('accepts %s', (_, extra) => {
    const item = JSON.parse(JSON.stringify({ ...feedback, ...extra }));
    expect(refusedField(checkFeedback, item)).toBeNull();
  });

  it.each([
    ['feedback', { rating: undefined }],
    ['feedback', { rating: undefined, scores: {} }],
    ['rating', { rating: 2.5 }],
    ['thumbs', { thumbs: 'sideways' }],
    ['source', { source: 'robot' }],
    ['comment', { comment: '' }],
    ['scores', { scores: { 'bad name': 1 } }],
    ['scores.helpfulness', { scores: { helpfulness: 2_000_000 } }],
    ['experiment', { experiment: '-bad' }],
    ['latencyMs', { latencyMs: -3 }],
    ['feedbackId', { feedbackId: 'x'.repeat(257) }],
    ['timestamp', { timestamp: '2026-02-30T00:00:00Z' }],
    ['stars', { stars: 5 }],
  ])('refuses %s: %j', (field, extra) => {
    const item = JSON.parse(JSON.stringify({ ...feedback, ...extra }));
    expect(refusedField(checkFeedback, item)).toBe(field);
  });
});
