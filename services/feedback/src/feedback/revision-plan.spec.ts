import { isPlanned, planChain, type RevisionState } from './revision-plan';

const AT = '2025-03-01T00:00:00.000Z';
const stored: RevisionState = {
  feedbackId: 'f',
  requestId: 'r',
  revision: 2,
  contentHash: 'h2',
  previousRevision: 1,
  receivedAt: '2025-02-01T00:00:00.000Z',
  timestamp: '2025-01-31T00:00:00.000Z',
};

describe('planChain', () => {
  it('first submission: revision 1, no previous, timestamp defaults to receipt', () => {
    const plan = planChain('f', null, [{ requestId: 'r', contentHash: 'h' }], AT);
    expect(plan.items).toEqual([
      { outcome: 'new', revision: 1, previousRevision: null, receivedAt: AT, timestamp: AT },
    ]);
    expect(plan.claims).toEqual([
      {
        feedbackId: 'f',
        requestId: 'r',
        revision: 1,
        contentHash: 'h',
        previousRevision: null,
        receivedAt: AT,
        timestamp: AT,
      },
    ]);
  });

  it('duplicate: repeats the stored revision with its stored times (identical event), claims nothing', () => {
    const plan = planChain(
      'f',
      stored,
      [{ requestId: 'r', contentHash: 'h2', timestamp: '2030-01-01T00:00:00Z' }],
      AT,
    );
    expect(plan.items).toEqual([
      {
        outcome: 'duplicate',
        revision: 2,
        previousRevision: 1,
        receivedAt: stored.receivedAt,
        timestamp: stored.timestamp,
      },
    ]);
    expect(plan.claims).toEqual([]);
  });

  it('edit: next revision pointing at the stored one', () => {
    const plan = planChain(
      'f',
      stored,
      [{ requestId: 'r', contentHash: 'h3', timestamp: '2025-02-15T00:00:00Z' }],
      AT,
    );
    expect(plan.items).toEqual([
      {
        outcome: 'edit',
        revision: 3,
        previousRevision: 2,
        receivedAt: AT,
        timestamp: '2025-02-15T00:00:00Z',
      },
    ]);
    expect(plan.claims.map((c) => [c.revision, c.contentHash])).toEqual([[3, 'h3']]);
  });

  it('chains several submissions of one request in order', () => {
    const plan = planChain(
      'f',
      null,
      [
        { requestId: 'r', contentHash: 'a' },
        { requestId: 'r', contentHash: 'a' },
        { requestId: 'r', contentHash: 'b' },
        { requestId: 'r', contentHash: 'a' },
      ],
      AT,
    );
    expect(plan.items.filter(isPlanned).map((p) => [p.outcome, p.revision, p.previousRevision])).toEqual([
      ['new', 1, null],
      ['duplicate', 1, null],
      ['edit', 2, 1],
      ['edit', 3, 2],
    ]);
    expect(plan.claims.map((c) => c.revision)).toEqual([1, 2, 3]);
  });

  it('refuses to move a feedbackId to another requestId', () => {
    const plan = planChain('f', stored, [{ requestId: 'other', contentHash: 'h9' }], AT);
    expect(plan.items).toEqual([expect.objectContaining({ status: 409, code: 'feedback_id_conflict' })]);
    expect(plan.claims).toEqual([]);
  });
});
