import { type HttpStub, httpStub } from '@llmops/testing';
import { isTimeoutError, withDeadline } from './deadline';

describe('withDeadline', () => {
  it('settles by the deadline even when the work never sees the abort', async () => {
    let signal: AbortSignal | undefined;
    const started = Date.now();
    const outcome = withDeadline(50, (s) => {
      signal = s;
      return new Promise<never>(() => undefined); // ignores its signal
    });
    await expect(outcome).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(signal?.aborted).toBe(true);
    expect(isTimeoutError(signal?.reason)).toBe(true);
  });

  it('answers what the work answers, and leaves no timer behind', async () => {
    jest.useFakeTimers();
    try {
      await expect(withDeadline(10_000, async () => 'ok')).resolves.toBe('ok');
      expect(jest.getTimerCount()).toBe(0);
      await expect(withDeadline(10_000, async () => Promise.reject(new Error('refused')))).rejects.toThrow(
        'refused',
      );
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  describe('a server that accepts and never answers', () => {
    let server: HttpStub;
    beforeAll(async () => {
      server = await httpStub(() => undefined);
    });
    afterAll(() => server.close());

    it('fails the fetch at the deadline', async () => {
      await expect(withDeadline(300, (signal) => fetch(server.url, { signal }))).rejects.toMatchObject({
        name: 'TimeoutError',
      });
    });
  });
});
