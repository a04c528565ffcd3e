import pino from 'pino';
import type { RevisionState } from '../revision-plan';
import { ServerFeedbackIds } from '../server-feedback-ids';
import { InMemoryPageStore } from '../../../test/support/in-memory-page-store';
import { PAGE_WINDOW_MS, pageId, pageWindowOf } from './first-revision-pages';
import { FirstRevisionWriter, type FirstRevisionWriterOptions } from './first-revision-writer';

const AT = '2025-03-01T00:00:00.000Z';
const first = (feedbackId: string): RevisionState => ({
  feedbackId,
  requestId: `r-${feedbackId}`,
  revision: 1,
  contentHash: 'h',
  previousRevision: null,
  receivedAt: AT,
  timestamp: AT,
});

/** Ids of one generator (one node) at a settable clock. */
function idsAt(start = Date.now()) {
  const clock = { now: start };
  const ids = new ServerFeedbackIds(['writer-spec-key'], () => clock.now);
  return { clock, next: () => ids.next() };
}

function setup(options: Partial<FirstRevisionWriterOptions> = {}) {
  const store = new InMemoryPageStore();
  const counts = { written: 0, dropped: 0, failures: 0 };
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
  it('writes the claims of one window as one page after the window ends; settled resolves after it', async () => {
    const { store, counts, writer } = setup();
    const { next } = idsAt();
    const [a, b, c] = [next(), next(), next()];
    writer.record([first(a), first(b)], 'default');
    writer.record([first(c)], 'default');
    const settled = writer.settled(b);
    expect(settled).toBeDefined();
    expect(writer.settled(next())).toBeUndefined();
    expect(store.writes).toEqual([]);
    await settled;
    const page = pageId(pageWindowOf(a), 0);
    expect(store.writes).toEqual([page]);
    expect(store.idsIn(page)).toEqual([a, b, c]);
    expect(store.pages.get(page)?.count).toBe(3);
    expect(store.lookup(b)).toEqual(first(b));
    expect(counts.written).toBe(3);
    expect(writer.pendingCount).toBe(0);
    expect(writer.settled(b)).toBeUndefined();
  });

  it('puts ids of different windows on different pages, each part 0 of its window', async () => {
    const { store, writer } = setup({ lingerMs: 0 });
    const { clock, next } = idsAt(Math.floor(Date.now() / PAGE_WINDOW_MS) * PAGE_WINDOW_MS);
    const early = next();
    clock.now += PAGE_WINDOW_MS;
    const later = next();
    writer.record([first(early), first(later)], 'default');
    await writer.settled(later);
    expect(store.writes).toEqual([pageId(pageWindowOf(early), 0), pageId(pageWindowOf(later), 0)]);
    expect(pageWindowOf(later).window).toBe(pageWindowOf(early).window + 1);
    expect(store.lookup(early)).toEqual(first(early));
    expect(store.lookup(later)).toEqual(first(later));
  });

  it('writes a full group (maxGroup) at once; the rest of the window becomes the next part', async () => {
    const { store, writer } = setup({ maxGroup: 2, lingerMs: 10_000 });
    const { next } = idsAt();
    const [a, b, c] = [next(), next(), next()];
    writer.record([first(a), first(b), first(c)], 'default');
    await writer.settled(a);
    const w = pageWindowOf(a);
    expect(store.writes).toEqual([pageId(w, 0)]);
    // c waits for its window to end plus the (long) linger, until a flush.
    expect(writer.pendingCount).toBe(1);
    await writer.flush();
    expect(store.writes).toEqual([pageId(w, 0), pageId(w, 1)]);
    expect(store.idsIn(pageId(w, 1))).toEqual([c]);
    expect(store.lookup(c)).toEqual(first(c));
  });

  it('a claim acknowledged after its window was written goes to the next part of that window', async () => {
    const { store, logged, writer } = setup({ lingerMs: 0 });
    const { next } = idsAt(Date.now() - 10 * PAGE_WINDOW_MS);
    const [a, late] = [next(), next()];
    writer.record([first(a)], 'default');
    await writer.settled(a);
    writer.record([first(late)], 'default');
    await writer.settled(late);
    const w = pageWindowOf(a);
    expect(store.writes).toEqual([pageId(w, 0), pageId(w, 1)]);
    expect(store.lookup(late)).toEqual(first(late));
    // Known as this writer's own next part, not found by probing a taken one.
    expect(logged.some((l) => l.includes('another process'))).toBe(false);
  });

  it('retries a failed write with backoff and loses nothing', async () => {
    const { store, counts, logged, writer } = setup({ lingerMs: 0 });
    store.failures = 2;
    const a = idsAt().next();
    writer.record([first(a)], 'default');
    await writer.settled(a);
    expect(store.writes).toEqual([pageId(pageWindowOf(a), 0)]);
    expect(counts).toMatchObject({ failures: 2, written: 1, dropped: 0 });
    expect(logged.some((l) => l.includes('writing first-revision claims failed; retrying'))).toBe(true);
  });

  it('a retry that finds its own page (stored by the failed attempt) counts it as written', async () => {
    const { store, counts, logged, writer } = setup({ lingerMs: 0 });
    store.failAfterWrite = 1;
    const { next } = idsAt();
    const [a, b] = [next(), next()];
    writer.record([first(a), first(b)], 'default');
    await writer.settled(a);
    expect(store.writes).toEqual([pageId(pageWindowOf(a), 0)]);
    expect(counts).toMatchObject({ failures: 1, written: 2 });
    expect(logged.some((l) => l.includes('another process'))).toBe(false);
  });

  it('a part taken by another process (same node id) is skipped: the group becomes the next part', async () => {
    const { store, counts, logged, writer } = setup({ lingerMs: 0 });
    const a = idsAt().next();
    const taken = pageId(pageWindowOf(a), 0);
    store.pages.set(taken, { _id: taken, claims: '["someone-else","r","h","t","t"]', count: 1 });
    writer.record([first(a)], 'default');
    await writer.settled(a);
    expect(store.writes).toEqual([pageId(pageWindowOf(a), 1)]);
    expect(store.lookup(a)).toEqual(first(a));
    expect(counts.written).toBe(1);
    expect(logged.some((l) => l.includes('another process'))).toBe(true);
  });

  it('drops (and counts) claims beyond maxPending instead of buffering without bound', async () => {
    const { store, counts, logged, writer } = setup({ maxPending: 2, lingerMs: 10_000 });
    const { next } = idsAt();
    const [a, b, c] = [next(), next(), next()];
    writer.record([first(a), first(b)], 'default');
    writer.record([first(c)], 'default');
    expect(counts.dropped).toBe(1);
    expect(writer.settled(c)).toBeUndefined();
    expect(logged.some((l) => l.includes('FEEDBACK_FIRST_CLAIM_MAX_PENDING'))).toBe(true);
    await writer.flush();
    expect(store.idsIn(pageId(pageWindowOf(a), 0))).toEqual([a, b]);
  });

  it('on shutdown, gives up after flushTimeoutMs and counts what was not written', async () => {
    const { store, counts, writer } = setup({ lingerMs: 0, flushTimeoutMs: 100 });
    store.failures = 100;
    const a = idsAt().next();
    writer.record([first(a)], 'default');
    const settled = writer.settled(a);
    await writer.flush();
    await settled;
    expect(counts.dropped).toBe(1);
    expect(writer.pendingCount).toBe(0);
  });

  it('drops a group after maxAttempts failed writes; the next group of the window takes its part', async () => {
    const { store, counts, writer } = setup({ lingerMs: 0, maxAttempts: 2 });
    store.failures = 2;
    const { next } = idsAt(Date.now() - 10 * PAGE_WINDOW_MS);
    const [a, b] = [next(), next()];
    writer.record([first(a)], 'default');
    await writer.settled(a);
    writer.record([first(b)], 'default');
    await writer.settled(b);
    expect(counts).toMatchObject({ failures: 2, dropped: 1, written: 1 });
    // No gap: a reader stops at the first missing part.
    expect(store.writes).toEqual([pageId(pageWindowOf(b), 0)]);
    expect(store.lookup(b)).toEqual(first(b));
    expect(store.lookup(a)).toBeNull();
  });

  it('a flush writes at once, also a group waiting out its backoff', async () => {
    const { store, counts, writer } = setup({ lingerMs: 0, flushTimeoutMs: 150 });
    store.failures = 1;
    const a = idsAt(Date.now() - 10 * PAGE_WINDOW_MS).next();
    writer.record([first(a)], 'default');
    // Let the first attempt fail: the group now waits 250 ms, longer than the flush budget.
    for (let i = 0; i < 1_000 && counts.failures === 0; i++) await new Promise((r) => setImmediate(r));
    expect(counts.failures).toBe(1);
    await writer.flush();
    expect(counts).toMatchObject({ written: 1, dropped: 0 });
  });

  it('claims recorded after the shutdown flush are counted as dropped, never left pending', async () => {
    const { store, counts, writer } = setup();
    await writer.flush();
    const late = idsAt().next();
    writer.record([first(late)], 'default');
    expect(writer.settled(late)).toBeUndefined();
    expect(writer.pendingCount).toBe(0);
    expect(counts.dropped).toBe(1);
    expect(store.writes).toEqual([]);
  });
});
