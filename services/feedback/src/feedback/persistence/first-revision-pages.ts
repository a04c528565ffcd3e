/**
 * `feedback_first_revision_pages`: the revision-1 claims of SERVER-ISSUED feedback ids, many per
 * document (FirstRevisionWriter writes them after the broker ack; see the README, "Server-issued ids").
 *
 * Why pages instead of one `feedback_revisions` document per claim: every new piece of feedback
 * without a feedbackId needs such a claim, and on the MongoDB-wire server we run (FerretDB 1.24,
 * SQLite) a document costs a fixed overhead many times that of one line of a page's string, and in the
 * feedback benchmarks that overhead was a large share of the host's CPU (docs/perf/HISTORY.md). A page needs no read-modify-write: it is inserted once, whole, like a revision claim.
 *
 * Where a claim lives follows from its id alone, so an edit can find it without an index:
 *   _id = `<node>:<window>:<part>`
 *   - node: the 8 hex digits of the issuing generator's node id (bytes 8-11 of the UUIDv7, fixed per
 *     process, see server-feedback-ids.ts);
 *   - window: the id's millisecond time divided by PAGE_WINDOW_MS (100 ms), rounded down;
 *   - part: 0, 1, 2, ... in the order the pages of one window are written. A window needs more than
 *     one part when its claims exceed a group (FEEDBACK_FIRST_CLAIM_MAX_GROUP), when an ack arrives
 *     after its window's page was written, or when another process with the same node id (odds of
 *     1 in 2^30 per pair) took the part.
 * A reader tries part 0, 1, ... and stops at the first part that does not exist: the writer writes
 * the parts of a window in order and reuses a part number whose page it gave up on, so a missing
 * part means there are no later ones.
 *
 * `claims` holds one JSON array per line: [feedbackId, requestId, contentHash, receivedAt,
 * timestamp] (revision 1, no previous revision). JSON never contains a raw newline.
 */
import type { RevisionState } from '../revision-plan';
import { uuidv7Time } from '@llmops/platform';

export const FIRST_REVISION_PAGES_COLLECTION = 'feedback_first_revision_pages';

/** The time span of one page window (ids are sorted into windows by the time they carry). */
export const PAGE_WINDOW_MS = 100;

/** A page stops taking claims at this size (well below MongoDB's 16 MiB document limit). */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

export interface FirstRevisionPageDocument {
  /** `<node>:<window>:<part>` */
  _id: string;
  /** One JSON line per claim (see above). */
  claims: string;
  count: number;
}

export interface PageWindow {
  node: string;
  window: number;
}

/** The window a server-issued (UUIDv7) id's claim belongs to. */
export function pageWindowOf(feedbackId: string): PageWindow {
  return {
    node: feedbackId.slice(19, 23) + feedbackId.slice(24, 28),
    window: Math.floor(uuidv7Time(feedbackId) / PAGE_WINDOW_MS),
  };
}

export function pageId(w: PageWindow, part: number): string {
  return `${w.node}:${w.window}:${part}`;
}

/** One line of a page. */
export function claimLine(s: RevisionState): string {
  return JSON.stringify([s.feedbackId, s.requestId, s.contentHash, s.receivedAt, s.timestamp]);
}

/**
 * The revision-1 claim of `feedbackId` in a page's `claims`, or null (also for a line that does not
 * parse: the edit is then planned as for a claim that was never written, which is safe).
 */
export function findClaim(claims: string, feedbackId: string): RevisionState | null {
  // The id is a fixed-format UUID (no characters JSON escapes), so its line starts like this.
  const prefix = `["${feedbackId}",`;
  let start = 0;
  if (!claims.startsWith(prefix)) {
    const at = claims.indexOf(`\n${prefix}`);
    if (at < 0) return null;
    start = at + 1;
  }
  const end = claims.indexOf('\n', start);
  let fields: unknown;
  try {
    fields = JSON.parse(claims.slice(start, end < 0 ? undefined : end));
  } catch {
    return null;
  }
  if (!Array.isArray(fields) || fields.length !== 5 || !fields.every((f) => typeof f === 'string')) {
    return null;
  }
  const [, requestId, contentHash, receivedAt, timestamp] = fields as string[];
  return {
    feedbackId,
    requestId: requestId as string,
    revision: 1,
    contentHash: contentHash as string,
    previousRevision: null,
    receivedAt: receivedAt as string,
    timestamp: timestamp as string,
  };
}
