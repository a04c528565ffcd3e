/**
 * Lets partition batches run together and a task run alone: `exclusive` waits for the batches in
 * flight to end, holds back the batches that arrive meanwhile, and lets them go once the task has
 * ended (resolved or thrown). Tasks run one at a time; nothing but a task ever holds a batch back.
 *
 * The parked feedback retention sweep runs its delete and its forget this way, so no batch can park
 * feedback between the two (stored after the delete, then forgotten by the memory).
 */
export class BatchGate {
  private running = 0;
  /** Resolves the task waiting for the batches in flight, once the last one ends. */
  private drained: (() => void) | null = null;
  /** Settles when the task holding the gate ends (null: none holds it). */
  private held: Promise<void> | null = null;

  /** Batches in flight. */
  get inFlight(): number {
    return this.running;
  }

  async batch<T>(run: () => Promise<T>): Promise<T> {
    while (this.held) await this.held;
    this.running++;
    try {
      return await run();
    } finally {
      this.running--;
      if (this.running === 0) this.drained?.();
    }
  }

  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    while (this.held) await this.held;
    let release!: () => void;
    this.held = new Promise<void>((resolve) => (release = resolve));
    try {
      if (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      return await task();
    } finally {
      this.drained = null;
      this.held = null;
      release();
    }
  }
}
