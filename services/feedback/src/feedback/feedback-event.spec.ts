import {
  ContractValidationError,
  createEvent,
  EVENT_SOURCES,
  EVENT_TYPES,
  FEEDBACK_COMMENT_MAX_LENGTH,
  isEventOfType,
  parseEvent,
  serializeEvent,
  validateEvent,
} from '@llmops/contracts';
import { canonicalize, CanonicalizationError } from '@llmops/hashing';
import { createRedactor } from '@llmops/platform';
import { mulberry32 } from '@llmops/stats';
import { variedFeedbackBodies } from '../../test/support/varied-requests';
import { buildSubmitFeedbackRequestSchema, type SubmitFeedbackRequest } from './dto/submit-feedback.request';
import {
  canonicalFeedbackContent,
  draftFeedbackEvent,
  feedbackContentHash,
  feedbackEventId,
  finalizeFeedbackEvent,
} from './feedback-event';

const scale = { min: 1, max: 5 };
const AT = '2025-03-01T00:00:00.000Z';
const parse = (body: unknown): SubmitFeedbackRequest => buildSubmitFeedbackRequestSchema(scale).parse(body);

describe('feedback events', () => {
  it('ids are deterministic per (feedbackId, revision)', () => {
    expect(feedbackEventId('abc', 2)).toBe('fb:abc:2');
  });

  it('the content hash ignores key order and feedbackId, and sees every other field', () => {
    const a = parse({ feedbackId: 'x', requestId: 'r', rating: 4, scores: { b: 1, a: 2 }, source: 'user' });
    const b = parse({ source: 'user', scores: { a: 2, b: 1 }, rating: 4, requestId: 'r', feedbackId: 'y' });
    expect(feedbackContentHash(a, scale)).toBe(feedbackContentHash(b, scale));
    expect(feedbackContentHash(a, scale)).toMatch(/^[0-9a-f]{64}$/);
    expect(feedbackContentHash({ ...a, rating: 5 }, scale)).not.toBe(feedbackContentHash(a, scale));
    expect(feedbackContentHash({ ...a, arm: 'B' }, scale)).not.toBe(feedbackContentHash(a, scale));
    expect(feedbackContentHash(a, { min: 1, max: 10 })).not.toBe(feedbackContentHash(a, scale));
  });

  it('the hand-written canonical content is byte-identical to the general canonicalizer (5,000 varied requests)', () => {
    const rnd = mulberry32(20261127); // seeded, so a failure reproduces
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const pieces = [
      'a',
      'Z',
      ' ',
      '"',
      '\\',
      '\n',
      '\t',
      '\u0000',
      '\u001f',
      '\u007f',
      'é',
      '€',
      '\u2028',
      '😀',
      'ß',
      '0',
    ];
    // Now and then a lone surrogate half: both paths must refuse it with the same error.
    const text = (): string =>
      Array.from({ length: 1 + Math.floor(rnd() * 12) }, () =>
        rnd() < 0.003 ? pick(['\ud83d', '\ude00']) : pick(pieces),
      ).join('');
    const finite = [0, -0, 1, 3, 0.1, 1e21, 1e-7, 123456.789, Number.MAX_SAFE_INTEGER, 5e-324];
    const number = (): number => (rnd() < 0.01 ? pick([NaN, Infinity, -Infinity]) : pick(finite));
    const nameChars = 'abcXYZ019_.-';
    const scoreName = (): string =>
      Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick([...nameChars])).join('');
    let surrogates = 0;
    let compared = 0;
    for (let i = 0; i < 5_000; i++) {
      const fields: [string, unknown][] = [
        ['requestId', text()],
        ['source', pick(['user', 'judge', 'reviewer'])],
      ];
      const maybe = (key: string, value: () => unknown): void => {
        if (rnd() < 0.5) fields.push([key, value()]);
      };
      maybe('feedbackId', text);
      maybe('experiment', text);
      maybe('arm', text);
      maybe('userId', text);
      maybe('rating', number);
      maybe('thumbs', () => pick(['up', 'down']));
      maybe('comment', text);
      maybe('correction', text);
      maybe('latencyMs', number);
      maybe('timestamp', text);
      maybe('scores', () =>
        Object.fromEntries(Array.from({ length: Math.floor(rnd() * 5) }, () => [scoreName(), number()])),
      );
      // Any insertion order: canonical JSON must not depend on it.
      fields.sort(() => rnd() - 0.5);
      const req = Object.fromEntries(fields) as SubmitFeedbackRequest;
      const s = pick([scale, { min: 0, max: 10 }, { min: -3, max: 3 }]);
      const general = (): string => canonicalize({ ...req, feedbackId: undefined, ratingScale: s });
      let expected: string | CanonicalizationError;
      try {
        expected = general();
      } catch (err) {
        expect(err).toBeInstanceOf(CanonicalizationError);
        expected = err as CanonicalizationError;
      }
      if (typeof expected === 'string') {
        expect(canonicalFeedbackContent(req, s)).toBe(expected);
        compared++;
      } else {
        expect(() => canonicalFeedbackContent(req, s)).toThrow(expected.message);
        surrogates++;
      }
    }
    // Both paths were exercised.
    expect(compared).toBeGreaterThan(1_000);
    expect(surrogates).toBeGreaterThan(100);
  });

  it('a finalized edit is a valid contract event, marked as an edit, keyed by requestId', () => {
    const req = parse({
      requestId: 'r',
      thumbs: 'down',
      comment: 'see jane@example.com',
      source: 'reviewer',
    });
    const draft = draftFeedbackEvent(req, 'f', scale, AT, createRedactor(true), 'default');
    const keyed = finalizeFeedbackEvent(draft, {
      outcome: 'edit',
      revision: 3,
      previousRevision: 2,
      receivedAt: AT,
      timestamp: AT,
    });
    expect(keyed.key).toBe('r');
    const event = parseEvent(keyed.value);
    if (!isEventOfType(event, EVENT_TYPES.feedbackSubmitted)) throw new Error('wrong type');
    expect(event.id).toBe('fb:f:3');
    expect(event.data).toMatchObject({
      revision: 3,
      edit: { previousRevision: 2 },
      comment: 'see [email]',
      ratingScale: scale,
    });
  });
});

