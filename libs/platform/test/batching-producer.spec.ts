/**
 * Unit tests of the micro-batcher's scheduling with a fake kafkajs producer (the integration
 * tests prove the same semantics against the real broker; these pin the timing rules fast).
 */
import type { Kafka, Producer, ProducerBatch, RecordMetadata } from 'kafkajs';
import { KafkaUnavailableError } from '../src/errors/app-error';
import { BatchingProducer } from '../src/kafka/batching-producer';

interface SentBatch {
  values: string[];
  at: number;
  ack: () => void;
  fail: (err: Error) => void;
}

/** A kafkajs producer whose sendBatch calls stay pending until the test acks or fails them. */
class FakeProducer implements Pick<Producer, 'connect' | 'disconnect' | 'sendBatch'> {
  readonly sent: SentBatch[] = [];
  autoAck = false;
  connected = false;

  async connect(): Promise<void> {
    this.connected = true;
  }
  async disconnect(): Promise<void> {
    this.connected = false;
  }
  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    return new Promise<RecordMetadata[]>((resolve, reject) => {
      const values = (batch.topicMessages ?? []).flatMap((t) => t.messages.map((m) => String(m.value)));
      this.sent.push({ values, at: Date.now(), ack: () => resolve([]), fail: reject });
      if (this.autoAck) resolve([]);
    });
  }
}

function fakeKafka(fake: FakeProducer): Kafka {
  return { producer: () => fake } as unknown as Kafka;
}

const msg = (value: string): { key: string; value: string } => ({ key: 'k', value });
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 1_000 && !cond(); i++) await turn();
  if (!cond()) throw new Error('condition not reached');
};

