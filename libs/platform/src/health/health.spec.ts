import { type ComponentCheck, ReadinessProbe } from './health';

const never = (): Promise<void> => new Promise<void>(() => undefined);

function check(name: string, run: () => Promise<void>): ComponentCheck & { calls: number } {
  const c = {
    name,
    calls: 0,
    check: () => {
      c.calls += 1;
      return run();
    },
  };
  return c;
}

describe('ReadinessProbe', () => {
  let probe: ReadinessProbe | undefined;
  afterEach(async () => {
    await probe?.stop();
    probe = undefined;
  });

  it('reports a check that has not completed a probe as down ("not probed yet")', () => {
    probe = new ReadinessProbe([check('kafka', never)], { intervalMs: 60_000, timeoutMs: 1_000 });
    expect(probe.snapshot()).toEqual([{ name: 'kafka', up: false, message: 'not probed yet' }]);
  });

  it('keeps the latest result of every check, up or down with its message', async () => {
    const checks = [
      check('mongodb', () => Promise.resolve()),
      check('kafka', () => Promise.reject(new Error('broker unreachable'))),
    ];
    probe = new ReadinessProbe(checks, { intervalMs: 60_000, timeoutMs: 1_000 });
    await probe.probeNow();
    expect(probe.snapshot()).toMatchObject([
      { name: 'mongodb', up: true },
      { name: 'kafka', up: false, message: 'broker unreachable' },
    ]);
  });

  it('records a hanging check as down at its timeout and never probes it twice at once', async () => {
    const hanging = check('mongodb', never);
    probe = new ReadinessProbe([hanging], { intervalMs: 60_000, timeoutMs: 1_000 });
    hanging.timeoutMs = 30;
    const started = Date.now();
    await probe.probeNow();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(probe.snapshot()).toEqual([
      expect.objectContaining({
        name: 'mongodb',
        up: false,
        message: 'mongodb check did not answer within 30 ms',
      }),
    ]);
    await probe.probeNow();
    expect(hanging.calls).toBe(1);
  });

  it('reads the list again on every round: checks added later are probed, removed ones dropped', async () => {
    const checks: ComponentCheck[] = [check('kafka', () => Promise.resolve())];
    probe = new ReadinessProbe(checks, { intervalMs: 60_000, timeoutMs: 1_000 });
    await probe.probeNow();
    const consumer = check('consumer:analytics', () => Promise.reject(new Error('stalled')));
    checks.push(consumer);
    expect(probe.snapshot()[1]).toEqual({ name: 'consumer:analytics', up: false, message: 'not probed yet' });
    await probe.probeNow();
    expect(probe.snapshot()[1]).toMatchObject({ name: 'consumer:analytics', up: false, message: 'stalled' });
    checks.splice(1, 1);
    expect(probe.snapshot().map((s) => s.name)).toEqual(['kafka']);
  });

  it('runs the first round at start, then one round per interval until stopped', async () => {
    jest.useFakeTimers();
    try {
      const c = check('kafka', () => Promise.resolve());
      probe = new ReadinessProbe([c], { intervalMs: 1_000, timeoutMs: 500 });
      probe.start();
      await jest.advanceTimersByTimeAsync(0);
      expect(c.calls).toBe(1);
      expect(probe.snapshot()[0]).toMatchObject({ up: true });
      await jest.advanceTimersByTimeAsync(1_000);
      expect(c.calls).toBe(2);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(c.calls).toBe(3);
      await probe.stop();
      await jest.advanceTimersByTimeAsync(5_000);
      expect(c.calls).toBe(3);
    } finally {
      jest.useRealTimers();
    }
  });

  it('counts a check that throws synchronously as down', async () => {
    const c: ComponentCheck = {
      name: 'broken',
      check: () => {
        throw new Error('boom');
      },
    };
    probe = new ReadinessProbe([c], { intervalMs: 60_000, timeoutMs: 1_000 });
    await probe.probeNow();
    expect(probe.snapshot()[0]).toMatchObject({ up: false, message: 'boom' });
  });
});
