/**
 * A bounded, batching send buffer for one kind of item (generations, feedback, exposures).
 *
 * - `push` enqueues; a batch goes out when `maxBatch` items wait, when `flushIntervalMs` passed,
 *   or when someone flushes. At most two batches are in flight.
 * - The bound counts buffered and in-flight items. When full, `drop-oldest` drops the oldest
 *   buffered item (counted in `dropped`), `block` makes `push` wait for room.
 * - A batch the platform could not take (unreachable, 429/5xx after the transport's retries) goes
 *   back to its place in the buffer and is sent again after a pause: nothing is dropped by an
 *   outage, only by the overflow policy.
 * - Every item the platform will not take (dropped by the overflow policy, refused per item, or
 *   refused with its whole batch) is passed to `onDiscard`, if given.
 * - `flush()` resolves once every item pushed before it was accepted or refused by the platform
 *   (refused items are listed), or dropped by the overflow policy; it rejects with the error when
 *   a batch holding one of them failed, and those items stay buffered.
 */
import { LlmopsError, LlmopsUnavailableError } from './errors';

export type OverflowPolicy = 'drop-oldest' | 'block';

export interface BufferOptions {
  /** Most items held (buffered + in flight). */
  maxItems: number;
  /** A partial batch goes out after this long. */
  flushIntervalMs: number;
  /** Most items per request (the platform takes up to 1,000). */
  maxBatch: number;
  overflow: OverflowPolicy;
}

/** An item of a batch that the platform refused (e.g. validation_failed); it is not retried. */
export interface RefusedIndex {
  index: number;
  code: string;
  message: string;
}

/** Sends one batch; resolves with the items the platform refused (the rest were accepted). */
export type BatchSender<T> = (items: T[]) => Promise<RefusedIndex[]>;

export interface RejectedItem {
  kind: string;
  /** The item's id: requestId, feedbackId, or `experiment:userId` for an exposure. */
  id: string;
  code: string;
  message: string;
}

export interface FlushResult {
  /** Items of this flush that the platform refused. */
  rejected: RejectedItem[];
}

export interface QueueCounters {
  sent: number;
  dropped: number;
  rejected: number;
}

/** Items in order with their sequence numbers, side by side (no record per item). */
interface Batch<T> {
  seqs: number[];
  items: T[];
}

interface FlushWaiter {
  /** Every item with seq <= target must be settled. */
  target: number;
  resolve(result: FlushResult): void;
  reject(error: LlmopsError): void;
}

const MAX_IN_FLIGHT = 2;
/** Refused items kept for the next flush() to report; older ones are only counted. */
const MAX_REPORTED_REJECTIONS = 10_000;

