/**
 * Writes the revision-1 claims of server-issued ids after the broker acknowledged their events, as
 * pages (first-revision-pages.ts), off the request path. Safe for those ids only: nobody else can
 * hold a fresh server-issued id, so no other content can claim its revision 1, and edits of such an
 * id never claim revision 1 (see PagedFeedbackRevisions).
 * - A window's group is written `lingerMs` after the window ended, or at once when it holds
 *   `maxGroup` claims or MAX_PAGE_BYTES; one write in flight, in the order the groups were opened.
 * - Same-replica edits wait for the claim (`settled`).
 * - Failed writes are retried with backoff and dropped after `maxAttempts`; a retry that finds its
 *   own page counts it as written. Claims beyond `maxPending` are dropped and counted.
 * - `flush` (shutdown) writes what is queued within `flushTimeoutMs`.
 */
import type { Logger } from 'pino';
import type { RevisionState } from '../revision-plan';
import type { FirstRevisionPageStore } from './feedback-revision.repository';
import {
  claimLine,
  MAX_PAGE_BYTES,
  PAGE_WINDOW_MS,
  pageId,
  type PageWindow,
  pageWindowOf,
} from './first-revision-pages';

export interface FirstRevisionWriterOptions {
  lingerMs: number;
  maxGroup: number;
  maxPending: number;
  flushTimeoutMs: number;
  /** Failed attempts after which a group is dropped (default 20, about 1.5 minutes of backoff). */
  maxAttempts?: number;
}

export interface FirstRevisionMetrics {
  claims(result: 'written' | 'dropped', n: number): void;
  writeFailed(): void;
}

interface Group {
  window: PageWindow;
  /** `<node>:<window>`: the open group of a window is found by it. */
  windowKey: string;
  /** When the group is written at the latest (its window's end plus the linger). */
  dueAt: number;
  states: RevisionState[];
  lines: string[];
  bytes: number;
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
/** Parts of one window tried before a write gives up (each taken part is somebody else's page). */
const MAX_PART_PROBES = 100;
/** Windows whose next part number is remembered: acks come within the producer's send timeout. */
const REMEMBERED_WINDOWS = (10 * 60_000) / PAGE_WINDOW_MS;

export class FirstRevisionWriter {
  private readonly groups: Group[] = [];
  /** The group each pending id will be written with. */
  private readonly waiting = new Map<string, Group>();
  /** The group of each window that still takes claims. */
  private readonly open = new Map<string, Group>();
  /** The next part number of each window written to (oldest windows first). */
  private readonly nextPart = new Map<string, number>();
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
    private readonly store: FirstRevisionPageStore,
    private readonly options: FirstRevisionWriterOptions,
    private readonly metrics: FirstRevisionMetrics,
    private readonly logger: Logger,
  ) {}

  /** Queues revision-1 claims of `project` whose events the broker has acknowledged. Never throws. */
  record(states: readonly RevisionState[], project: string): void {
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
      const window = pageWindowOf(s.feedbackId);
      const windowKey = `${window.node}:${window.window}`;
      const line = claimLine(s, project);
      let group = this.open.get(windowKey);
      if (!group || group.bytes + line.length + 1 > MAX_PAGE_BYTES) {
        group = this.newGroup(window, windowKey);
        this.open.set(windowKey, group);
        this.groups.push(group);
      }
      group.states.push(s);
      group.lines.push(line);
      group.bytes += line.length + 1;
      // A full group is written without waiting for its window to end.
      if (group.states.length >= this.options.maxGroup) this.open.delete(windowKey);
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
    this.open.clear();
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

  private newGroup(window: PageWindow, windowKey: string): Group {
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    return {
      window,
      windowKey,
      dueAt: (window.window + 1) * PAGE_WINDOW_MS + this.options.lingerMs,
      states: [],
      lines: [],
      bytes: 0,
      done,
      resolve,
      finished: false,
      attempts: 0,
    };
  }

  private pump(): void {
    const head = this.groups[0];
    if (this.inFlight || this.retryTimer || this.closed || !head) return;
    const isOpen = this.open.get(head.windowKey) === head;
    const wait = head.dueAt - Date.now();
    if (isOpen && !this.flushing && wait > 0) {
      this.lingerTimer ??= setTimeout(() => {
        this.lingerTimer = null;
        this.pump();
      }, wait).unref();
      return;
    }
    if (isOpen) this.open.delete(head.windowKey);
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    this.inFlight = head;
    head.attempts++;
    this.write(head)
      .then(() => {
        this.retryDelayMs = RETRY_MIN_MS;
        this.metrics.claims('written', head.states.length);
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
   * One attempt: the group as the next part of its window. A part that exists already is either this
   * group's own page (an earlier attempt stored it but failed to report it): written; or somebody
   * else's (a process with the same node id): the next part is tried.
   */
  private async write(group: Group): Promise<void> {
    const claims = group.lines.join('\n');
    const first = this.nextPart.get(group.windowKey) ?? 0;
    for (let part = first; part < first + MAX_PART_PROBES; part++) {
      const _id = pageId(group.window, part);
      const stored =
        (await this.store.insertPage({ _id, claims, count: group.states.length })) ||
        (await this.store.page(_id))?.claims === claims;
      if (stored) {
        this.rememberPart(group.windowKey, part + 1);
        return;
      }
      this.logger.error(
        { page: _id },
        'a first-revision page of this window was written by another process (same node id); trying the next part',
      );
    }
    throw new Error(`no free first-revision page part for window ${group.windowKey}`);
  }

  private rememberPart(windowKey: string, next: number): void {
    this.nextPart.delete(windowKey);
    this.nextPart.set(windowKey, next);
    // Map order is insertion order: the first entries are the windows written longest ago.
    for (const key of this.nextPart.keys()) {
      if (this.nextPart.size <= REMEMBERED_WINDOWS) break;
      this.nextPart.delete(key);
    }
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
