import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { ClaimDocument } from './harness';

/**
 * The smallest revision claim a design can store for a new feedback item: the unique `_id`
 * (`<feedbackId>#<revision>`, from which the id and revision follow), plus what a duplicate needs to
 * re-publish a byte-identical event and what an edit is compared against. The service's documents
 * also carry feedbackId, revision and previousRevision, and its content hash covers the canonical
 * item rather than a short id, so the ceilings built on this favour the alternative.
 */
export function smallestClaim(requestId: string): ClaimDocument {
  const feedbackId = uuidv7();
  const now = new Date().toISOString();
  return {
    _id: `${feedbackId}#1`,
    requestId,
    contentHash: createHash('sha256').update(feedbackId).digest('hex'),
    receivedAt: now,
    timestamp: now,
  };
}