describe('BatchingProducer scheduling (fake kafkajs producer)', () => {
  it('flushes a full batch at once and a partial one after linger', async () => {
    // A full batch must not wait for the linger. With a 60 s linger, waiting would run into the 5 s
    // limit of this test (no wall-clock bound, which a loaded CI host broke once at 32 ms against 25).
    const fake = new FakeProducer();
    fake.autoAck = true;
    const eager = new BatchingProducer(fakeKafka(fake), {
      maxBatchMessages: 3,
      lingerMs: 60_000,
      sendTimeoutMs: 120_000,
    });
    await Promise.all([
      eager.send('t', [msg('a')]),
      eager.send('t', [msg('b')]),
      eager.send('t', [msg('c')]),
    ]);
    expect(fake.sent.map((b) => b.values)).toEqual([['a', 'b', 'c']]);
    await eager.close();

    // A partial batch waits for the linger.
    const lingering = new BatchingProducer(fakeKafka(fake), { maxBatchMessages: 3, lingerMs: 30 });
    const lingerStart = Date.now();
    await lingering.send('t', [msg('d')]);
    expect(fake.sent[1].values).toEqual(['d']);
    expect(fake.sent[1].at - lingerStart).toBeGreaterThanOrEqual(25);
    await lingering.close();
  }, 5_000);

  it('sends what queued during a flight right after the ack (group commit), one batch in flight', async () => {
    const fake = new FakeProducer();
    const producer = new BatchingProducer(fakeKafka(fake), { maxBatchMessages: 3, lingerMs: 1_000 });
    const first = producer.send('t', [msg('a1'), msg('a2'), msg('a3')]); // full: goes out at once
    await until(() => fake.sent.length === 1);
    const later = [producer.send('t', [msg('b')]), producer.send('t', [msg('c')])];
    await turn();
    expect(fake.sent).toHaveLength(1); // maxInFlight 1: strictly one after another
    const ackedAt = Date.now();
    fake.sent[0].ack();
    await first;
    await until(() => fake.sent.length === 2);
    // Not after another 1 s linger: right after the acknowledgement.
    expect(fake.sent[1].at - ackedAt).toBeLessThan(200);
    expect(fake.sent[1].values).toEqual(['b', 'c']);
    fake.sent[1].ack();
    await Promise.all(later);
    await producer.close();
  });

  it('a closed loop of callers keeps batches full instead of lingering after every ack', async () => {
    const fake = new FakeProducer();
    fake.autoAck = true;
    const producer = new BatchingProducer(fakeKafka(fake), { maxBatchMessages: 1_000, lingerMs: 50 });
    let n = 0;
    const caller = async (): Promise<void> => {
      while (n < 2_000) await producer.send('t', [msg(String(n++))]);
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: 100 }, caller));
    // With a linger after every ack this takes 20 batches x 50 ms = 1 s.
    expect(Date.now() - started).toBeLessThan(500);
    expect(fake.sent.length).toBeLessThanOrEqual(25);
    await producer.close();
  });

  it('rejects only the callers of a failed batch, with KafkaUnavailableError', async () => {
    const fake = new FakeProducer();
    // Batches close by size only: with a 1 ms linger, a millisecond boundary between the first and
    // the second send let [a1] go out alone on a loaded CI host, and a2 then rode in the acked batch.
    const producer = new BatchingProducer(fakeKafka(fake), { maxBatchMessages: 2, lingerMs: 60_000 });
    const results = [
      producer.send('t', [msg('a1')]),
      producer.send('t', [msg('a2')]),
      producer.send('t', [msg('b1')]),
      producer.send('t', [msg('b2')]),
    ].map((p) =>
      p.then(
        () => 'ok',
        (e: unknown) => e,
      ),
    );
    await until(() => fake.sent.length === 1);
    fake.sent[0].fail(new Error('NOT_LEADER'));
    await until(() => fake.sent.length === 2);
    fake.sent[1].ack();
    const [a1, a2, b1, b2] = await Promise.all(results);
    expect(a1).toBeInstanceOf(KafkaUnavailableError);
    expect(a2).toBe(a1);
    expect([b1, b2]).toEqual(['ok', 'ok']);
    expect(fake.sent.map((b) => b.values)).toEqual([
      ['a1', 'a2'],
      ['b1', 'b2'],
    ]);
    await producer.close();
  });

  it('drops a batch that times out before dispatch, so nothing refused is sent later', async () => {
    const fake = new FakeProducer();
    const producer = new BatchingProducer(fakeKafka(fake), {
      maxBatchMessages: 1,
      lingerMs: 1,
      sendTimeoutMs: 100,
    });
    const stuck = producer.send('t', [msg('stuck')]).catch((e: unknown) => e);
    const queued = producer.send('t', [msg('queued')]).catch((e: unknown) => e);
    expect(await queued).toBeInstanceOf(KafkaUnavailableError);
    expect(await stuck).toBeInstanceOf(KafkaUnavailableError);
    fake.sent[0].ack(); // the in-flight one finally returns
    await turn();
    await turn();
    expect(fake.sent.map((b) => b.values)).toEqual([['stuck']]);
    await producer.close();
    expect(fake.sent.map((b) => b.values)).toEqual([['stuck']]);
  });
});

describe('BatchingProducer readiness check', () => {
  it('keeps one metadata probe in flight: rounds that time out do not queue more on the sending client', async () => {
    let probes = 0;
    let answer: () => void = () => undefined;
    const producer = new BatchingProducer({
      connect: async () => undefined,
      sendBatch: async () => undefined,
      disconnect: async () => undefined,
      probe: () => {
        probes++;
        return new Promise<void>((resolve) => (answer = resolve));
      },
    });
    const check = producer.readinessCheck(20);
    for (let round = 0; round < 3; round++) await expect(check.check()).rejects.toThrow(/kafka metadata/);
    expect(probes).toBe(1);
    answer(); // the broker answers the probe still in flight
    await turn();
    await expect(Promise.race([check.check(), Promise.resolve('pending')])).resolves.toBe('pending');
    expect(probes).toBe(2); // a new round, after the previous probe ended, probes again
  });
});
