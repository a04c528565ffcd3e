import { Test } from '@nestjs/testing';
import { LOGGER, SERVICE_CONFIG } from '@llmops/platform';
import pino from 'pino';
import { Registry } from 'prom-client';
import { loadAnalyticsConfig } from '../config/analytics.config';
import { AnalyticsMetrics } from '../metrics/analytics-metrics';
import { ParkedFeedbackRepository } from '../persistence/parked-feedback.repository';
import { ApplyBatchUseCase } from './apply-batch.usecase';
import { parkedCutoff, ParkedRetentionScheduler } from './parked-retention.scheduler';

const INTERVAL_MS = 60_000;

/**
 * The scheduler over recording fakes of what it calls; `env` overrides the retention settings, and
 * the delete fails while `failDelete.with` is set.
 */
async function scheduler(env: Record<string, string> = {}) {
  const calls: string[] = [];
  /** The calls again, with the gate's hold and release around the task. */
  const log: string[] = [];
  const failDelete: { with?: Error } = {};
  const parked: Pick<ParkedFeedbackRepository, 'deleteReceivedBefore'> = {
    deleteReceivedBefore: (cutoff) => {
      if (failDelete.with) return Promise.reject(failDelete.with);
      calls.push(`delete ${cutoff}`);
      log.push('delete');
      return Promise.resolve(3);
    },
  };
  const applyBatch: Pick<ApplyBatchUseCase, 'forgetParkedBefore' | 'whileNoBatchRuns'> = {
    forgetParkedBefore: (cutoff) => {
      calls.push(`forget ${cutoff}`);
      log.push('forget');
      return { forgotten: 2, held: 7 };
    },
    whileNoBatchRuns: async (task) => {
      log.push('hold');
      try {
        return await task();
      } finally {
        log.push('release');
      }
    },
  };
  const metrics = new AnalyticsMetrics(new Registry());
  const config = loadAnalyticsConfig({ ANALYTICS_PARKED_SWEEP_INTERVAL_MS: String(INTERVAL_MS), ...env });
  const module = await Test.createTestingModule({
    providers: [
      ParkedRetentionScheduler,
      { provide: SERVICE_CONFIG, useValue: config },
      { provide: LOGGER, useValue: pino({ level: 'silent' }) },
      { provide: AnalyticsMetrics, useValue: metrics },
      { provide: ParkedFeedbackRepository, useValue: parked },
      { provide: ApplyBatchUseCase, useValue: applyBatch },
    ],
  }).compile();
  return { sweeper: module.get(ParkedRetentionScheduler), calls, log, metrics, failDelete };
}

const value = async (m: { get(): Promise<{ values: Array<{ value: number }> }> }) =>
  (await m.get()).values[0]?.value;

describe('ParkedRetentionScheduler', () => {
  afterEach(() => jest.useRealTimers());

  it('deletes, then forgets in memory, with one cutoff; counts the purged and the held', async () => {
    jest.useFakeTimers({ now: Date.parse('2025-01-08T10:00:00.000Z') });
    const { sweeper, calls, metrics } = await scheduler({ ANALYTICS_PARKED_RETENTION_HOURS: '24' });
    await sweeper.sweep();
    const cutoff = '2025-01-07T10:00:00.000Z';
    expect(cutoff).toBe(parkedCutoff(Date.now(), 24));
    expect(calls).toEqual([`delete ${cutoff}`, `forget ${cutoff}`]);
    expect(await value(metrics.parkedPurged)).toBe(3);
    expect(await value(metrics.parkedHeld)).toBe(7);
    expect(await value(metrics.mongoCommands)).toBe(1);
    await sweeper.sweep();
    expect(await value(metrics.parkedPurged)).toBe(6);
  });

  it('deletes and forgets while no batch runs', async () => {
    const { sweeper, log, failDelete } = await scheduler();
    await sweeper.sweep();
    expect(log).toEqual(['hold', 'delete', 'forget', 'release']);
    failDelete.with = new Error('server unreachable');
    await expect(sweeper.sweep()).rejects.toBe(failDelete.with);
    expect(log.slice(4)).toEqual(['hold', 'release']);
  });

  it('forgets nothing when the delete fails: the memory keeps what the database keeps', async () => {
    const { sweeper, calls, metrics, failDelete } = await scheduler();
    failDelete.with = new Error('server unreachable');
    await expect(sweeper.sweep()).rejects.toBe(failDelete.with);
    expect(calls).toEqual([]);
    expect(await value(metrics.parkedPurged)).toBe(0);
    delete failDelete.with;
    await sweeper.sweep();
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['delete', 'forget']);
  });

  it('sweeps soon after boot, then every interval', async () => {
    jest.useFakeTimers();
    const { sweeper, calls } = await scheduler();
    sweeper.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(calls).toHaveLength(4);
    await sweeper.onApplicationShutdown();
    await jest.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect(calls).toHaveLength(4);
  });

  it.each([
    ['a retention of 0 (keep forever)', { ANALYTICS_PARKED_RETENTION_HOURS: '0' }],
    ['a replica that does not consume', { ANALYTICS_CONSUMER_ENABLED: 'false' }],
  ])('never sweeps with %s', async (_, env) => {
    jest.useFakeTimers();
    const { sweeper, calls } = await scheduler(env);
    sweeper.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    expect(calls).toEqual([]);
    await sweeper.onApplicationShutdown();
  });

  it('refuses a sweep interval under a second and a negative retention at boot', () => {
    expect(() => loadAnalyticsConfig({ ANALYTICS_PARKED_SWEEP_INTERVAL_MS: '10' })).toThrow(
      /ANALYTICS_PARKED_SWEEP_INTERVAL_MS/,
    );
    expect(() => loadAnalyticsConfig({ ANALYTICS_PARKED_RETENTION_HOURS: '-1' })).toThrow(
      /ANALYTICS_PARKED_RETENTION_HOURS/,
    );
  });
});
