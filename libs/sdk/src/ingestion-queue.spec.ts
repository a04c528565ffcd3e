import { expectEventually } from '@llmops/testing';
import { LlmopsHttpError, LlmopsUnavailableError } from './errors';
import { type BufferOptions, IngestionQueue, type RefusedIndex } from './ingestion-queue';

type Send = (items: number[]) => Promise<RefusedIndex[]>;

/** A sender whose answers the test controls: each call waits until released. */
const senders: Array<Array<{ resolve(r: RefusedIndex[]): void }>> = [];
function controlledSender() {
  const calls: Array<{ items: number[]; resolve(r: RefusedIndex[]): void; reject(e: Error): void }> = [];
  const send: Send = (items) => new Promise((resolve, reject) => calls.push({ items, resolve, reject }));
  senders.push(calls);
  return { calls, send };
}

const queues: Array<IngestionQueue<number>> = [];
function queue(
  send: Send,
  options: Partial<BufferOptions> = {},
  retryPauseMs = 10,
  onDiscard?: (item: number) => void,
) {
  const counters = { sent: 0, dropped: 0, rejected: 0 };
  const q = new IngestionQueue<number>(
    'test',
    { maxItems: 100, maxBatch: 10, flushIntervalMs: 60_000, overflow: 'drop-oldest', ...options },
    send,
    String,
    counters,
    retryPauseMs,
    onDiscard,
  );
  queues.push(q);
  return { q, counters };
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);
const accept: Send = () => Promise.resolve([]);

afterEach(async () => {
  // Answer whatever a test left in flight, so that close() can finish.
  const release = setInterval(() => senders.forEach((calls) => calls.forEach((c) => c.resolve([]))), 5);
  await Promise.all(queues.splice(0).map((q) => q.close().catch(() => undefined)));
  clearInterval(release);
  senders.splice(0);
});

