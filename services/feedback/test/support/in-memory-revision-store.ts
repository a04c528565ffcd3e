import { revisionKey } from '../../src/feedback/persistence/feedback-revision.schema';
import type {
  RevisionStore,
  RevisionStores,
} from '../../src/feedback/persistence/feedback-revision.repository';
import type { RevisionState } from '../../src/feedback/revision-plan';

/**
 * In-memory store with the same semantics as the MongoDB one: a claim is a unique-key insert. The
 * stores of all projects share one map under the repository's keys (revisionKey), as they share
 * one collection.
 */
export class InMemoryRevisionStore implements RevisionStore, RevisionStores {
  /** Runs before each claim call: lets a test simulate a concurrent request winning. */
  beforeClaim?: () => void;
  reads = 0;
  private readonly projects = new Map<string, InMemoryRevisionStore>();

  /** @param log receives `claim <revisionKey>` for every claim attempted. */
  constructor(
    private readonly log?: string[],
    private readonly project = 'default',
    readonly claims = new Map<string, RevisionState>(),
  ) {}

  forProject(project: string): InMemoryRevisionStore {
    if (project === this.project) return this;
    let store = this.projects.get(project);
    if (!store)
      this.projects.set(project, (store = new InMemoryRevisionStore(this.log, project, this.claims)));
    return store;
  }

  claimNow(s: RevisionState): boolean {
    const key = revisionKey(this.project, s.feedbackId, s.revision);
    this.log?.push(`claim ${key}`);
    if (this.claims.has(key)) return false;
    this.claims.set(key, s);
    return true;
  }

  async claim(states: readonly RevisionState[]): Promise<Set<string>> {
    this.beforeClaim?.();
    const taken = new Set<string>();
    for (const s of states) if (!this.claimNow(s)) taken.add(s.feedbackId);
    return taken;
  }

  async latest(feedbackId: string, firstMayBeMissing = false): Promise<RevisionState | null> {
    this.reads++;
    const key = (r: number) => revisionKey(this.project, feedbackId, r);
    let found: RevisionState | null = null;
    for (let r = firstMayBeMissing && !this.claims.has(key(1)) ? 2 : 1; ; r++) {
      const s = this.claims.get(key(r));
      if (!s) return found;
      found = s;
    }
  }
}
