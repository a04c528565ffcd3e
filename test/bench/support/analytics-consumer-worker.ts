/**
 * One replica of the analytics consumer in a process of its own, for the scale-out figure of
 * analytics-consumer.bench.ts (which forks it with an IPC channel): the same consumer setup as the
 * benchmark's own (startAnalyticsConsumer), in group BENCH_GROUP over the topics of BENCH_PREFIX,
 * on database BENCH_DB, whose assigner waits for BENCH_REPLICAS members before assigning.
 * Messages: sends `{ type: 'started' }`; answers `'report'` with a WorkerReport; exits on `'stop'`.
 */
/* eslint-disable @nx/enforce-module-boundaries -- a benchmark replica opens the service's
   repositories; benches are not product code. */
import { Kafka, logLevel } from 'kafkajs';
import { openPersistence } from '../../../services/analytics/test/support/persistence';
import { gatedCoPartitionAssigner, OffsetTally, startAnalyticsConsumer } from './analytics-consumer';
import { KAFKA, MONGO, required } from './harness';

export interface WorkerReport {
  type: 'report';
  clientId: string;
  /** Start of its first handler call and end of its last (ms since the epoch); 0 before any. */
  firstAt: number;
  lastAt: number;
  /** Distinct records handled, and records handled again (a batch redelivered). */
  events: number;
  redelivered: number;
  /** `topic:partition` of every batch it handled. */
  handled: string[];
  /** CPU time (user + system) of this process from its first handler call to its last, µs. */
  cpuMicros: number;
}

async function main(): Promise<void> {
  const clientId = required('BENCH_CLIENT_ID');
  const kafka = new Kafka({ brokers: KAFKA.split(','), clientId, logLevel: logLevel.NOTHING });
  const persistence = await openPersistence(MONGO, required('BENCH_DB'));
  const report: WorkerReport = {
    type: 'report',
    clientId,
    firstAt: 0,
    lastAt: 0,
    events: 0,
    redelivered: 0,
    handled: [],
    cpuMicros: 0,
  };
  const handled = new Set<string>();
  const tally = new OffsetTally();
  let cpuAtFirst = process.cpuUsage();
  const consumer = await startAnalyticsConsumer({
    kafka,
    prefix: required('BENCH_PREFIX'),
    groupId: required('BENCH_GROUP'),
    persistence,
    assigner: gatedCoPartitionAssigner(Number(required('BENCH_REPLICAS'))),
    before: () => {
      if (report.firstAt > 0) return;
      report.firstAt = Date.now();
      cpuAtFirst = process.cpuUsage();
    },
    after: (messages, ctx) => {
      tally.add(ctx, messages);
      report.events = tally.distinct;
      report.redelivered = tally.redelivered;
      report.lastAt = Date.now();
      const cpu = process.cpuUsage(cpuAtFirst);
      report.cpuMicros = cpu.user + cpu.system;
      handled.add(`${ctx.topic}:${ctx.partition}`);
    },
  });
  process.on('message', (msg) => {
    if (msg === 'report') {
      process.send?.({ ...report, handled: [...handled].sort() });
    } else if (msg === 'stop') {
      void consumer
        .stop()
        .then(() => persistence.settled())
        .then(() => persistence.connection.close())
        .then(() => process.exit(0));
    }
  });
  process.send?.({ type: 'started' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
