import type { Logger } from 'pino';

/**
 * Runs `task` now and then `everyMs` after each run ends, so a run never overlaps the previous one
 * however long it takes. A failed run is logged and the schedule goes on. `stop` waits for the run in
 * progress.
 */
export class PeriodicTask {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly everyMs: number,
    private readonly task: () => Promise<void>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private run(): void {
    this.running = this.task()
      .catch((err: unknown) => this.logger.warn({ err, task: this.name }, `${this.name} failed`))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        this.timer = setTimeout(() => this.run(), this.everyMs);
        this.timer.unref();
      });
  }
}
