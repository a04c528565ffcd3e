import type { RevisionStore } from './persistence/feedback-revision.repository';
import { reserveRevisions } from './reserve-revisions';
import type { RevisionState } from './revision-plan';

/** In-memory store with the same semantics as the MongoDB one: a claim is a unique-key insert. */
class FakeRevisionStore implements RevisionStore {
  readonly claims = new Map<string, RevisionState>();
  /** Runs before each claim call: lets a test simulate a concurrent request winning. */
  beforeClaim?: () => void;
  reads = 0;

  claimNow(s: RevisionState): boolean {
    const key = `${s.feedbackId}#${s.revision}`;
    if (this.claims.has(key)) return false;
    this.claims.set(key, s);
    return true;
  }

  async claim(states: readonly RevisionState[]): Promise<Set<string>> {
    this.beforeClaim?.();
    const taken = new Set<string>();
    for (const s of states) if (!this.claimNow(s)) taken.add(s.feedbackId);
    return taken;
  }

  async latest(feedbackId: string): Promise<RevisionState | null> {
    this.reads++;
    let found: RevisionState | null = null;
    for (let r = 1; this.claims.has(`${feedbackId}#${r}`); r++)
      found = this.claims.get(`${feedbackId}#${r}`)!;
    return found;
  }
}

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
    const store = new FakeRevisionStore();
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
    const store = new FakeRevisionStore();
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
    const store = new FakeRevisionStore();
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
    const store = new FakeRevisionStore();
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
});
