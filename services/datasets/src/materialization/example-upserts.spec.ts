import type { FeedbackSubmittedData, GenerationLoggedData } from '@llmops/contracts';
import { canonicalize, sha256Hex } from '@llmops/hashing';
import { feedbackKey } from '../domain/example';
import { feedbackUpsert, generationUpsert, mergeUpserts } from './example-upserts';

const generation: GenerationLoggedData = {
  requestId: 'req/1',
  model: 'gpt-x',
  input: [{ role: 'user', content: 'hi' }],
  output: 'hello',
  latencyMs: 12,
  timestamp: '2026-01-01T00:00:00.000Z',
  receivedAt: '2026-01-01T00:00:01.000Z',
};

const feedback: FeedbackSubmittedData = {
  feedbackId: 'fb.1',
  requestId: 'req/1',
  rating: 4,
  ratingScale: { min: 1, max: 5 },
  source: 'user',
  timestamp: '2026-01-01T00:01:00.000Z',
  receivedAt: '2026-01-01T00:01:01.000Z',
  revision: 1,
  edit: null,
};

describe('example upserts', () => {
  it('stores the generation with its input hash and without absent fields', () => {
    const up = generationUpsert('default', { ...generation, prompt: { name: 'p', hash: 'a'.repeat(64) } });
    expect(up._id).toBe('req/1');
    expect(up.firstSeenAt).toEqual(new Date(generation.receivedAt));
    expect(up.$unset).toBeUndefined();
    // toStrictEqual: an absent field must not be stored as undefined (null in MongoDB).
    expect(up.$set).toStrictEqual({
      project: 'default',
      requestId: 'req/1',
      generation: {
        input: generation.input,
        inputHash: sha256Hex(canonicalize(generation.input)),
        output: 'hello',
        prompt: { name: 'p', hash: 'a'.repeat(64) },
        model: 'gpt-x',
        latencyMs: 12,
        timestamp: generation.timestamp,
        receivedAt: generation.receivedAt,
      },
    });
  });

  it('keeps only the contract fields of a tolerated record', () => {
    const data = { ...generation, input: undefined, prompt: { name: 'p', hash: 'b'.repeat(64), extra: 1 } };
    const stored = generationUpsert('acme', data as GenerationLoggedData).$set.generation;
    expect(stored).toEqual(expect.not.objectContaining({ input: expect.anything() }));
    expect(stored).toEqual(expect.not.objectContaining({ inputHash: expect.anything() }));
    expect((stored as { prompt: unknown }).prompt).toEqual({ name: 'p', hash: 'b'.repeat(64) });
  });

  it('stores no field name from the event: scores as an array sorted by name, no metadata', () => {
    const gen = generationUpsert('default', { ...generation, metadata: { 'a.b': 1, $c: 2 } });
    expect(gen.$set.generation).toEqual(expect.not.objectContaining({ metadata: expect.anything() }));
    const up = feedbackUpsert('default', {
      ...feedback,
      scores: { 'tone.friendly': 0.8, $x: 1, helpful: 0 },
    });
    expect(up.$set[`feedback.${feedbackKey('fb.1')}.r1`]).toMatchObject({
      scores: [
        { name: '$x', value: 1 },
        { name: 'helpful', value: 0 },
        { name: 'tone.friendly', value: 0.8 },
      ],
    });
  });

  it('scopes example ids by project', () => {
    expect(generationUpsert('acme', generation)._id).toBe('acme\u001freq/1');
    expect(feedbackUpsert('acme', feedback)._id).toBe('acme\u001freq/1');
  });

  it('sets a first revision under the feedback key and removes nothing', () => {
    const up = feedbackUpsert('default', feedback);
    const key = feedbackKey('fb.1');
    expect(up.$set).toStrictEqual({
      project: 'default',
      requestId: 'req/1',
      [`feedback.${key}.r1`]: {
        feedbackId: 'fb.1',
        revision: 1,
        source: 'user',
        rating: 4,
        ratingScale: { min: 1, max: 5 },
        timestamp: feedback.timestamp,
        receivedAt: feedback.receivedAt,
      },
    });
    expect(up.$unset).toBeUndefined();
    expect(up.firstSeenAt).toEqual(new Date(feedback.receivedAt));
  });

  it('an edit sets its revision and removes the one it replaces', () => {
    const up = feedbackUpsert('default', {
      ...feedback,
      rating: undefined,
      thumbs: 'down',
      revision: 3,
      edit: { previousRevision: 2 },
    });
    const key = feedbackKey('fb.1');
    expect(Object.keys(up.$set)).toEqual(['project', 'requestId', `feedback.${key}.r3`]);
    expect(up.$set[`feedback.${key}.r3`]).toEqual(expect.objectContaining({ revision: 3, thumbs: 'down' }));
    expect(up.$set[`feedback.${key}.r3`]).not.toHaveProperty('rating');
    expect(up.$unset).toEqual({ [`feedback.${key}.r2`]: '' });
  });

  it('merges the upserts of one example: one update per document, edits drop what they replace', () => {
    const key = `feedback.${feedbackKey('fb.1')}`;
    const later = { ...feedback, receivedAt: '2026-01-01T00:02:00.000Z' };
    const merged = mergeUpserts([
      feedbackUpsert('default', later),
      generationUpsert('default', generation),
      feedbackUpsert('default', { ...later, revision: 2, edit: { previousRevision: 1 } }),
      feedbackUpsert('default', { ...later, revision: 3, edit: { previousRevision: 2 } }),
      feedbackUpsert('acme', feedback),
    ]);
    expect(merged.map((u) => u._id)).toEqual(['req/1', 'acme\u001freq/1']);
    const [mine] = merged;
    expect(Object.keys(mine.$set).sort()).toEqual([`${key}.r3`, 'generation', 'project', 'requestId']);
    expect(mine.$unset).toEqual({ [`${key}.r1`]: '', [`${key}.r2`]: '' });
    expect(mine.firstSeenAt).toEqual(new Date(generation.receivedAt));
    expect(merged[1]).toEqual(feedbackUpsert('acme', feedback));
  });
});
