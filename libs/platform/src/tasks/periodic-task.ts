/** A requested run never starts sooner than this after the request, so a burst of requests is one run. */
const REQUEST_DELAY_MS = 250;

export interface PeriodicTaskOptions {
  /** Once started, a run begins this long after the previous run ended. */
  everyMs: number;
  /** A requested run begins at least this long after the previous run ended (default 0). */
  minGapMs?: number;
  /** Receives the error of a failed run (log it); the schedule goes on. */
  onError: (err: unknown) => void;
}

/**
 * A background task that runs one at a time: every `everyMs` counted from the end of the previous
 * run (so a slow run never overlaps the next and never makes runs pile up), and shortly after
 * someone asks (`request`, e.g. after a batch changed aggregates), but never sooner than `minGapMs`
 * after the previous run ended. A request or a `run` during a run schedules exactly one more run,
 * so bursts cost one run per gap, not one per request. Its timers never keep the process alive;
 * `stop` cancels them and waits for the run in progress.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private debounce?: NodeJS.Timeout;
  private running?: Promise<void>;
  private started = false;
  private again = false;
  private stopped = false;
  private lastFinished = 0;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly options: PeriodicTaskOptions,
  ) {}

  /** Starts the schedule: a run `everyMs` from now (sooner with `run` or `request`), and so on. */
  start(): void {
    if (this.stopped) return;
    this.started = true;
    if (!this.running) this.schedule();
  }

  /** A run soon: at least 250 ms from now and `minGapMs` after the previous run ended. */
  request(): void {
    if (this.debounce || this.stopped) return;
    const wait = Math.max(REQUEST_DELAY_MS, this.lastFinished + (this.options.minGapMs ?? 0) - Date.now());
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.run();
    }, wait);
    this.debounce.unref();
  }

  /**
   * A run now, or, during a run, exactly one more after it (as `request`); resolves when the run
   * in progress ends. A run serves every request made before it starts. Never rejects: a failure,
   * even one the task throws before returning its promise, goes to `onError` (which must not
   * throw; if it does, that error is dropped). After `stop`, runs nothing.
   */
  run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    if (this.stopped) return Promise.resolve();
    clearTimeout(this.timer);
    clearTimeout(this.debounce);
    this.debounce = undefined;
    this.running = Promise.resolve()
      .then(() => this.task())
      .catch((err: unknown) => {
        try {
          this.options.onError(err);
        } catch {
          // Reporting failed: the schedule goes on regardless.
        }
      })
      .finally(() => {
        this.running = undefined;
        this.lastFinished = Date.now();
        if (this.stopped) return;
        this.schedule();
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
    return this.running;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** No more runs; waits for the one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.debounce);
    this.debounce = undefined;
    await this.running;
  }

  private schedule(): void {
    if (!this.started) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), this.options.everyMs);
    this.timer.unref();
  }
}