describe('IngestionQueue', () => {
  it('sends a batch as soon as maxBatch items wait, at most two batches in flight', async () => {
    const { calls, send } = controlledSender();
    const { q } = queue(send, { maxBatch: 3 });
    for (const i of range(1, 10)) await q.push(i);
    expect(calls.map((c) => c.items)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    calls[0].resolve([]);
    await expectEventually(() => expect(calls.map((c) => c.items)).toContainEqual([7, 8, 9]));
    calls.slice(1).forEach((c) => c.resolve([]));
    await expectEventually(() => expect(q.size).toBe(1));
  });

  it('sends a partial batch after flushIntervalMs', async () => {
    const sent: number[][] = [];
    const { q, counters } = queue(async (items) => (sent.push(items), []), { flushIntervalMs: 20 });
    await q.push(1);
    await q.push(2);
    await expectEventually(() => expect(sent).toEqual([[1, 2]]), { timeoutMs: 2_000, intervalMs: 5 });
    expect(counters.sent).toBe(2);
  });

  it('flush resolves once everything pushed before it is accepted, listing refused items', async () => {
    const { q, counters } = queue(async (items) =>
      items.flatMap((item, index) =>
        item % 4 === 0 ? [{ index, code: 'validation_failed', message: 'no' }] : [],
      ),
    );
    for (const i of range(1, 25)) await q.push(i);
    const result = await q.flush();
    expect(result.rejected.map((r) => r.id).sort()).toEqual(['12', '16', '20', '24', '4', '8']);
    expect(result.rejected[0]).toMatchObject({ kind: 'test', code: 'validation_failed' });
    expect(counters).toEqual({ sent: 19, dropped: 0, rejected: 6 });
    expect(q.size).toBe(0);
  });

  it('keeps a batch the platform could not take, in order, and delivers it once it can', async () => {
    let down = true;
    const delivered: number[] = [];
    const { q, counters } = queue(async (items) => {
      if (down) throw new LlmopsUnavailableError('down', 'unreachable');
      delivered.push(...items);
      return [];
    });
    for (const i of range(1, 25)) await q.push(i);
    await expect(q.flush()).rejects.toMatchObject({ code: 'unreachable' });
    expect(q.size).toBe(25);
    down = false;
    await expect(q.flush()).resolves.toEqual({ rejected: [] });
    expect(delivered).toEqual(range(1, 25));
    expect(counters.sent).toBe(25);
  });

  it('halves the batch after a 413 and sends every item', async () => {
    const sizes: number[] = [];
    const { q, counters } = queue(async (items) => {
      sizes.push(items.length);
      if (items.length > 4) throw new LlmopsHttpError('too large', 'payload_too_large', 413);
      return [];
    });
    for (const i of range(1, 10)) await q.push(i);
    await q.flush();
    expect(counters.sent).toBe(10);
    expect(sizes.filter((s) => s <= 4).reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('rejects every item of a batch refused as a whole (e.g. 401), without retrying', async () => {
    let calls = 0;
    const { q, counters } = queue(async () => {
      calls++;
      throw new LlmopsHttpError('bad key', 'invalid_api_key', 401);
    });
    for (const i of range(1, 3)) await q.push(i);
    const result = await q.flush();
    expect(result.rejected.map((r) => r.code)).toEqual([
      'invalid_api_key',
      'invalid_api_key',
      'invalid_api_key',
    ]);
    expect(calls).toBe(1);
    expect(counters.rejected).toBe(3);
  });

  it('drop-oldest: a full buffer drops its oldest buffered item and counts it', async () => {
    const { calls, send } = controlledSender();
    const { q, counters } = queue(send, { maxItems: 10, maxBatch: 10 });
    for (const i of range(1, 10)) await q.push(i); // one full batch, in flight
    for (const i of range(11, 10)) await q.push(i); // no room: 11..19 are dropped as each new one comes
    expect(counters.dropped).toBe(10);
    calls[0].resolve([]);
    await expectEventually(() => expect(q.size).toBe(0));
    for (const i of range(100, 12)) await q.push(i);
    expect(counters.dropped).toBe(12);
  });

  it('block: push waits for room and nothing is dropped', async () => {
    const { calls, send } = controlledSender();
    const { q, counters } = queue(send, { maxItems: 10, maxBatch: 5, overflow: 'block' });
    for (const i of range(1, 10)) await q.push(i);
    let pushed = false;
    const blocked = q.push(11).then(() => (pushed = true));
    await expectEventually(() => expect(calls).toHaveLength(2));
    expect(pushed).toBe(false);
    calls[0].resolve([]);
    await blocked;
    expect(pushed).toBe(true);
    expect(counters.dropped).toBe(0);
    calls[1].resolve([]);
    const flushed = q.flush();
    await expectEventually(() => expect(calls).toHaveLength(3));
    calls[2].resolve([]);
    await flushed;
    expect(calls.flatMap((c) => c.items)).toEqual(range(1, 11));
  });

  it('tells onDiscard of every item the platform will not take: dropped, refused, refused with its batch', async () => {
    const discarded: number[] = [];
    const { calls, send } = controlledSender();
    const { q } = queue(send, { maxItems: 4, maxBatch: 2 }, 10, (i) => discarded.push(i));
    for (const i of range(1, 6)) await q.push(i); // 1..4 in flight; 5 and 6 dropped as they come
    expect(discarded).toEqual([5, 6]);
    calls[0].resolve([{ index: 1, code: 'validation_failed', message: 'bad' }]);
    calls[1].reject(new LlmopsHttpError('bad key', 'invalid_api_key', 401));
    await expectEventually(() => expect(q.size).toBe(0));
    expect(discarded).toEqual([5, 6, 2, 3, 4]);
    // A batch the platform could not take (unavailable) is kept, not discarded.
    await q.push(7);
    const flushed = q.flush();
    await expectEventually(() => expect(calls).toHaveLength(3));
    calls[2].reject(new LlmopsUnavailableError('down', 'unreachable'));
    await expect(flushed).rejects.toMatchObject({ code: 'unreachable' });
    expect(discarded).toEqual([5, 6, 2, 3, 4]);
  });

  it('refuses items after close', async () => {
    const { q } = queue(accept);
    await q.close();
    await expect(q.push(1)).rejects.toMatchObject({ code: 'client_closed' });
  });
});
