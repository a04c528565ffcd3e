import { mulberry32 } from '@llmops/stats';
import type { AppliedRevision, JournalDoc } from '../domain/partition-state';
import type { StoredJournal } from './analytics.schemas';
import { fromStoredJournal, groupRevisions, toStoredJournal } from './journal-codec';

function link(revisions: AppliedRevision[]): JournalDoc {
  return {
    _id: 'f:0^-1',
    part: 0,
    kind: 'f',
    base: -1,
    lastOffset: 9,
    at: '2026-12-07T10:00:00.000Z',
    seen: [{ project: 'default', exp: 'e', arm: 'a', users: ['u1', 'u2'], offsets: [0, 3] }],
    requests: [{ project: 'default', exp: null, arm: null, ids: ['r1'] }],
    revisions,
    resolved: ['f:0:1'],
  };
}

/** Random revisions of a batch: a few projects, experiments, arms and minutes, some contributed by a generation. */
function randomRevisions(seed: number, n: number): AppliedRevision[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
  const byFeedback = new Map<string, AppliedRevision>();
  const out: AppliedRevision[] = [];
  for (let i = 0; i < n; i++) {
    const feedbackId = `fb-${Math.floor(rand() * (n / 2))}`;
    const project = pick(['default', 'acme']);
    const earlier = byFeedback.get(`${project}|${feedbackId}`);
    const source = `f:0:${i}`;
    const r: AppliedRevision = {
      project,
      feedbackId,
      revision: (earlier?.revision ?? 0) + 1,
      values: {
        rating: rand() < 0.8 ? 1 + Math.floor(rand() * 5) : null,
        thumbs: pick(['up', 'down', null]),
        scores: rand() < 0.5 ? { relevance: rand(), constructor: rand(), 'tone%2Efriendly': rand() } : {},
        comment: rand() < 0.3,
        correction: rand() < 0.1,
      },
      source,
      contributor: rand() < 0.25 ? `g:0:${i}` : source,
      // An edit keeps the target its first revision pinned.
      exp: earlier?.exp ?? pick(['e1', 'e2']),
      arm: earlier?.arm ?? pick(['control', 'treatment', 'b']),
      minute: earlier?.minute ?? 29_944_300 + Math.floor(rand() * 3),
    };
    byFeedback.set(`${project}|${feedbackId}`, r);
    out.push(r);
  }
  return out;
}

const byIdentity = (a: AppliedRevision, b: AppliedRevision): number =>
  `${a.project}|${a.feedbackId}|${a.revision}`.localeCompare(`${b.project}|${b.feedbackId}|${b.revision}`);

describe('journal codec', () => {
  it('loads every revision a link stored, with its values, target, source and contributor', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const revisions = randomRevisions(seed, 1 + (seed % 40));
      const stored = toStoredJournal(link(revisions));
      // Through BSON as the driver would store it: plain JSON-compatible data.
      const loaded = fromStoredJournal(structuredClone(stored));
      expect([...loaded.revisions].sort(byIdentity)).toEqual([...revisions].sort(byIdentity));
      // The revisions of each feedback keep their order (an edit after the revision it replaces).
      const order = (rs: AppliedRevision[]) => {
        const by = new Map<string, number[]>();
        for (const r of rs)
          by.set(`${r.project}|${r.feedbackId}`, [
            ...(by.get(`${r.project}|${r.feedbackId}`) ?? []),
            r.revision,
          ]);
        return Object.fromEntries(by);
      };
      expect(order(loaded.revisions)).toEqual(order(revisions));
      expect(loaded.seen).toEqual(link(revisions).seen);
      expect(loaded.requests).toEqual(link(revisions).requests);
      expect(loaded.resolved).toEqual(['f:0:1']);
    }
  });

  it('stores the additions as JSON text, the revisions grouped: about half the text of the revision objects', () => {
    const revisions = randomRevisions(7, 400);
    const stored = toStoredJournal(link(revisions));
    expect([typeof stored.seen, typeof stored.requests, typeof stored.revisions]).toEqual([
      'string',
      'string',
      'string',
    ]);
    const groups = groupRevisions(revisions);
    expect(groups.length).toBeLessThan(revisions.length / 4);
    expect(stored.revisions.length).toBeLessThan(0.6 * JSON.stringify(revisions).length);
  });

  it('leaves the requests out of a link past the request retention', () => {
    const loaded = fromStoredJournal(toStoredJournal(link(randomRevisions(3, 5))), false);
    expect(loaded.requests).toEqual([]);
    expect(loaded.revisions).toHaveLength(5);
  });

  it('loads links of earlier builds: revision objects as JSON text, and additions as arrays', () => {
    const revisions = randomRevisions(11, 12);
    const asText: StoredJournal = {
      ...link(revisions),
      seen: JSON.stringify(link(revisions).seen),
      requests: JSON.stringify(link(revisions).requests),
      revisions: JSON.stringify(revisions),
    };
    expect(fromStoredJournal(asText).revisions).toEqual(revisions);
    const asArrays: StoredJournal = structuredClone(link(revisions));
    expect(fromStoredJournal(asArrays)).toEqual(link(revisions));
    expect(fromStoredJournal({ ...asArrays, revisions: '[]' }).revisions).toEqual([]);
  });
});
