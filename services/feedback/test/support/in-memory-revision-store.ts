import type { RevisionStore } from '../../src/feedback/persistence/feedback-revision.repository';
import type { RevisionState } from '../../src/feedback/revision-plan';

/** In-memory store with the same semantics as the MongoDB one: a claim is a unique-key insert. */
export class InMemoryRevisionStore implements RevisionStore {
  readonly claims = new Map<string, RevisionState>();
  /** Runs before each claim call: lets a test simulate a concurrent request winning. */
  beforeClaim?: () => void;
  reads = 0;

  /** @param log receives `claim <feedbackId>#<revision>` for every claim attempted. */
  constructor(private readonly log?: string[]) {}

  claimNow(s: RevisionState): boolean {
    const key = `${s.feedbackId}#${s.revision}`;
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
    let found: RevisionState | null = null;
    for (let r = firstMayBeMissing && !this.claims.has(`${feedbackId}#1`) ? 2 : 1; ; r++) {
      const s = this.claims.get(`${feedbackId}#${r}`);
      if (!s) return found;
      found = s;
    }
  }
}
