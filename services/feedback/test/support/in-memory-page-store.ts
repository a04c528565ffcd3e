import type { FirstRevisionPageStore } from '../../src/feedback/persistence/feedback-revision.repository';
import {
  findClaim,
  type FirstRevisionPageDocument,
  pageId,
  pageWindowOf,
} from '../../src/feedback/persistence/first-revision-pages';
import type { RevisionState } from '../../src/feedback/revision-plan';

/** Pages in memory, with injectable write failures. */
export class InMemoryPageStore implements FirstRevisionPageStore {
  readonly pages = new Map<string, FirstRevisionPageDocument>();
  /** Page ids in the order they were stored. */
  readonly writes: string[] = [];
  failures = 0;
  /** Inserts store the page and THEN fail (a write whose outcome the client never saw). */
  failAfterWrite = 0;

  async insertPage(page: FirstRevisionPageDocument): Promise<boolean> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('database away');
    }
    if (this.pages.has(page._id)) return false;
    this.pages.set(page._id, page);
    this.writes.push(page._id);
    if (this.failAfterWrite > 0) {
      this.failAfterWrite--;
      throw new Error('timed out after the write');
    }
    return true;
  }

  async page(id: string): Promise<FirstRevisionPageDocument | null> {
    return this.pages.get(id) ?? null;
  }

  /** The feedbackIds stored in page `id`, in order. */
  idsIn(id: string): string[] {
    return (this.pages.get(id)?.claims.split('\n') ?? []).map((l) => (JSON.parse(l) as string[])[0] ?? '');
  }

  /** What the repository's reader does: parts 0, 1, ... of the id's window until one is missing. */
  lookup(feedbackId: string, project = 'default'): RevisionState | null {
    const w = pageWindowOf(feedbackId);
    for (let part = 0; ; part++) {
      const page = this.pages.get(pageId(w, part));
      if (!page) return null;
      const claim = findClaim(page.claims, feedbackId, project);
      if (claim) return claim;
    }
  }
}
