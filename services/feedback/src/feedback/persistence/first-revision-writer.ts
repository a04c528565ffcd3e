/**
 * Writes the revision-1 claims of SERVER-ISSUED feedback ids after the broker acknowledged their
 * events, in large groups and off the request path (see the README, "Server-issued ids").
 *
 * Why after the ack is safe for those ids, and only for them: nobody else can hold a fresh
 * server-issued id, so no other content can ever claim its revision 1 (edits of a server-issued id
 * never claim revision 1: reserveRevisions plans them from the stored revision or from
 * `unknownFirstRevision`). The claim is needed later only to tell an identical resubmission
 * (duplicate) from an edit, and to keep an id on its requestId. When it is late or lost (crash,
 * database outage), an edit still becomes revision 2; only those two checks are skipped for it.
 *
 * - Group commit: claims wait up to `lingerMs` for company, at most `maxGroup` per insertMany, one
 *   write in flight at a time.
 * - Same-replica edits wait for the claim (`settled`), so on one replica they are planned exactly.
 * - Database errors: the group is retried with backoff (250 ms doubling to 5 s). Claims beyond
 *   `maxPending` are dropped and counted, never buffered without bound.
 * - Shutdown: pending claims are written before the MongoDB connection closes (the platform's own
 *   shutdown hook runs after this module's), within `flushTimeoutMs`.
 */
import type { Logger } from 'pino';
import type { RevisionState } from '../revision-plan';

export interface FirstRevisionStore {
  /** Returns the indexes (into `states`) whose claim already existed. */
  insertClaims(states: readonly RevisionState[]): Promise<Set<number>>;
  /** The stored claim of each (feedbackId, revision), or null. */
  claimsOf(states: readonly RevisionState[]): Promise<(RevisionState | null)[]>;
}

export interface FirstRevisionWriterOptions {
  lingerMs: number;
  maxGroup: number;
  maxPending: number;
  flushTimeoutMs: number;
  /** Failed attempts after which a group is dropped (default 20, about 1.5 minutes of backoff). */
  maxAttempts?: number;
}

export interface FirstRevisionMetrics {
  claims(result: 'written' | 'taken' | 'dropped', n: number): void;
  writeFailed(): void;
}

interface Group {
  states: RevisionState[];
  done: Promise<void>;
  resolve: () => void;
  finished: boolean;
  attempts: number;
}

const RETRY_MIN_MS = 250;
/** A group that failed this often (about 1.5 minutes of backoff) is dropped: the queue must move. */
const DEFAULT_MAX_ATTEMPTS = 20;
const RETRY_MAX_MS = 5_000;
const DROP_LOG_INTERVAL_MS = 5_000;

export class FirstRevisionWriter {
  private readonly groups: Group[] = [];
  /** The group each pending id will be written with. */
  private readonly waiting = new Map<string, Group>();
  private open: Group | null = null;
  private pending = 0;
  /** The group being written, if any. */
  private inFlight: Group | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelayMs = RETRY_MIN_MS;
  private flushing = false;
  private closed = false;
  private lastDropLog = 0;

  constructor(
    private readonly store: FirstRevisionStore,
    private readonly options: FirstRevisionWriterOptions,
    private readonly metrics: FirstRevisionMetrics,
    private readonly logger: Logger,
  ) {}

  /** Queues revision-1 claims whose events the broker has acknowledged. Never throws. */
  record(states: readonly RevisionState[]): void {
    if (states.length === 0) return;
    if (this.closed) {
      this.metrics.claims('dropped', states.length);
      this.logger.warn({ dropped: states.length }, 'first-revision claims recorded after shutdown: dropped');
      return;
    }
    if (this.pending + states.length > this.options.maxPending) {
      this.metrics.claims('dropped', states.length);
      this.logDrop(states.length, 'pending claims are at FEEDBACK_FIRST_CLAIM_MAX_PENDING');
      return;
    }
    for (const s of states) {
      let group = this.open;
      if (!group || group.states.length >= this.options.maxGroup) {
        group = this.newGroup();
        this.open = group;
        this.groups.push(group);
      }
      group.states.push(s);
      this.waiting.set(s.feedbackId, group);
    }
    this.pending += states.length;
    this.pump();
  }

  /** Resolves when the claim of `feedbackId` queued on this replica is written or given up. */
  settled(feedbackId: string): Promise<void> | undefined {
    return this.waiting.get(feedbackId)?.done;
  }

  get pendingCount(): number {
    return this.pending;
  }

  /** Nest calls it after the HTTP server stopped and before the platform closes MongoDB. */
  async onApplicationShutdown(): Promise<void> {
    await this.flush();
  }

