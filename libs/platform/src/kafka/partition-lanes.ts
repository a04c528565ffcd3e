interface Waiting {
  rank: number;
  start: () => void;
}

interface Lane {
  running: boolean;
  waiting: Waiting[];
}

/**
 * One lane per partition number: the batches of one number run one at a time, whatever their
 * topic, while different numbers run at once. When several batches wait in a lane, the one whose
 * topic comes first in `order` runs first (a topic not listed runs after the listed ones), then the
 * earliest to arrive. An idle lane starts its first batch on the next turn of the event loop, after
 * the other batches kafkajs hands over in the same turn (those of one fetch) have joined it, so the
 * order holds from a fetch's first batch on.
 */
export class PartitionLanes {
  private readonly lanes = new Map<number, Lane>();
  private readonly rankOf: Map<string, number>;

  constructor(order: readonly string[] = []) {
    this.rankOf = new Map(order.map((topic, i) => [topic, i]));
  }

  /** Runs `work` in the lane of `partition`, once its turn comes; resolves or rejects as it does. */
  async run<T>(partition: number, topic: string, work: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(partition);
    if (!lane) {
      lane = { running: false, waiting: [] };
      this.lanes.set(partition, lane);
    }
    const joined = lane;
    await new Promise<void>((start) => {
      const entry = { rank: this.rankOf.get(topic) ?? this.rankOf.size, start };
      // After every waiting batch of a rank not above its own: arrival order within a rank.
      const at = joined.waiting.findIndex((w) => w.rank > entry.rank);
      if (at < 0) joined.waiting.push(entry);
      else joined.waiting.splice(at, 0, entry);
      if (!joined.running && joined.waiting.length === 1) setImmediate(() => this.next(partition, joined));
    });
    try {
      return await work();
    } finally {
      joined.running = false;
      this.next(partition, joined);
    }
  }

  /** Batches waiting or running, over all lanes. */
  get size(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.waiting.length + (lane.running ? 1 : 0);
    return n;
  }

  private next(partition: number, lane: Lane): void {
    if (lane.running) return;
    const first = lane.waiting.shift();
    if (!first) {
      if (this.lanes.get(partition) === lane) this.lanes.delete(partition);
      return;
    }
    lane.running = true;
    first.start();
  }
}
