import { isDatabaseUnavailable, isDuplicateKey, requestCollection, SERVICE_CONFIG } from '@llmops/platform';
import { Inject, Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { FeedbackConfig } from '../../config/feedback.config';
import { RevisionStoreUnavailableError } from '../feedback.errors';
import type { RevisionState } from '../revision-plan';
import {
  FEEDBACK_REVISION_MODEL,
  packedRevision,
  revisionDocument,
  revisionKey,
  type StoredRevisionDocument,
  storedRevision,
} from './feedback-revision.schema';
import {
  findClaim,
  FIRST_REVISION_PAGE_MODEL,
  type FirstRevisionPageDocument,
  pageId,
  pageWindowOf,
} from './first-revision-pages';

/** Upper bound of one grouped insertMany (a single request may exceed it; it then goes alone). */
const MAX_CLAIMS_PER_WRITE = 2_000;

interface PendingClaim {
  project: string;
  states: readonly RevisionState[];
  resolve: (taken: Set<string>) => void;
  reject: (err: Error) => void;
}

/**
 * The claims of one project, the port revision planning depends on (an in-memory fake implements
 * it in unit tests).
 */
export interface RevisionStore {
  /**
   * Claims each (feedbackId, revision) for its content. Returns the feedbackIds of which at least one
   * claim was already taken by someone else (their other claims in this call may have succeeded).
   */
  claim(states: readonly RevisionState[]): Promise<Set<string>>;
  /**
   * The highest claimed revision of a feedbackId, or null when it has none. With
   * `firstMayBeMissing` (server-issued ids, whose revision-1 claim is written after the ack, to a
   * page of `feedback_first_revision_pages`) a missing revision 1 does not end the search:
   * revision 2 may already exist; when no revision is claimed, revision 1 is read from its pages.
   */
  latest(feedbackId: string, firstMayBeMissing?: boolean): Promise<RevisionState | null>;
}

/** The revision stores of every project (the same feedbackId in two projects is two items). */
export interface RevisionStores {
  forProject(project: string): RevisionStore;
}

/** What FirstRevisionWriter needs: pages inserted whole, and read back to check a retry. */
export interface FirstRevisionPageStore {
  /** Inserts the page; false when a page with its `_id` exists already (nothing is changed then). */
  insertPage(page: FirstRevisionPageDocument): Promise<boolean>;
  page(id: string): Promise<FirstRevisionPageDocument | null>;
}

/**
 * The native collections behind the models on the hot path (mongoose documents are much slower for
 * bulk writes), each operation bounded by MONGODB_OPERATION_TIMEOUT_MS: a frozen database gives 503,
 * never a hang.
 */
@Injectable()
export class FeedbackRevisionRepository implements RevisionStores, FirstRevisionPageStore {
  private readonly projects = new Map<string, RevisionStore>();
  private readonly toDocument: (project: string, s: RevisionState) => StoredRevisionDocument;

  constructor(
    @InjectModel(FEEDBACK_REVISION_MODEL) private readonly revisions: Model<StoredRevisionDocument>,
    @InjectModel(FIRST_REVISION_PAGE_MODEL) private readonly pageModel: Model<FirstRevisionPageDocument>,
    @Inject(SERVICE_CONFIG) config: FeedbackConfig,
  ) {
    this.toDocument = config.FEEDBACK_PACKED_CLAIMS ? packedRevision : revisionDocument;
  }

  private get collection() {
    return requestCollection(this.revisions);
  }

  private get pages() {
    return requestCollection(this.pageModel);
  }

  forProject(project: string): RevisionStore {
    let store = this.projects.get(project);
    if (!store) {
      store = {
        claim: (states) => this.claim(project, states),
        latest: (feedbackId, firstMayBeMissing) => this.latest(project, feedbackId, firstMayBeMissing),
      };
      this.projects.set(project, store);
    }
    return store;
  }

  /**
   * Group commit: claims of concurrent requests (of any project) are written together, one
   * unordered insertMany at a time; while one is in flight the next fills up (like the platform's
   * producer). FerretDB (SQLite)
   * serialises writes, so one insert per request would cap intake at the database's write rate; grouped,
   * one write carries many claims for little more than the cost of one. Uniqueness is unaffected: two requests claiming the same
   * revision in one insertMany still get exactly one winner (duplicate-key error for the other).
   */
  private claim(project: string, states: readonly RevisionState[]): Promise<Set<string>> {
    if (states.length === 0) return Promise.resolve(new Set<string>());
    return new Promise<Set<string>>((resolve, reject) => {
      this.pendingClaims.push({ project, states, resolve, reject });
      this.pumpClaims();
    });
  }

  private readonly pendingClaims: PendingClaim[] = [];
  private claimInFlight = false;

  private pumpClaims(): void {
    if (this.claimInFlight || this.pendingClaims.length === 0) return;
    const group: PendingClaim[] = [];
    let docs = 0;
    for (let next = this.pendingClaims[0]; next; next = this.pendingClaims[0]) {
      if (docs > 0 && docs + next.states.length > MAX_CLAIMS_PER_WRITE) break;
      this.pendingClaims.shift();
      group.push(next);
      docs += next.states.length;
    }
    this.claimInFlight = true;
    const all = group.flatMap((g) => g.states.map((s) => this.toDocument(g.project, s)));
    this.insertClaims(all)
      .then((takenIndexes) => {
        let offset = 0;
        for (const g of group) {
          const taken = new Set<string>();
          g.states.forEach((s, i) => {
            if (takenIndexes.has(offset + i)) taken.add(s.feedbackId);
          });
          offset += g.states.length;
          g.resolve(taken);
        }
      })
      .catch((err: unknown) => {
        const failure = err instanceof Error ? err : new RevisionStoreUnavailableError(err);
        for (const g of group) g.reject(failure);
        // The database did not answer: claims queued behind this write would wait for its deadline
        // and then for their own. They fail now, so no request waits longer than one deadline.
        if (isDatabaseUnavailable((err as { cause?: unknown }).cause)) {
          for (const g of this.pendingClaims.splice(0)) g.reject(failure);
        }
      })
      .finally(() => {
        this.claimInFlight = false;
        this.pumpClaims();
      });
  }

  /** Returns the indexes (into `docs`) whose claim already existed. */
  private async insertClaims(docs: StoredRevisionDocument[]): Promise<Set<number>> {
    const taken = new Set<number>();
    try {
      await this.collection.insertMany(docs, { ordered: false });
    } catch (err) {
      if (!isDuplicateKey(err)) throw new RevisionStoreUnavailableError(err);
      const { writeErrors } = err as { writeErrors?: { index: number } | { index: number }[] };
      if (writeErrors === undefined && docs.length !== 1) throw new RevisionStoreUnavailableError(err);
      for (const w of [writeErrors ?? { index: 0 }].flat()) taken.add(w.index);
    }
    return taken;
  }

  /** Whether any page of the paged design exists (read once, at boot: no request deadline). */
  async holdsPages(): Promise<boolean> {
    return (await this.pageModel.collection.findOne({}, { projection: { _id: 1 } })) !== null;
  }

  async insertPage(page: FirstRevisionPageDocument): Promise<boolean> {
    try {
      await this.pages.insertOne(page);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw new RevisionStoreUnavailableError(err);
    }
  }

  async page(id: string): Promise<FirstRevisionPageDocument | null> {
    try {
      return await this.pages.findOne({ _id: id });
    } catch (err) {
      throw new RevisionStoreUnavailableError(err);
    }
  }

  /**
   * The revision-1 claim of a server-issued id in `project` from its window's pages (parts 0, 1, ...
   * up to the first missing one), or null when it is not written (yet, or at all).
   */
  async firstRevision(project: string, feedbackId: string): Promise<RevisionState | null> {
    const w = pageWindowOf(feedbackId);
    for (let part = 0; ; part++) {
      const page = await this.page(pageId(w, part));
      if (!page) return null;
      const claim = findClaim(page.claims, feedbackId, project);
      if (claim) return claim;
    }
  }

  private async latest(
    project: string,
    feedbackId: string,
    firstMayBeMissing = false,
  ): Promise<RevisionState | null> {
    let found: RevisionState | null = null;
    try {
      for (let revision = 1; ; revision++) {
        const doc = await this.collection.findOne({ _id: revisionKey(project, feedbackId, revision) });
        if (!doc && !(revision === 1 && firstMayBeMissing)) break;
        if (doc) found = storedRevision(feedbackId, revision, doc);
      }
    } catch (err) {
      throw new RevisionStoreUnavailableError(err);
    }
    if (found) return found;
    // Nothing claimed in feedback_revisions: revision 1 of a server-issued id lives in a page.
    return firstMayBeMissing ? this.firstRevision(project, feedbackId) : null;
  }
}
