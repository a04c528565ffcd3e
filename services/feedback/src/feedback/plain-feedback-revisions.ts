import { uuidv7 } from '@llmops/platform';
import { FeedbackRevisions, type Reservation, type RevisionRequest } from './feedback-revisions';
import type { RevisionStores } from './persistence/feedback-revision.repository';
import { reserveRevisions } from './reserve-revisions';

/**
 * The design for MongoDB: every revision, revision 1 of a server-issued id included, is claimed
 * before its event is published, by inserting its key (revisionKey) into `feedback_revisions`.
 * It relies on one guarantee only: a unique index (`_id`) admits exactly one of concurrent inserts
 * of the same key, also within one unordered `insertMany`. Server-issued ids are plain UUIDv7s:
 * their revision 1 is claimed like any new id's, optimistically and without a read.
 */
export class PlainFeedbackRevisions extends FeedbackRevisions {
  constructor(
    private readonly stores: RevisionStores,
    private readonly maxAttempts: number,
  ) {
    super();
  }

  issueId(): string {
    return uuidv7();
  }

  async reserve(
    requests: readonly RevisionRequest[],
    receivedAt: string,
    project: string,
  ): Promise<Reservation> {
    const store = this.stores.forProject(project);
    const result = await reserveRevisions(store, requests, receivedAt, this.maxAttempts);
    return { ...result, acknowledged: () => undefined };
  }
}
