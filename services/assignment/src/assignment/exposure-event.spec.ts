import { EVENT_TYPES, parseEvent } from '@llmops/contracts';
import { exposureMessage } from './exposure-event';

describe('exposure message', () => {
  it('is a valid io.llmops.exposure.v1 event keyed by experiment:userId', () => {
    const message = exposureMessage(
      {
        experiment: 'exp',
        phase: 2,
        hashVersion: 1,
        arm: { name: 'B', prompt: { name: 'summarizer', hash: 'f'.repeat(64) } },
        reason: 'forced',
        userId: 'tenant:7:ünï',
      },
      { 'x-correlation-id': 'c1' },
      new Date('2025-03-01T10:00:00.000Z'),
    );
    expect(message.key).toBe('exp:tenant:7:ünï');
    expect(message.headers).toMatchObject({
      'content-type': 'application/cloudevents+json',
      'x-correlation-id': 'c1',
    });
    // Strict parse: unknown or missing fields would fail.
    const event = parseEvent(message.value as string);
    expect(event.type).toBe(EVENT_TYPES.exposure);
    expect(event.data).toEqual({
      experiment: 'exp',
      phase: 2,
      arm: 'B',
      userId: 'tenant:7:ünï',
      prompt: { name: 'summarizer', hash: 'f'.repeat(64) },
      hashVersion: 1,
      reason: 'forced',
      assignedAt: '2025-03-01T10:00:00.000Z',
    });
  });
});
