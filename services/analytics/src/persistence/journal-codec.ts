/**
 * A partition journal link as stored (`StoredJournal`) and back. What a link adds is stored as one
 * JSON text per field, not as arrays of strings, numbers and documents: FerretDB converts every
 * field and array element of a document it stores, and a batch's users, request ids and revisions
 * as arrays cost it several times the CPU of the same data as one string each.
 *
 * `seen` and `requests` are the `JournalDoc` fields' JSON. `revisions` is grouped: the revisions a
 * batch applied to one project, experiment, arm and minute share one group, and each is a tuple
 * `[feedbackId, revision, values, source]`, with its `contributor` appended only when it is not
 * its source (a feedback resolved by its generation). The applied revisions are most of a link,
 * and this halves them against `JSON.stringify` of the `AppliedRevision` objects, which repeats
 * every field name and the project, experiment, arm and minute of each.
 *
 * Links written by earlier builds still load: additions as arrays, and revisions as the
 * `AppliedRevision` objects (text or array).
 */
import type { FeedbackValues } from '../domain/feedback-values';
import type { AppliedRevision, JournalDoc, MessageId } from '../domain/partition-state';
import type { StoredJournal } from './analytics.schemas';

type RevisionItem =
  | [feedbackId: string, revision: number, values: FeedbackValues, source: MessageId]
  | [feedbackId: string, revision: number, values: FeedbackValues, source: MessageId, contributor: MessageId];

/** The applied revisions of one batch for one experiment, arm and minute. */
export interface RevisionGroup {
  project: string;
  exp: string;
  arm: string;
  minute: number;
  items: RevisionItem[];
}

/** `revisions` grouped by project, experiment, arm and minute, in their order within each group. */
export function groupRevisions(revisions: readonly AppliedRevision[]): RevisionGroup[] {
  const groups = new Map<string, RevisionGroup>();
  for (const r of revisions) {
    const key = `${r.project}\u0000${r.exp}\u0000${r.arm}\u0000${r.minute}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { project: r.project, exp: r.exp, arm: r.arm, minute: r.minute, items: [] };
      groups.set(key, group);
    }
    group.items.push(
      r.contributor === r.source
        ? [r.feedbackId, r.revision, r.values, r.source]
        : [r.feedbackId, r.revision, r.values, r.source, r.contributor],
    );
  }
  return [...groups.values()];
}

/** The revisions of `groups` (see `groupRevisions`). */
export function ungroupRevisions(groups: readonly RevisionGroup[]): AppliedRevision[] {
  const revisions: AppliedRevision[] = [];
  for (const { project, exp, arm, minute, items } of groups)
    for (const [feedbackId, revision, values, source, contributor] of items)
      revisions.push({
        project,
        feedbackId,
        revision,
        values,
        source,
        contributor: contributor ?? source,
        exp,
        arm,
        minute,
      });
  return revisions;
}

/** A link as stored. */
export function toStoredJournal(link: JournalDoc): StoredJournal {
  return {
    ...link,
    seen: JSON.stringify(link.seen),
    requests: JSON.stringify(link.requests),
    revisions: JSON.stringify(groupRevisions(link.revisions)),
  };
}

/** A link's addition as loaded: JSON text, or an array as links of earlier builds stored it. */
function fromText<T>(stored: string | T[]): T[] {
  return typeof stored === 'string' ? (JSON.parse(stored) as T[]) : stored;
}

/** Revisions as loaded: groups, or the revision objects links of earlier builds stored. */
function revisionsOf(stored: StoredJournal['revisions']): AppliedRevision[] {
  const list = fromText<RevisionGroup | AppliedRevision>(stored);
  return list.length > 0 && 'items' in list[0]
    ? ungroupRevisions(list as RevisionGroup[])
    : (list as AppliedRevision[]);
}

/**
 * A stored link as the partition state applies it; `withRequests` false leaves its requests out
 * (a link past the request retention, see `RequestPlacements`) without parsing them.
 */
export function fromStoredJournal(stored: StoredJournal, withRequests = true): JournalDoc {
  return {
    ...stored,
    seen: fromText(stored.seen),
    requests: withRequests ? fromText(stored.requests) : [],
    revisions: revisionsOf(stored.revisions),
  };
}
