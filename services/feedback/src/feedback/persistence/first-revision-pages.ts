/**
 * `feedback_first_revision_pages`: the revision-1 claims of server-issued feedback ids in the paged
 * design, many per document (one document per claim costs FerretDB's SQLite backend far more CPU).
 * Where a claim lives follows from its id alone, so an edit finds it without an index:
 * `_id = <node>:<window>:<part>` (the UUIDv7's node id, its time / PAGE_WINDOW_MS, and the part, 0, 1,
 * ... in write order). A reader stops at the first missing part: the writer writes a window's parts
 * in order and reuses a part it gave up on. `claims` holds one JSON array per line (JSON never holds
 * a raw newline): [feedbackId, requestId, contentHash, receivedAt, timestamp], plus the project as a
 * sixth element when it is not `default` (a page holds the claims of every project). See the
 * README, "Pages".
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';
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

/** One line of a page: a claim of `project`. */
export function claimLine(s: RevisionState, project: string): string {
  const fields = [s.feedbackId, s.requestId, s.contentHash, s.receivedAt, s.timestamp];
  // Default claims keep the five fields every version reads.
  return JSON.stringify(project === DEFAULT_PROJECT ? fields : [...fields, project]);
}

/**
 * The revision-1 claim of `feedbackId` in `project` in a page's `claims`, or null (also for a line
 * that does not parse: the edit is then planned as for a claim that was never written, which is
 * safe). A claim of the same id in another project is not this one.
 */
export function findClaim(claims: string, feedbackId: string, project: string): RevisionState | null {
  // The id is a fixed-format UUID (no characters JSON escapes), so its line starts like this.
  const prefix = `["${feedbackId}",`;
  for (let start = claims.startsWith(prefix) ? 0 : nextLine(claims, prefix, 0); start >= 0;) {
    const end = claims.indexOf('\n', start);
    const claim = parseClaim(claims.slice(start, end < 0 ? undefined : end), feedbackId, project);
    if (claim) return claim;
    start = end < 0 ? -1 : nextLine(claims, prefix, end);
  }
  return null;
}

/** The start of the next line after `from` that begins with `prefix`, or -1. */
function nextLine(claims: string, prefix: string, from: number): number {
  const at = claims.indexOf(`\n${prefix}`, from);
  return at < 0 ? -1 : at + 1;
}

function parseClaim(line: string, feedbackId: string, project: string): RevisionState | null {
  let fields: unknown;
  try {
    fields = JSON.parse(line);
  } catch {
    return null;
  }
  if (
    !Array.isArray(fields) ||
    (fields.length !== 5 && fields.length !== 6) ||
    !fields.every((f) => typeof f === 'string')
  ) {
    return null;
  }
  const [, requestId, contentHash, receivedAt, timestamp, claimProject = DEFAULT_PROJECT] =
    fields as string[];
  if (claimProject !== project) return null;
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
