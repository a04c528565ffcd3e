/**
 * The background load of analytics-consumer.bench.ts's freshness phase, in a process of its own (the
 * benchmark forks it with an IPC channel), so that building and producing the events does not run
 * on the event loop of the consumer being measured: in production other services produce them.
 *
 * Env: BENCH_PREFIX (the topics), BENCH_RATE (events/s), BENCH_SECONDS (how long the events built
 * up front last at that rate; the benchmark stops it earlier), BENCH_SEED.
 * Messages: sends `{ type: 'started' }` once the events are built and the producer is connected,
 * then produces `mixedScenario` events at BENCH_RATE on a 50 ms tick; answers `'stop'` with
 * `{ type: 'stopped', produced, seconds }` (events the broker acknowledged until then, over how long)
 * and exits.
 */
/* eslint-disable @nx/enforce-module-boundaries -- the load reuses the analytics scenario's events;
   benches are not product code. */
import { connectProducer, mixedScenario, produce } from '../../../services/analytics/test/support/scenario';
import { KAFKA, required } from './harness';

export interface LoadReport {
  type: 'stopped';
  produced: number;
  seconds: number;
}

const TICK_MS = 50;

async function main(): Promise<void> {
  const prefix = required('BENCH_PREFIX');
  const rate = Number(required('BENCH_RATE'));
  const seconds = Number(required('BENCH_SECONDS'));
  const { producer } = await connectProducer(KAFKA);
  const events = mixedScenario('bench-bg', Math.ceil(rate * seconds), Number(required('BENCH_SEED'))).events;
  let sent = 0;
  let acked = 0;
  let inFlight = Promise.resolve();
  const start = performance.now();
  const timer = setInterval(() => {
    const due = Math.min(events.length, Math.floor(((performance.now() - start) / 1000) * rate));
    const slice = events.slice(sent, due);
    sent = due;
    // One send at a time, in order: a topic partition's events stay in the scenario's order.
    if (slice.length > 0) {
      inFlight = inFlight.then(async () => {
        await produce(producer, prefix, slice);
        acked += slice.length;
      });
    }
  }, TICK_MS);
  process.on('message', (msg) => {
    if (msg !== 'stop') return;
    clearInterval(timer);
    const report: LoadReport = {
      type: 'stopped',
      produced: acked,
      seconds: (performance.now() - start) / 1000,
    };
    void inFlight.then(() => producer.disconnect()).then(() => process.send?.(report, () => process.exit(0)));
  });
  process.send?.({ type: 'started' });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