export class IngestionQueue<T> {
  /** The buffered items, oldest first, and their sequence numbers (ascending). */
  private buffer: T[] = [];
  private seqs: number[] = [];
  /** First seq of each batch in flight. */
  private readonly inFlight = new Set<number>();
  private inFlightItems = 0;
  private seq = 0;
  /** The flush interval passed with items waiting. */
  private due = false;
  private pausedUntil = 0;
  /** Lowered after a 413: the platform refused a batch of this many items as too large. */
  private batchLimit: number;
  private waiters: FlushWaiter[] = [];
  /** Refused items no flush has reported yet, in the order they were refused. */
  private refused: Array<{ seq: number; rejected: RejectedItem }> = [];
  private blocked: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private resumeTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    readonly kind: string,
    private readonly options: BufferOptions,
    private readonly send: BatchSender<T>,
    private readonly idOf: (item: T) => string,
    private readonly counters: QueueCounters,
    /** Pause after a batch failed every attempt, before it is sent again. */
    private readonly retryPauseMs: number,
    /** Told of each item the platform will not take: dropped, refused, or refused with its batch. */
    private readonly onDiscard?: (item: T) => void,
  ) {
    this.batchLimit = options.maxBatch;
    this.timer = setInterval(() => {
      if (this.buffer.length === 0) return;
      this.due = true;
      this.pump();
    }, options.flushIntervalMs);
    this.timer.unref();
  }

  /** Items held: buffered and in flight. */
  get size(): number {
    return this.buffer.length + this.inFlightItems;
  }

  /** Enqueues `item`; with `block`, waits while the buffer is full. */
  async push(item: T): Promise<void> {
    while (!this.offer(item)) {
      await new Promise<void>((resolve) => this.blocked.push(resolve));
    }
  }

  /**
   * Enqueues `item` at once and returns true, unless the buffer is full under `block` (then
   * false: nothing was enqueued, `push` waits). `drop-oldest` always enqueues.
   */
  offer(item: T): boolean {
    this.assertOpen();
    if (this.size >= this.options.maxItems) {
      if (this.options.overflow === 'block') return false;
      this.counters.dropped++;
      // Every held item is in flight: the new one is the oldest that can still be dropped.
      if (this.buffer.length === 0) {
        this.onDiscard?.(item);
        return true;
      }
      const dropped = this.buffer.shift() as T;
      this.seqs.shift();
      this.onDiscard?.(dropped);
      this.settle();
    }
    this.buffer.push(item);
    this.seqs.push(++this.seq);
    if (this.buffer.length >= this.batchLimit) this.pump();
    return true;
  }

  flush(): Promise<FlushResult> {
    const target = this.seq;
    if (this.lowestUnsettled() > target) return Promise.resolve({ rejected: this.takeRefused(target) });
    this.pausedUntil = 0;
    const done = new Promise<FlushResult>((resolve, reject) =>
      this.waiters.push({ target, resolve, reject }),
    );
    this.pump();
    return done;
  }

  /** Refuses new items, stops the timer and flushes what is held. */
  async close(): Promise<FlushResult> {
    this.closed = true;
    clearInterval(this.timer);
    for (const wake of this.blocked.splice(0)) wake();
    try {
      return await this.flush();
    } finally {
      clearTimeout(this.resumeTimer);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new LlmopsError('The client is shut down', 'client_closed');
  }

  private lowestUnsettled(): number {
    let lowest = this.seqs.length > 0 ? this.seqs[0] : Number.POSITIVE_INFINITY;
    for (const first of this.inFlight) lowest = Math.min(lowest, first);
    return lowest;
  }

  private pump(): void {
    // An offer pumps while a backlog waits for room in flight: that answer needs no clock read.
    if (this.inFlight.size >= MAX_IN_FLIGHT || this.buffer.length === 0) return;
    if (Date.now() < this.pausedUntil) return;
    while (
      this.inFlight.size < MAX_IN_FLIGHT &&
      this.buffer.length > 0 &&
      (this.buffer.length >= this.batchLimit || this.due || this.waiters.length > 0)
    ) {
      const batch = {
        seqs: this.seqs.splice(0, this.batchLimit),
        items: this.buffer.splice(0, this.batchLimit),
      };
      if (this.buffer.length === 0) this.due = false;
      void this.deliver(batch);
    }
  }

  private async deliver(batch: Batch<T>): Promise<void> {
    const first = batch.seqs[0];
    const n = batch.items.length;
    this.inFlight.add(first);
    this.inFlightItems += n;
    try {
      const refused = await this.send(batch.items);
      this.counters.sent += n - refused.length;
      this.reject(batch, refused);
    } catch (err) {
      const error =
        err instanceof LlmopsError
          ? err
          : new LlmopsError(err instanceof Error ? err.message : String(err), 'internal');
      if (error.status === 413 && n > 1) {
        this.batchLimit = Math.max(1, Math.floor(n / 2));
        this.requeue(batch);
      } else if (error instanceof LlmopsUnavailableError) {
        this.requeue(batch);
        this.pause();
        for (const w of this.waiters.filter((w) => w.target >= first)) this.drop(w).reject(error);
      } else {
        // Refused as a whole (e.g. a revoked key): no retry makes the platform take these.
        this.reject(
          batch,
          batch.items.map((_, index) => ({ index, code: error.code, message: error.message })),
        );
      }
    } finally {
      this.inFlight.delete(first);
      this.inFlightItems -= n;
      for (const wake of this.blocked.splice(0, this.options.maxItems - this.size)) wake();
      this.settle();
      this.pump();
    }
  }

  private reject(batch: Batch<T>, refused: readonly RefusedIndex[]): void {
    this.counters.rejected += refused.length;
    for (const r of refused) {
      const item = batch.items[r.index];
      this.onDiscard?.(item);
      const rejected = { kind: this.kind, id: this.idOf(item), code: r.code, message: r.message };
      this.refused.push({ seq: batch.seqs[r.index], rejected });
    }
    const excess = this.refused.length - MAX_REPORTED_REJECTIONS;
    if (excess > 0) this.refused.splice(0, excess);
  }

  /** The refused items up to `target`, taken off the report list. */
  private takeRefused(target: number): RejectedItem[] {
    if (this.refused.length === 0) return [];
    const taken = this.refused.filter((r) => r.seq <= target).map((r) => r.rejected);
    this.refused = this.refused.filter((r) => r.seq > target);
    return taken;
  }

  /** Puts a batch back at its place (the buffer stays ordered by seq). */
  private requeue(batch: Batch<T>): void {
    const first = batch.seqs[0];
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid] < first) lo = mid + 1;
      else hi = mid;
    }
    this.buffer.splice(lo, 0, ...batch.items);
    this.seqs.splice(lo, 0, ...batch.seqs);
  }

  private pause(): void {
    this.pausedUntil = Date.now() + this.retryPauseMs;
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => this.pump(), this.retryPauseMs);
    this.resumeTimer.unref();
  }

  private drop(waiter: FlushWaiter): FlushWaiter {
    this.waiters = this.waiters.filter((w) => w !== waiter);
    return waiter;
  }

  private settle(): void {
    if (this.waiters.length === 0) return;
    const lowest = this.lowestUnsettled();
    for (const w of this.waiters.filter((w) => w.target < lowest))
      this.drop(w).resolve({ rejected: this.takeRefused(w.target) });
  }
}
