import { InMemoryRevisionStore } from '../../test/support/in-memory-revision-store';
import { reserveRevisions } from './reserve-revisions';
import type { RevisionState } from './revision-plan';

const AT = '2025-03-01T00:00:00.000Z';
const state = (feedbackId: string, revision: number, contentHash: string): RevisionState => ({
  feedbackId,
  requestId: 'r',
  revision,
  contentHash,
  previousRevision: revision > 1 ? revision - 1 : null,
  receivedAt: AT,
  timestamp: AT,
});

describe('reserveRevisions', () => {
  it('new ids are claimed without any read', async () => {
    const store = new InMemoryRevisionStore();
    const res = await reserveRevisions(
      store,
      [
        { feedbackId: 'a', submissions: [{ requestId: 'r', contentHash: 'x' }] },
        { feedbackId: 'b', submissions: [{ requestId: 'r', contentHash: 'y' }] },
      ],
      AT,
      5,
    );
    expect(store.reads).toBe(0);
    expect([...res.plans.keys()]).toEqual(['a', 'b']);
    expect([...store.claims.keys()]).toEqual(['a#1', 'b#1']);
    expect(res.raceLosses).toBe(0);
  });

  it('an existing id is read and planned as duplicate or edit', async () => {
    const store = new InMemoryRevisionStore();
    store.claimNow(state('a', 1, 'x'));
    store.claimNow(state('b', 1, 'x'));
    const res = await reserveRevisions(
      store,
      [
        { feedbackId: 'a', submissions: [{ requestId: 'r', contentHash: 'x' }] },
        { feedbackId: 'b', submissions: [{ requestId: 'r', contentHash: 'z' }] },
      ],
      AT,
      5,
    );
    expect(res.plans.get('a')!.items).toEqual([
      expect.objectContaining({ outcome: 'duplicate', revision: 1 }),
    ]);
    expect(res.plans.get('b')!.items).toEqual([
      expect.objectContaining({ outcome: 'edit', revision: 2, previousRevision: 1 }),
    ]);
    expect(store.claims.get('b#2')!.contentHash).toBe('z');
    expect(res.raceLosses).toBe(0);
  });

  it('losing a race re-reads and re-plans; a revision is never bound to two contents', async () => {
    const store = new InMemoryRevisionStore();
    store.claimNow(state('a', 1, 'x'));
    let raced = false;
    store.beforeClaim = () => {
      // After our read of revision 1 (second claim call), a concurrent request claims revision 2.
      if (store.reads > 0 && !raced) {
        raced = true;
        store.claimNow(state('a', 2, 'theirs'));
      }
    };
    const res = await reserveRevisions(
      store,
      [{ feedbackId: 'a', submissions: [{ requestId: 'r', contentHash: 'ours' }] }],
      AT,
      5,
    );
    expect(res.plans.get('a')!.items).toEqual([
      expect.objectContaining({ outcome: 'edit', revision: 3, previousRevision: 2 }),
    ]);
    expect(store.claims.get('a#2')!.contentHash).toBe('theirs');
    expect(store.claims.get('a#3')!.contentHash).toBe('ours');
    expect(res.raceLosses).toBe(1);
  });

  it('gives up with 409 revision_conflict after maxAttempts', async () => {
    const store = new InMemoryRevisionStore();
    let n = 0;
    store.beforeClaim = () => {
      n++;
      store.claimNow(state('a', n, `other-${n}`));
    };
    const res = await reserveRevisions(
      store,
      [{ feedbackId: 'a', submissions: [{ requestId: 'r', contentHash: 'ours' }] }],
      AT,
      3,
    );
    expect(res.plans.has('a')).toBe(false);
    expect(res.conflicts.get('a')).toMatchObject({ status: 409, code: 'revision_conflict' });
  });

  describe('server-issued ids (revision 1 claimed after the ack)', () => {
    const issued = (id: string): boolean => id.startsWith('srv-');

    it('an edit before the revision-1 claim is readable becomes revision 2, never a second revision 1', async () => {
      const store = new InMemoryRevisionStore();
      const res = await reserveRevisions(
        store,
        [{ feedbackId: 'srv-1', submissions: [{ requestId: 'r', contentHash: 'edited' }] }],
        AT,
        5,
        issued,
      );
      expect(res.plans.get('srv-1')!.items).toEqual([
        expect.objectContaining({ outcome: 'edit', revision: 2, previousRevision: 1 }),
      ]);
      expect([...store.claims.keys()]).toEqual(['srv-1#2']);
      // Then the late revision-1 claim lands: the latest revision is still 2, so the next edit is 3.
      store.claimNow(state('srv-1', 1, 'original'));
      const next = await reserveRevisions(
        store,
        [{ feedbackId: 'srv-1', submissions: [{ requestId: 'r', contentHash: 'again' }] }],
        AT,
        5,
        issued,
      );
      expect(next.plans.get('srv-1')!.items).toEqual([
        expect.objectContaining({ outcome: 'edit', revision: 3, previousRevision: 2 }),
      ]);
    });

    it('with the claim readable, duplicates, edits and requestId checks work as for any id', async () => {
      const store = new InMemoryRevisionStore();
      store.claimNow(state('srv-1', 1, 'x'));
      store.claimNow(state('srv-2', 1, 'x'));
      store.claimNow(state('srv-3', 1, 'x'));
      const res = await reserveRevisions(
        store,
        [
          { feedbackId: 'srv-1', submissions: [{ requestId: 'r', contentHash: 'x' }] },
          { feedbackId: 'srv-2', submissions: [{ requestId: 'r', contentHash: 'y' }] },
          { feedbackId: 'srv-3', submissions: [{ requestId: 'other', contentHash: 'y' }] },
        ],
        AT,
        5,
        issued,
      );
      expect(res.plans.get('srv-1')!.items).toEqual([
        expect.objectContaining({ outcome: 'duplicate', revision: 1 }),
      ]);
      expect(res.plans.get('srv-2')!.items).toEqual([
        expect.objectContaining({ outcome: 'edit', revision: 2, previousRevision: 1 }),
      ]);
      expect(res.plans.get('srv-3')!.items).toEqual([
        expect.objectContaining({ status: 409, code: 'feedback_id_conflict' }),
      ]);
      expect(store.claims.has('srv-1#2')).toBe(false);
    });

    it('a lost race on revision 2 re-reads past the missing revision 1', async () => {
      const store = new InMemoryRevisionStore();
      let raced = false;
      store.beforeClaim = () => {
        if (!raced) {
          raced = true;
          store.claimNow(state('srv-1', 2, 'theirs'));
        }
      };
      const res = await reserveRevisions(
        store,
        [{ feedbackId: 'srv-1', submissions: [{ requestId: 'r', contentHash: 'ours' }] }],
        AT,
        5,
        issued,
      );
      expect(res.plans.get('srv-1')!.items).toEqual([
        expect.objectContaining({ outcome: 'edit', revision: 3, previousRevision: 2 }),
      ]);
      expect(store.claims.has('srv-1#1')).toBe(false);
      expect(res.raceLosses).toBe(1);
    });

    it('ids that are not server-issued keep the optimistic first claim (no read)', async () => {
      const store = new InMemoryRevisionStore();
      await reserveRevisions(
        store,
        [{ feedbackId: 'client-1', submissions: [{ requestId: 'r', contentHash: 'x' }] }],
        AT,
        5,
        issued,
      );
      expect(store.reads).toBe(0);
      expect([...store.claims.keys()]).toEqual(['client-1#1']);
    });
  });
});