describe('hand-built draft (no contract parse on the hot path)', () => {
  it.each([
    [false, 'default'],
    [true, 'default'],
    [false, 'team-b'],
    [true, 'team-b'],
  ])(
    'equals what createEvent builds and validates, for 500 varied requests (redaction %s, project %s)',
    (redaction, project) => {
      const redact = createRedactor(redaction);
      for (const [i, body] of variedFeedbackBodies(500).entries()) {
        const req = parse(body);
        const feedbackId = `f${i}`;
        const draft = draftFeedbackEvent(req, feedbackId, scale, AT, redact, project);
        const { feedbackId: _f, ...fields } = req;
        const reference = createEvent(
          EVENT_TYPES.feedbackSubmitted,
          {
            ...fields,
            ...(fields.comment !== undefined ? { comment: redact(fields.comment) } : {}),
            ...(fields.correction !== undefined ? { correction: redact(fields.correction) } : {}),
            feedbackId,
            ratingScale: scale,
            timestamp: req.timestamp ?? AT,
            receivedAt: AT,
            revision: 1,
            edit: null,
          },
          { source: EVENT_SOURCES.feedback, id: `fb:${feedbackId}:1`, time: req.timestamp ?? AT, project },
        );
        expect(draft.project).toBe(project);
        expect(validateEvent(JSON.parse(serializeEvent(draft)))).toEqual(reference);
        expect(draft).toEqual(reference);
        // Byte for byte (key order included): a retry re-publishes exactly the same value.
        expect(serializeEvent(draft)).toBe(serializeEvent(reference));
      }
    },
  );

  it('a comment that redaction grows past the contract limit is refused by the contract, not published', () => {
    const comment = 'a@b.io '.repeat(Math.floor(FEEDBACK_COMMENT_MAX_LENGTH / 7));
    expect(comment.length).toBeLessThanOrEqual(FEEDBACK_COMMENT_MAX_LENGTH);
    const req = parse({ requestId: 'r', comment, source: 'user' });
    expect(() => draftFeedbackEvent(req, 'f', scale, AT, createRedactor(true), 'default')).toThrow(
      ContractValidationError,
    );
    expect(draftFeedbackEvent(req, 'f', scale, AT, createRedactor(false), 'default').data.comment).toBe(
      comment,
    );
  });
});

describe('finalize', () => {
  const req = parse({ requestId: 'r', rating: 4, source: 'user' });
  const draft = draftFeedbackEvent(req, 'f', scale, AT, createRedactor(false), 'team-b');
  const draftValue = serializeEvent(draft);
  const first = {
    outcome: 'new' as const,
    revision: 1,
    previousRevision: null,
    receivedAt: AT,
    timestamp: AT,
  };

  it('reuses the draft JSON only when the plan changes nothing', () => {
    expect(finalizeFeedbackEvent(draft, first, draftValue).value).toBe(draftValue);
    // A duplicate of a revision stored earlier carries the stored receipt time: re-serialized.
    const LATER = '2025-03-02T00:00:00.000Z';
    const duplicate = { ...first, outcome: 'duplicate' as const, receivedAt: LATER, timestamp: LATER };
    const keyed = finalizeFeedbackEvent(draft, duplicate, draftValue);
    expect(keyed.value).toBe(serializeEvent(keyed.event));
    expect(parseEvent(keyed.value)).toMatchObject({ time: LATER, data: { receivedAt: LATER, revision: 1 } });
    const edit = {
      outcome: 'edit' as const,
      revision: 2,
      previousRevision: 1,
      receivedAt: AT,
      timestamp: AT,
    };
    const edited = finalizeFeedbackEvent(draft, edit, draftValue);
    expect(parseEvent(edited.value)).toMatchObject({
      id: 'fb:f:2',
      project: 'team-b',
      data: { revision: 2, edit: { previousRevision: 1 } },
    });
    // The same envelope as createEvent's, byte for byte, with the project kept in its place.
    const editedData = { ...draft.data, revision: 2, edit: { previousRevision: 1 } };
    const reference = createEvent(EVENT_TYPES.feedbackSubmitted, editedData, {
      source: EVENT_SOURCES.feedback,
      id: 'fb:f:2',
      time: AT,
      project: 'team-b',
    });
    expect(edited.value).toBe(serializeEvent(reference));
  });
});

describe('request schema', () => {
  it('follows the configured scale and requires a signal', () => {
    const schema = buildSubmitFeedbackRequestSchema({ min: 0, max: 10 });
    expect(schema.safeParse({ requestId: 'r', rating: 0, source: 'user' }).success).toBe(true);
    expect(schema.safeParse({ requestId: 'r', rating: 11, source: 'user' }).error?.issues[0].message).toBe(
      'expected an integer 0..10',
    );
    expect(schema.safeParse({ requestId: 'r', scores: {}, source: 'user' }).success).toBe(false);
    expect(schema.safeParse({ requestId: 'r', scores: { x: Infinity }, source: 'user' }).success).toBe(false);
  });
});
