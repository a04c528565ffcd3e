import type { Connection, mongo } from 'mongoose';
import { deadlineDb } from '../mongo/deadline';

export interface ComponentCheck {
  name: string;
  /** Rejects when the component is not ready. The probe loop bounds it with its own timeout. */
  check(): Promise<void>;
  /** The longest one probe of this component may take (default: the probe loop's timeout). */
  timeoutMs?: number;
}

export interface ComponentStatus {
  name: string;
  up: boolean;
  message?: string;
  /** When this result was taken (ms since the epoch); undefined for a component not probed yet. */
  checkedAt?: number;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export interface ReadinessProbeOptions {
  /** Pause between the end of one probe round and the start of the next. */
  intervalMs: number;
  /** Longest wait for one check (a check's own `timeoutMs` wins). */
  timeoutMs: number;
}

/**
 * Probes every readiness check in the background and keeps the latest result of each, so that
 * `/health/ready` answers from memory at once, whatever state the dependencies are in. The list of
 * checks is read again on every round: components may add their own checks at start and remove
 * them on stop. A check that has not completed a probe yet counts as down. One probe of a check is
 * in flight at a time; a probe slower than its timeout is recorded as down when the timeout passes.
 */
export class ReadinessProbe {
  private readonly results = new Map<ComponentCheck, ComponentStatus>();
  private readonly inFlight = new Set<ComponentCheck>();
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private stopped = true;

  constructor(
    private readonly checks: readonly ComponentCheck[],
    private readonly options: ReadinessProbeOptions,
  ) {}

  /** Starts the loop; the first round starts now. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.runRound();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** Runs one round now (every check not already in flight); resolves when it is done. */
  probeNow(): Promise<void> {
    return this.probeAll();
  }

  /** The latest result of every current check, in the order of the list. */
  snapshot(): ComponentStatus[] {
    const current = new Set(this.checks);
    for (const c of this.results.keys()) if (!current.has(c)) this.results.delete(c);
    return this.checks.map(
      (c) => this.results.get(c) ?? { name: c.name, up: false, message: 'not probed yet' },
    );
  }

  private async runRound(): Promise<void> {
    if (this.stopped) return;
    this.round = this.probeAll();
    await this.round;
    this.round = undefined;
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.runRound(), this.options.intervalMs);
    this.timer.unref();
  }

  private async probeAll(): Promise<void> {
    await Promise.all(this.checks.filter((c) => !this.inFlight.has(c)).map((c) => this.probe(c)));
  }

  private async probe(c: ComponentCheck): Promise<void> {
    const timeoutMs = c.timeoutMs ?? this.options.timeoutMs;
    this.inFlight.add(c);
    const attempt = Promise.resolve().then(() => c.check());
    // The check stays "in flight" until it settles, even after its timeout was recorded: a stuck
    // dependency never gets a second concurrent probe.
    void attempt.then(
      () => this.inFlight.delete(c),
      () => this.inFlight.delete(c),
    );
    try {
      await withTimeout(attempt, timeoutMs, `${c.name} check`);
      this.results.set(c, { name: c.name, up: true, checkedAt: Date.now() });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.results.set(c, { name: c.name, up: false, message, checkedAt: Date.now() });
    }
  }
}

/** MongoDB readiness: a ping with a driver-side deadline, so a frozen server cannot hold it. */
export function mongoCheck(connection: Connection, timeoutMs = 1_000): ComponentCheck {
  let db: mongo.Db | undefined;
  return {
    name: 'mongodb',
    timeoutMs,
    async check() {
      if (connection.readyState !== 1 || !connection.db) throw new Error('not connected');
      db ??= deadlineDb(connection, timeoutMs);
      await db.command({ ping: 1 });
    },
  };
}
