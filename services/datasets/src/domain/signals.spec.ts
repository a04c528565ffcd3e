import { type ExampleDoc, feedbackKey, type FeedbackRevision, revisionKey } from './example';
import { deriveSignals, latestRevisions } from './signals';

const T0 = '2026-01-01T00:00:00.000Z';

function rev(feedbackId: string, revision: number, fields: Partial<FeedbackRevision> = {}): FeedbackRevision {
  return {
    feedbackId,
    revision,
    source: 'user',
    ratingScale: { min: 1, max: 5 },
    timestamp: T0,
    receivedAt: T0,
    ...fields,
  };
}

/** An example holding these revisions, stored the way the materializer stores them. */
function example(...revisions: FeedbackRevision[]): Pick<ExampleDoc, 'feedback'> {
  const feedback: NonNullable<ExampleDoc['feedback']> = {};
  for (const r of revisions) {
    (feedback[feedbackKey(r.feedbackId)] ??= {})[revisionKey(r.revision)] = r;
  }
  return { feedback };
}

describe('latestRevisions', () => {
  it('is empty without feedback', () => {
    expect(latestRevisions({})).toEqual([]);
    expect(latestRevisions({ feedback: {} })).toEqual([]);
  });

  it('keeps the highest revision of each item, sorted by feedbackId', () => {
    const doc = example(
      rev('fb-b', 1, { rating: 1 }),
      rev('fb-b', 3, { rating: 3 }),
      rev('fb-b', 2, { rating: 2 }),
      rev('fb-a', 1, { thumbs: 'up' }),
    );
    expect(latestRevisions(doc).map((r) => [r.feedbackId, r.revision])).toEqual([
      ['fb-a', 1],
      ['fb-b', 3],
    ]);
  });
});

describe('deriveSignals', () => {
  it('has no signal and no score without feedback', () => {
    expect(deriveSignals({})).toEqual({ scores: {} });
  });

  it('an edit replaces every value of the earlier revision (a dropped signal is gone)', () => {
    const doc = example(
      rev('fb', 1, { rating: 2, comment: 'meh', scores: [{ name: 'helpful', value: 0.2 }] }),
      rev('fb', 2, { rating: 5, timestamp: '2026-01-01T00:01:00.000Z' }),
    );
    expect(deriveSignals(doc)).toEqual({
      rating: { value: 5, source: 'user', feedbackId: 'fb' },
      scores: {},
    });
  });

  it('each signal comes from the most recent item that carries it, with its source', () => {
    const doc = example(
      rev('user-1', 1, { rating: 4, thumbs: 'up', timestamp: '2026-01-01T00:00:01.000Z' }),
      rev('judge-1', 1, {
        source: 'judge',
        rating: 2,
        scores: [
          { name: 'helpful', value: 0.9 },
          { name: 'safe', value: 1 },
          { name: 'tone.friendly', value: 0.3 },
        ],
        timestamp: '2026-01-01T00:00:02.000Z',
      }),
      rev('review-1', 1, {
        source: 'reviewer',
        correction: 'Better answer',
        scores: [{ name: 'helpful', value: 0.5 }],
        timestamp: '2026-01-01T00:00:03.000Z',
      }),
    );
    expect(deriveSignals(doc)).toEqual({
      rating: { value: 2, source: 'judge', feedbackId: 'judge-1' },
      thumbs: { value: 'up', source: 'user', feedbackId: 'user-1' },
      correction: { value: 'Better answer', source: 'reviewer', feedbackId: 'review-1' },
      scores: {
        helpful: { value: 0.5, source: 'reviewer', feedbackId: 'review-1' },
        safe: { value: 1, source: 'judge', feedbackId: 'judge-1' },
        'tone.friendly': { value: 0.3, source: 'judge', feedbackId: 'judge-1' },
      },
    });
  });

  it('orders by timestamp (as instants), then receivedAt, then feedbackId', () => {
    // Same instant written with an offset: receivedAt decides.
    const byReceived = example(
      rev('a', 1, { rating: 1, timestamp: '2026-01-01T01:00:00+01:00', receivedAt: '2026-01-01T00:00:05Z' }),
      rev('b', 1, { rating: 2, timestamp: '2026-01-01T00:00:00Z', receivedAt: '2026-01-01T00:00:04Z' }),
    );
    expect(deriveSignals(byReceived).rating).toEqual({ value: 1, source: 'user', feedbackId: 'a' });
    // Same timestamp and receivedAt: the greater feedbackId is the more recent.
    const byId = example(rev('b', 1, { rating: 2 }), rev('a', 1, { rating: 1 }));
    expect(deriveSignals(byId).rating?.feedbackId).toBe('b');
  });

  it('an edited item dated later than another item wins; its earlier revision does not count', () => {
    const doc = example(
      rev('x', 1, { thumbs: 'down', timestamp: '2026-01-01T00:00:01Z' }),
      rev('y', 1, { thumbs: 'up', timestamp: '2026-01-01T00:00:02Z' }),
      rev('x', 2, { thumbs: 'down', timestamp: '2026-01-01T00:00:03Z' }),
    );
    expect(deriveSignals(doc).thumbs).toEqual({ value: 'down', source: 'user', feedbackId: 'x' });
  });
});