  /** Writes everything queued (shutdown); claims still unwritten after `flushTimeoutMs` are dropped. */
  async flush(): Promise<void> {
    this.flushing = true;
    // Write now: no linger, and a group waiting out a retry backoff is retried at once.
    this.clearTimers();
    this.retryDelayMs = RETRY_MIN_MS;
    this.pump();
    const deadline = Date.now() + this.options.flushTimeoutMs;
    for (let head = this.groups[0]; head && Date.now() < deadline; head = this.groups[0]) {
      await Promise.race([head.done, sleep(Math.max(1, deadline - Date.now()))]);
    }
    this.closed = true;
    this.clearTimers();
    // A write still in flight counts itself (written, or dropped when it fails); the rest is lost.
    const left = this.groups.splice(0).filter((g) => g !== this.inFlight);
    const lost = left.reduce((n, g) => n + g.states.length, 0);
    for (const g of left) this.finish(g);
    this.open = null;
    if (lost > 0) {
      this.metrics.claims('dropped', lost);
      this.logger.warn({ lost }, 'first-revision claims not written before shutdown');
    }
  }

  private clearTimers(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.lingerTimer = null;
    this.retryTimer = null;
  }

  private newGroup(): Group {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    return { states: [], done, resolve, finished: false, attempts: 0 };
  }

  private pump(): void {
    const head = this.groups[0];
    if (this.inFlight || this.retryTimer || this.closed || !head) return;
    const full = head.states.length >= this.options.maxGroup;
    if (head === this.open && !full && !this.flushing && this.options.lingerMs > 0) {
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = null;
        if (this.open === head) this.open = null;
        this.pump();
      }, this.options.lingerMs).unref();
      return;
    }
    if (head === this.open) this.open = null;
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    this.inFlight = head;
    head.attempts++;
    this.write(head)
      .then((taken) => {
        this.retryDelayMs = RETRY_MIN_MS;
        this.metrics.claims('written', head.states.length - taken.size);
        if (taken.size > 0) {
          this.metrics.claims('taken', taken.size);
          // Our own earlier attempt of a retried group (checked in insertFirstClaims) is not
          // counted here. Anything else means a replica did not recognise a server-issued id (a
          // different FEEDBACK_ID_KEYS, or an old version) and claimed its revision 1 for an edit.
          this.logger.error(
            {
              feedbackIds: head.states
                .filter((_, i) => taken.has(i))
                .slice(0, 10)
                .map((st) => st.feedbackId),
              taken: taken.size,
            },
            'revision 1 of a server-issued feedbackId was already claimed; check that every replica runs this version with the same FEEDBACK_ID_KEYS',
          );
        }
        if (this.groups[0] === head) this.groups.shift();
        this.finish(head);
      })
      .catch((err: unknown) => {
        this.metrics.writeFailed();
        if (this.closed || head.attempts >= (this.options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
          this.logger.error(
            { err, claims: head.states.length, attempts: head.attempts },
            'writing first-revision claims failed; dropped',
          );
          this.metrics.claims('dropped', head.states.length);
          if (this.groups[0] === head) this.groups.shift();
          this.finish(head);
          return;
        }
        this.logger.warn(
          { err, claims: head.states.length, retryInMs: this.retryDelayMs },
          'writing first-revision claims failed; retrying',
        );
        if (this.flushing) this.retryDelayMs = RETRY_MIN_MS;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.pump();
        }, this.retryDelayMs).unref();
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, RETRY_MAX_MS);
      })
      .finally(() => {
        this.inFlight = null;
        this.pump();
      });
  }

  /**
   * One attempt. On a retry, a claim found taken may be our own earlier attempt (the failed write
   * may have stored part of the group): those equal to ours count as written, not taken.
   */
  private async write(group: Group): Promise<Set<number>> {
    const taken = await this.store.insertClaims(group.states);
    if (taken.size === 0 || group.attempts === 1) return taken;
    const indexes = [...taken];
    const stored = await this.store.claimsOf(indexes.map((i) => group.states[i] as RevisionState));
    const foreign = new Set<number>();
    indexes.forEach((i, k) => {
      const ours = group.states[i];
      const found = stored[k];
      const same =
        ours &&
        found &&
        found.contentHash === ours.contentHash &&
        found.requestId === ours.requestId &&
        found.receivedAt === ours.receivedAt;
      if (!same) foreign.add(i);
    });
    return foreign;
  }

  private finish(group: Group): void {
    if (group.finished) return;
    group.finished = true;
    this.pending -= group.states.length;
    for (const s of group.states)
      if (this.waiting.get(s.feedbackId) === group) this.waiting.delete(s.feedbackId);
    group.resolve();
  }

  private logDrop(n: number, why: string): void {
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    this.logger.warn({ dropped: n, pending: this.pending }, `first-revision claims dropped: ${why}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
