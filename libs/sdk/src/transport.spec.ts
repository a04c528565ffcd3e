/**
 * The per-attempt deadline holds even when the request never sees the abort: fetch follows the
 * signal of a Request through a link Node's garbage collector can cut, so an attempt that ignores
 * its signal stands for one whose link was cut.
 */
import { Transport } from './transport';

const never = (): Promise<never> => new Promise<never>(() => undefined);

describe('Transport deadlines', () => {
  it('times an attempt out that never sees the abort, and retries it', async () => {
    const counters = { retried: 0 };
    const transport = new Transport({ maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 }, 50, counters);
    const started = Date.now();
    let attempts = 0;
    const seen: AbortSignal[] = [];
    await expect(
      transport.send('GET /x', (signal) => {
        attempts++;
        seen.push(signal);
        return never();
      }),
    ).rejects.toMatchObject({ code: 'timeout', name: 'LlmopsUnavailableError' });
    expect(attempts).toBe(2);
    expect(counters.retried).toBe(1);
    // The signal it was given is aborted all the same, for a request that does follow it.
    expect(seen.every((s) => s.aborted)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rejects as aborted when the caller's signal aborts, even if the attempt ignores it", async () => {
    const transport = new Transport({ maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 }, 60_000, {
      retried: 0,
    });
    const caller = new AbortController();
    setTimeout(() => caller.abort(new Error('shutting down')), 20);
    await expect(transport.send('GET /x', never, { signal: caller.signal })).rejects.toMatchObject({
      code: 'aborted',
    });
  });

  it('returns what the attempt answers within its deadline', async () => {
    const transport = new Transport({ maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 5 }, 1_000, { retried: 0 });
    const response = new Response('{}', { status: 200 });
    await expect(transport.send('GET /x', async () => ({ data: {}, response }))).resolves.toMatchObject({
      response,
    });
  });
});
