/**
 * A background task that runs one at a time: on a fixed interval, and shortly after someone asks
 * (`request`, e.g. after a batch changed aggregates), but never sooner than `minGapMs` after the
 * previous run ended. A request during a run schedules exactly one more run, so bursts of batches
 * cost one run per gap, not one per batch.
 */
export class CoalescedTask {
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private closed = false;
  private lastFinished = 0;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly minGapMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs every `intervalMs` (unref'd: never keeps the process alive). */
  every(intervalMs: number): void {
    this.timer = setInterval(() => void this.run(), intervalMs);
    this.timer.unref();
  }

  /** A run soon: at least 250 ms from now and `minGapMs` after the previous run. */
  request(): void {
    if (this.debounce || this.closed) return;
    const wait = Math.max(250, this.lastFinished + this.minGapMs - Date.now());
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.run();
    }, wait);
    this.debounce.unref();
  }

  /** A run now, or, during a run, exactly one more after it; resolves when the current run ends. */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.task()
      .catch(this.onError)
      .finally(() => {
        this.running = undefined;
        this.lastFinished = Date.now();
        if (this.again && !this.closed) {
          this.again = false;
          this.request();
        }
      });
    return this.running;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** No more runs; waits for the one in progress. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    await this.running;
  }
}
