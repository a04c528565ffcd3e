/**
 * The ingestion item types come from the generated OpenAPI types. `npm run typecheck` compiles this
 * file: were a generated body type to collapse to `unknown` again, the `@ts-expect-error` lines
 * would have no error to expect and the type check would fail.
 */
import type { Feedback, Generation } from './ingestion';

describe('generated ingestion types', () => {
  it('type feedback by the document: known fields pass, unknown fields and wrong values do not', () => {
    const ok: Feedback = { requestId: 'r-1', source: 'user', rating: 5, scores: { helpful: 1 } };
    // @ts-expect-error: not a field of the document's feedback body
    const unknownField: Feedback = { requestId: 'r-1', source: 'user', rating: 5, stars: 5 };
    // @ts-expect-error: thumbs is 'up' or 'down'
    const badThumbs: Feedback = { requestId: 'r-1', source: 'user', thumbs: 'sideways' };
    // @ts-expect-error: source is required
    const noSource: Feedback = { requestId: 'r-1', rating: 5 };
    expect([ok, unknownField, badThumbs, noSource]).toHaveLength(4);
  });

  it('type generations by the document', () => {
    // @ts-expect-error: requestId is required
    const noRequestId: Generation = { output: 'x' };
    expect(noRequestId).toBeDefined();
  });
});
