/** The explicit-offset commit of a kafkajs batch payload (`commitOffsetsIfNecessary`). */
export type CommitOffsets = (offsets: {
  topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
}) => Promise<void>;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Offset commits of batches handled at once, sent together: one commit request is in flight at a
 * time, and the commits that arrive meanwhile wait for it and then go out in one request. Each
 * caller's promise settles with the request that carried its offset. A fetch of many partitions
 * then costs the group coordinator a few requests instead of one per batch.
 */
export class GroupedCommits {
  /** Offsets waiting for the next request, by topic and partition (the highest one is kept). */
  private waiting = new Map<string, { topic: string; partition: number; offset: string }>();
  private waiters: Waiter[] = [];
  /** The commit function of the latest caller (every caller's reaches the same group). */
  private send?: CommitOffsets;
  private inFlight = false;

  /** Commits `offset` (the next one to read) of `topic`/`partition` with the next request. */
  commit(topic: string, partition: number, offset: string, send: CommitOffsets): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const key = `${topic}\u0000${partition}`;
      const waiting = this.waiting.get(key);
      if (!waiting || BigInt(offset) > BigInt(waiting.offset))
        this.waiting.set(key, { topic, partition, offset });
      this.waiters.push({ resolve, reject });
      this.send = send;
      if (!this.inFlight) this.flush();
    });
  }

  private flush(): void {
    const send = this.send;
    if (this.waiters.length === 0 || !send) return;
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const { topic, partition, offset } of this.waiting.values()) {
      let partitions = byTopic.get(topic);
      if (!partitions) byTopic.set(topic, (partitions = []));
      partitions.push({ partition, offset });
    }
    const waiters = this.waiters;
    this.waiting = new Map();
    this.waiters = [];
    this.inFlight = true;
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    // A commit function that throws instead of rejecting fails its commits all the same.
    let sent: Promise<void>;
    try {
      sent = send({ topics });
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent
      .then(
        () => {
          for (const w of waiters) w.resolve();
        },
        (err: unknown) => {
          for (const w of waiters) w.reject(err);
        },
      )
      .finally(() => {
        this.inFlight = false;
        this.flush();
      });
  }
}
