import { PeriodicTask } from './periodic-task';

const EVERY_MS = 10_000;

/** A task whose runs take `runMs` each (0: resolve at once), recording when they start and end. */
function recorded(runMs = 0, options: { minGapMs?: number; fail?: boolean } = {}) {
  const starts: number[] = [];
  const ends: number[] = [];
  const errors: unknown[] = [];
  let active = 0;
  let overlapped = false;
  const task = new PeriodicTask(
    async () => {
      starts.push(Date.now());
      overlapped ||= ++active > 1;
      if (runMs > 0) await new Promise((r) => setTimeout(r, runMs));
      active--;
      ends.push(Date.now());
      if (options.fail) throw new Error('run failed');
    },
    { everyMs: EVERY_MS, minGapMs: options.minGapMs, onError: (err) => errors.push(err) },
  );
  return { task, starts, ends, errors, overlapped: () => overlapped };
}

describe('PeriodicTask', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('runs nothing until started, then every interval', async () => {
    const { task, starts } = recorded();
    await jest.advanceTimersByTimeAsync(3 * EVERY_MS);
    expect(starts).toEqual([]);
    task.start();
    await jest.advanceTimersByTimeAsync(3 * EVERY_MS);
    expect(starts).toEqual([4, 5, 6].map((n) => n * EVERY_MS));
    await task.stop();
  });

  it('counts the interval from the end of the previous run: a slow run never overlaps the next', async () => {
    const { task, starts, ends, overlapped } = recorded(1.5 * EVERY_MS);
    task.start();
    void task.run();
    await jest.advanceTimersByTimeAsync(6 * EVERY_MS);
    expect(starts).toEqual([0, 2.5 * EVERY_MS, 5 * EVERY_MS]);
    expect(ends).toEqual([1.5 * EVERY_MS, 4 * EVERY_MS]);
    expect(overlapped()).toBe(false);
    const stopping = task.stop();
    await jest.advanceTimersByTimeAsync(1.5 * EVERY_MS);
    await stopping;
    expect(starts).toHaveLength(3);
  });

  it('a run now restarts the interval from its end', async () => {
    const { task, starts } = recorded();
    task.start();
    await jest.advanceTimersByTimeAsync(EVERY_MS / 2);
    await task.run();
    await jest.advanceTimersByTimeAsync(EVERY_MS);
    expect(starts).toEqual([EVERY_MS / 2, 1.5 * EVERY_MS]);
    await task.stop();
  });

  it('a burst of requests is one run, 250 ms later at the earliest', async () => {
    const { task, starts } = recorded();
    for (let i = 0; i < 5; i++) task.request();
    await jest.advanceTimersByTimeAsync(249);
    expect(starts).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(starts).toEqual([250]);
    await jest.advanceTimersByTimeAsync(3 * EVERY_MS);
    expect(starts).toEqual([250]);
  });

  it('a request waits the minimum gap after the previous run ended', async () => {
    const { task, starts } = recorded(0, { minGapMs: 1_000 });
    await task.run();
    await jest.advanceTimersByTimeAsync(100);
    task.request();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(starts).toEqual([0, 1_000]);
  });

  it('a run or requests during a run make exactly one more run after it, and the call resolves with the run in progress', async () => {
    const { task, starts, ends } = recorded(1_000);
    const first = task.run();
    await jest.advanceTimersByTimeAsync(100);
    let resolvedAt = -1;
    void task.run().then(() => (resolvedAt = Date.now()));
    task.request();
    task.request();
    await jest.advanceTimersByTimeAsync(900);
    await first;
    expect(resolvedAt).toBe(1_000);
    await jest.advanceTimersByTimeAsync(5_000);
    expect(starts).toEqual([0, 1_250]);
    expect(ends).toEqual([1_000, 2_250]);
  });

  it('a run serves the requests made before it: the minimum gap holds after a scheduled run', async () => {
    const starts: number[] = [];
    const task = new PeriodicTask(
      async () => {
        starts.push(Date.now());
      },
      { everyMs: 400, minGapMs: 1_000, onError: () => undefined },
    );
    task.start();
    await task.run();
    await jest.advanceTimersByTimeAsync(200);
    task.request();
    await jest.advanceTimersByTimeAsync(3_000);
    // The scheduled run at 400 serves the request: no extra run 1,000 ms after the first ended.
    expect(starts.slice(0, 5)).toEqual([0, 400, 800, 1_200, 1_600]);
    await task.stop();
  });

  it('reports a task that throws before returning its promise, and an onError that throws stops nothing', async () => {
    const starts: number[] = [];
    const task = new PeriodicTask(
      () => {
        starts.push(Date.now());
        throw new Error('thrown at once');
      },
      {
        everyMs: EVERY_MS,
        onError: () => {
          throw new Error('logger down');
        },
      },
    );
    task.start();
    await expect(task.run()).resolves.toBeUndefined();
    await jest.advanceTimersByTimeAsync(2 * EVERY_MS);
    expect(starts).toEqual([0, EVERY_MS, 2 * EVERY_MS]);
    await task.stop();
  });

  it('reports a failed run and goes on with the schedule', async () => {
    const { task, starts, errors } = recorded(0, { fail: true });
    task.start();
    await expect(task.run()).resolves.toBeUndefined();
    await jest.advanceTimersByTimeAsync(2 * EVERY_MS);
    expect(starts).toEqual([0, EVERY_MS, 2 * EVERY_MS]);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toEqual(new Error('run failed'));
    await task.stop();
  });

  it('stop waits for the run in progress and cancels every later run', async () => {
    const { task, starts, ends } = recorded(1_000);
    task.start();
    void task.run();
    task.request();
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    expect(task.isStopped).toBe(true);
    await jest.advanceTimersByTimeAsync(999);
    expect(stopped).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await stopping;
    expect(ends).toEqual([1_000]);
    task.start();
    task.request();
    await task.run();
    await jest.advanceTimersByTimeAsync(5 * EVERY_MS);
    expect(starts).toEqual([0]);
  });

  it('never keeps the process alive', async () => {
    jest.useRealTimers();
    const timers = jest.spyOn(global, 'setTimeout');
    const { task } = recorded();
    task.start();
    task.request();
    const made = timers.mock.results.map((r) => r.value as NodeJS.Timeout);
    timers.mockRestore();
    expect(made).toHaveLength(2);
    expect(made.map((t) => t.hasRef())).toEqual([false, false]);
    await task.stop();
  });
});
