import type { RevisionState } from '../revision-plan';
import { packedRevision, revisionDocument, revisionKey, storedRevision } from './feedback-revision.schema';

const first: RevisionState = {
  feedbackId: 'fb-1#2@x',
  requestId: 'req "ü" \u{1F600} \\ ,]',
  revision: 1,
  contentHash: 'a'.repeat(64),
  previousRevision: null,
  receivedAt: '2026-12-06T10:00:00.000Z',
  timestamp: '2026-12-01T00:00:00.000Z',
};
const edit: RevisionState = { ...first, revision: 3, previousRevision: 2, contentHash: 'b'.repeat(64) };

describe('claim documents', () => {
  it.each([first, edit])(
    'a packed claim is its key and one string, and reads back as the claim (revision $revision)',
    (s) => {
      for (const project of ['default', 'team-b']) {
        const doc = packedRevision(project, s);
        expect(Object.keys(doc)).toEqual(['_id', 'c']);
        expect(doc._id).toBe(revisionKey(project, s.feedbackId, s.revision));
        expect(storedRevision(s.feedbackId, s.revision, doc)).toEqual(s);
      }
    },
  );

  it('a claim with its fields (FEEDBACK_PACKED_CLAIMS=false, and every claim before packed ones) reads back the same', () => {
    for (const s of [first, edit]) {
      const doc = revisionDocument('team-b', s);
      expect(doc).toMatchObject({ _id: revisionKey('team-b', s.feedbackId, s.revision), project: 'team-b' });
      expect(storedRevision(s.feedbackId, s.revision, doc)).toEqual(s);
    }
  });
});
