import { parseOrThrow, ValidationFailedError } from '@llmops/platform';
import { assignRequestSchema } from './assign.request';

/** The outcome of a parser: its value, or the issues of its 400. */
function outcome(parse: () => unknown): { ok: unknown } | { issues: unknown } {
  try {
    return { ok: parse() };
  } catch (err) {
    if (err instanceof ValidationFailedError) return { issues: err.details?.issues };
    throw err;
  }
}

describe('assignRequestSchema', () => {
  const parseAssignRequest = (body: unknown) => parseOrThrow(assignRequestSchema, body);

  it('accepts a body without attributes, and keeps attributes', () => {
    expect(parseAssignRequest({ experiment: 'e', userId: 'ü:1' })).toEqual({
      experiment: 'e',
      userId: 'ü:1',
    });
    expect(parseAssignRequest({ experiment: 'e', userId: 'u', attributes: { plan: 'pro' } })).toEqual({
      experiment: 'e',
      userId: 'u',
      attributes: { plan: 'pro' },
    });
  });

  it.each([
    [{ experiment: 'e', userId: '' }, 'userId'],
    [{ experiment: 'e', userId: 'x'.repeat(513) }, 'userId'],
    [{ experiment: 'e', userId: 'a\uD800' }, 'userId'],
    [{ experiment: 'e', userId: 'a\u0000' }, 'userId'],
    [{ experiment: 'e', userId: '\u0085' }, 'userId'],
    [{ experiment: 'e', userId: 'tab\t' }, 'userId'],
    [{ experiment: 'E', userId: 'u' }, 'experiment'],
    [{ experiment: 'e\u0000', userId: 'u' }, 'experiment'],
    [{ experiment: 'e', userId: 'u', attributes: { 'a\u0000': 1 } }, 'attributes.a\u0000'],
    [{ experiment: 'e', userId: 'u', attributes: { plan: 'p\uD800' } }, 'attributes.plan'],
    [{ experiment: '', userId: 'u' }, 'experiment'],
    [{ experiment: 'e'.repeat(129), userId: 'u' }, 'experiment'],
    [{ experiment: 'e', userId: 'u', extra: 1 }, 'extra'],
    [{ userId: 'u' }, 'experiment'],
  ])('refuses %j with an issue at %s', (input, path) => {
    const result = outcome(() => parseAssignRequest(input));
    expect(result).toEqual({ issues: expect.arrayContaining([expect.objectContaining({ path })]) });
    const issues = (result as { issues: Array<{ path: string }> }).issues;
    expect(issues.every((issue) => issue.path === path)).toBe(true);
  });
});
