/**
 * `feedback_first_revision_pages`: the revision-1 claims of server-issued feedback ids in the paged
 * design, many per document (one document per claim costs FerretDB's SQLite backend far more CPU).
 * Where a claim lives follows from its id alone, so an edit finds it without an index:
 * `_id = <node>:<window>:<part>` (the UUIDv7's node id, its time / PAGE_WINDOW_MS, and the part, 0, 1,
 * ... in write order). A reader stops at the first missing part: the writer writes a window's parts
 * in order and reuses a part it gave up on. `claims` holds one JSON array per line (JSON never holds
 * a raw newline): [feedbackId, requestId, contentHash, receivedAt, timestamp]. See the README, "Pages".
 */
import { uuidv7Time } from '@llmops/platform';
import { Schema } from 'mongoose';
import type { RevisionState } from '../revision-plan';

export const FIRST_REVISION_PAGE_MODEL = 'FirstRevisionPage';

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

/** Indexes: only `_id` (pages are inserted whole and read by `_id`). */
export const FirstRevisionPageSchema = new Schema<FirstRevisionPageDocument>(
  { _id: String, claims: String, count: Number },
  { collection: 'feedback_first_revision_pages', versionKey: false },
);

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
