import type { ConsumedMessage } from '@llmops/platform';
import pino from 'pino';
import { exposureEvent } from '../../test/support/scenario';
import { PartitionState } from '../domain/partition-state';
import type { AggregationRepository } from '../persistence/aggregation.repository';
import type { ExperimentsRepository } from '../persistence/experiments.repository';
import { loadAnalyticsConfig } from '../config/analytics.config';
import { ApplyBatchUseCase, type BatchObserver } from './apply-batch.usecase';
import { BatchGate } from './batch-gate';

/** A promise settled from outside. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending callback and timer-free continuation run. */
const settle = () => new Promise((r) => setImmediate(r));

describe('BatchGate', () => {
  it('runs batches together', async () => {
    const gate = new BatchGate();
    const a = deferred();
    const b = deferred();
    const both = [gate.batch(() => a.promise), gate.batch(() => b.promise)];
    await settle();
    expect(gate.inFlight).toBe(2);
    a.resolve();
    b.resolve();
    await Promise.all(both);
    expect(gate.inFlight).toBe(0);
  });

  it('starts a task once the batches in flight have ended, and holds back the batches that arrive meanwhile', async () => {
    const gate = new BatchGate();
    const log: string[] = [];
    const first = deferred();
    const task = deferred();
    const running = gate.batch(async () => {
      log.push('batch 1 start');
      await first.promise;
      log.push('batch 1 end');
    });
    const exclusive = gate.exclusive(async () => {
      log.push('task start');
      await task.promise;
      log.push('task end');
    });
    await settle();
    expect(log).toEqual(['batch 1 start']);
    first.resolve();
    await settle();
    expect(log).toEqual(['batch 1 start', 'batch 1 end', 'task start']);
    const later = gate.batch(async () => {
      log.push('batch 2');
    });
    await settle();
    expect(log).toEqual(['batch 1 start', 'batch 1 end', 'task start']);
    task.resolve();
    await Promise.all([running, exclusive, later]);
    expect(log).toEqual(['batch 1 start', 'batch 1 end', 'task start', 'task end', 'batch 2']);
  });

  it('lets the batches go when the task throws, and after a batch that threw', async () => {
    const gate = new BatchGate();
    const failing = gate.batch(() => Promise.reject(new Error('batch failed')));
    await expect(failing).rejects.toThrow('batch failed');
    const held = gate.exclusive(async () => {
      await settle();
      throw new Error('task failed');
    });
    const waiting = gate.batch(() => Promise.resolve('ran'));
    await expect(held).rejects.toThrow('task failed');
    await expect(waiting).resolves.toBe('ran');
    await expect(gate.exclusive(() => Promise.resolve('again'))).resolves.toBe('again');
  });

  it('starts a task only once the last of several batches in flight has ended', async () => {
    const gate = new BatchGate();
    const log: string[] = [];
    const [a, b] = [deferred(), deferred()];
    const batches = [
      gate.batch(async () => {
        await a.promise;
        log.push('a end');
      }),
      gate.batch(async () => {
        await b.promise;
        log.push('b end');
      }),
    ];
    const task = gate.exclusive(async () => {
      log.push('task');
    });
    a.resolve();
    await settle();
    expect(log).toEqual(['a end']);
    b.resolve();
    await Promise.all([...batches, task]);
    expect(log).toEqual(['a end', 'b end', 'task']);
  });

  it('runs tasks one at a time', async () => {
    const gate = new BatchGate();
    const log: string[] = [];
    const first = deferred();
    const one = gate.exclusive(async () => {
      log.push('one start');
      await first.promise;
      log.push('one end');
    });
    const second = deferred();
    const two = gate.exclusive(async () => {
      log.push('two start');
      await second.promise;
      log.push('two end');
    });
    const three = gate.exclusive(async () => {
      log.push('three');
    });
    await settle();
    expect(log).toEqual(['one start']);
    first.resolve();
    await settle();
    expect(log).toEqual(['one start', 'one end', 'two start']);
    second.resolve();
    await Promise.all([one, two, three]);
    expect(log).toEqual(['one start', 'one end', 'two start', 'two end', 'three']);
  });
});

describe('ApplyBatchUseCase and its gate', () => {
  it('a task given to whileNoBatchRuns waits for the batch being written, and the next batch waits for it', async () => {
    const write = deferred<number>();
    const log: string[] = [];
    const aggregation = {
      loadPartition: (part: number) => Promise.resolve(new PartitionState(part)),
      write: () => {
        log.push('write');
        return write.promise;
      },
    } as unknown as AggregationRepository;
    const observer: BatchObserver = {
      event: () => undefined,
      commands: () => undefined,
      changed: () => undefined,
      requestsForgotten: () => undefined,
      requestsHeld: () => undefined,
    };
    const useCase = new ApplyBatchUseCase(
      aggregation,
      { phaseStarts: () => Promise.resolve([]) } as unknown as ExperimentsRepository,
      observer,
      pino({ level: 'silent' }),
      loadAnalyticsConfig({}),
    );
    const message = (offset: number, userId: string): ConsumedMessage => ({
      topic: 'exposures',
      partition: 0,
      offset: String(offset),
      key: null,
      value: Buffer.from(exposureEvent('e', 'a', userId, new Date()).value),
      headers: {},
      timestamp: String(Date.now()),
    });
    const batch = useCase.execute({ role: 'exposures', partition: 0, messages: [message(0, 'u1')] });
    await settle();
    expect(log).toEqual(['write']);
    const task = deferred();
    const exclusive = useCase.whileNoBatchRuns(async () => {
      log.push('task');
      await task.promise;
    });
    const next = useCase.execute({ role: 'exposures', partition: 0, messages: [message(1, 'u2')] });
    await settle();
    expect(log).toEqual(['write']);
    write.resolve(1);
    await batch;
    await settle();
    expect(log).toEqual(['write', 'task']);
    task.resolve();
    await exclusive;
    await next;
    expect(log).toEqual(['write', 'task', 'write']);
  });
});
