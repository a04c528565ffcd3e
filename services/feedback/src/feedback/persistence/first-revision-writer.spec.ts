import pino from 'pino';
import type { RevisionState } from '../revision-plan';
import {
  type FirstRevisionStore,
  FirstRevisionWriter,
  type FirstRevisionWriterOptions,
} from './first-revision-writer';

const AT = '2025-03-01T00:00:00.000Z';
const first = (feedbackId: string): RevisionState => ({
  feedbackId,
  requestId: 'r',
  revision: 1,
  contentHash: 'h',
  previousRevision: null,
  receivedAt: AT,
  timestamp: AT,
});

class FakeStore implements FirstRevisionStore {
  readonly writes: string[][] = [];
  readonly stored = new Map<string, RevisionState>();
  failures = 0;
  /** Writes store the documents and THEN fail (a write whose outcome the client never saw). */
  failAfterWrite = 0;

  async insertClaims(states: readonly RevisionState[]): Promise<Set<number>> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('database away');
    }
    this.writes.push(states.map((s) => s.feedbackId));
    const taken = new Set<number>();
    states.forEach((s, i) => {
      if (this.stored.has(s.feedbackId)) taken.add(i);
      else this.stored.set(s.feedbackId, s);
    });
    if (this.failAfterWrite > 0) {
      this.failAfterWrite--;
      throw new Error('timed out after the write');
    }
    return taken;
  }

  async claimsOf(states: readonly RevisionState[]): Promise<(RevisionState | null)[]> {
    return states.map((s) => this.stored.get(s.feedbackId) ?? null);
  }
}

function setup(options: Partial<FirstRevisionWriterOptions> = {}) {
  const store = new FakeStore();
  const counts = { written: 0, taken: 0, dropped: 0, failures: 0 };
  const logged: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
  const writer = new FirstRevisionWriter(
    store,
    { lingerMs: 20, maxGroup: 1_000, maxPending: 1_000, flushTimeoutMs: 2_000, ...options },
    {
      claims: (result, n) => void (counts[result] += n),
      writeFailed: () => void counts.failures++,
    },
    logger,
  );
  return { store, counts, logged, writer };
}

describe('FirstRevisionWriter', () => {
  it('groups the claims recorded within the linger into one write; settled resolves after it', async () => {
    const { store, counts, writer } = setup();
    writer.record([first('a'), first('b')]);
    writer.record([first('c')]);
    const settled = writer.settled('b');
    expect(settled).toBeDefined();
    expect(writer.settled('unknown')).toBeUndefined();
    expect(store.writes).toEqual([]);
    await settled;
    expect(store.writes).toEqual([['a', 'b', 'c']]);
    expect(counts.written).toBe(3);
    expect(writer.pendingCount).toBe(0);
    expect(writer.settled('b')).toBeUndefined();
  });

  it('splits at maxGroup and writes a full group without waiting for the linger', async () => {
    const { store, writer } = setup({ maxGroup: 2, lingerMs: 10_000 });
    writer.record([first('a'), first('b'), first('c')]);
    await writer.settled('a');
    expect(store.writes).toEqual([['a', 'b']]);
    // 'c' waits for company (long linger) until a flush.
    expect(writer.pendingCount).toBe(1);
    await writer.flush();
    expect(store.writes).toEqual([['a', 'b'], ['c']]);
  });

  it('retries a failed write with backoff and loses nothing', async () => {
    const { store, counts, logged, writer } = setup({ lingerMs: 0 });
    store.failures = 2;
    writer.record([first('a')]);
    await writer.settled('a');
    expect(store.writes).toEqual([['a']]);
    expect(counts).toMatchObject({ failures: 2, written: 1, dropped: 0 });
    expect(logged.some((l) => l.includes('writing first-revision claims failed; retrying'))).toBe(true);
  });

  it('drops (and counts) claims beyond maxPending instead of buffering without bound', async () => {
    const { store, counts, logged, writer } = setup({ maxPending: 2, lingerMs: 10_000 });
    writer.record([first('a'), first('b')]);
    writer.record([first('c')]);
    expect(counts.dropped).toBe(1);
    expect(writer.settled('c')).toBeUndefined();
    expect(logged.some((l) => l.includes('FEEDBACK_FIRST_CLAIM_MAX_PENDING'))).toBe(true);
    await writer.flush();
    expect(store.writes).toEqual([['a', 'b']]);
  });

  it('reports claims that were already taken (a replica with other FEEDBACK_ID_KEYS)', async () => {
    const { store, counts, logged, writer } = setup({ lingerMs: 0 });
    store.stored.set('a', { ...first('a'), contentHash: 'someone else' });
    writer.record([first('a'), first('b')]);
    await writer.settled('b');
    expect(counts).toMatchObject({ written: 1, taken: 1 });
    expect(logged.some((l) => l.includes('FEEDBACK_ID_KEYS') && l.includes('"a"'))).toBe(true);
  });

  it('on shutdown, gives up after flushTimeoutMs and counts what was not written', async () => {
    const { store, counts, writer } = setup({ lingerMs: 0, flushTimeoutMs: 100 });
    store.failures = 100;
    writer.record([first('a')]);
    const settled = writer.settled('a');
    await writer.onApplicationShutdown();
    await settled;
    expect(counts.dropped).toBe(1);
    expect(writer.pendingCount).toBe(0);
  });

  it('a retry that finds its own earlier (partial) write counts it as written, not taken', async () => {
    const { store, counts, logged, writer } = setup({ lingerMs: 0 });
    store.failAfterWrite = 1;
    writer.record([first('a'), first('b')]);
    await writer.settled('a');
    expect(store.writes).toEqual([
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(counts).toMatchObject({ failures: 1, written: 2, taken: 0 });
    expect(logged.some((l) => l.includes('already claimed'))).toBe(false);
  });

  it('drops a group after maxAttempts failed writes, so the queue moves on', async () => {
    const { store, counts, writer } = setup({ lingerMs: 0, maxAttempts: 2 });
    store.failures = 2;
    writer.record([first('a')]);
    await writer.settled('a');
    writer.record([first('b')]);
    await writer.settled('b');
    expect(counts).toMatchObject({ failures: 2, dropped: 1, written: 1 });
    expect(store.writes).toEqual([['b']]);
  });

  it('a flush retries a group waiting out its backoff at once', async () => {
    const { store, counts, writer } = setup({ lingerMs: 0, flushTimeoutMs: 150 });
    store.failures = 1;
    writer.record([first('a')]);
    // Let the first attempt fail: the group now waits 250 ms, longer than the flush budget.
    for (let i = 0; i < 1_000 && counts.failures === 0; i++) await new Promise((r) => setImmediate(r));
    expect(counts.failures).toBe(1);
    await writer.flush();
    expect(counts).toMatchObject({ written: 1, dropped: 0 });
  });

  it('claims recorded after the shutdown flush are counted as dropped, never left pending', async () => {
    const { store, counts, writer } = setup();
    await writer.flush();
    writer.record([first('late')]);
    expect(writer.settled('late')).toBeUndefined();
    expect(writer.pendingCount).toBe(0);
    expect(counts.dropped).toBe(1);
    expect(store.writes).toEqual([]);
  });
});
