/**
 * The consumer's failure classification, on the errors the real clients throw: an unreachable
 * MongoDB or Kafka is transient (retried, never dead-lettered); anything else is deterministic.
 */
import { Kafka, logLevel } from 'kafkajs';
import { mongo } from 'mongoose';
import { classifyFailure, describeFailure, PoisonRecordError } from '../src/kafka/consumer-failures';

/** A port nothing listens on. */
const CLOSED = '127.0.0.1:1';

async function thrown(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('classifyFailure', () => {
  it('calls an unreachable MongoDB transient (server selection, network)', async () => {
    const client = new mongo.MongoClient(`mongodb://${CLOSED}`, { serverSelectionTimeoutMS: 200 });
    const err = await thrown(client.db('x').collection('y').insertOne({ a: 1 }));
    await client.close();
    expect((err as Error).name).toBe('MongoServerSelectionError');
    expect(classifyFailure(err)).toBe('transient');
    expect(classifyFailure(new mongo.MongoNetworkError('connection reset'))).toBe('transient');
  });

  it('calls an unreachable Kafka transient', async () => {
    const kafka = new Kafka({
      brokers: [CLOSED],
      clientId: 'classify',
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 200,
    });
    const producer = kafka.producer();
    const err = await thrown(producer.connect());
    expect((err as Error).name).toMatch(/^KafkaJS/);
    expect(classifyFailure(err)).toBe('transient');
  });

  it('calls retryable server errors and labelled errors transient', () => {
    for (const code of [91, 189, 10107, 11600, 50, 24, 43, 202]) {
      expect(classifyFailure(new mongo.MongoServerError({ code, errmsg: 'x' }))).toBe('transient');
    }
    expect(
      classifyFailure(
        new mongo.MongoServerError({ code: 2, errmsg: 'x', errorLabels: ['RetryableWriteError'] }),
      ),
    ).toBe('transient');
    expect(classifyFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      'transient',
    );
  });

  it('honours an explicit transient marker, also in the cause chain', () => {
    class WriteConflictError extends Error {
      readonly transient = true;
    }
    expect(classifyFailure(new WriteConflictError('bucket version taken'))).toBe('transient');
    expect(classifyFailure(new Error('wrapped', { cause: new mongo.MongoNetworkError('reset') }))).toBe(
      'transient',
    );
  });

  it('calls everything else deterministic: stack overflow, TypeError, invalid writes, explicit poison', () => {
    const deep = (n: number): number => (n === 0 ? 0 : 1 + deep(n - 1));
    let overflow: unknown;
    try {
      deep(1e7);
    } catch (err) {
      overflow = err;
    }
    expect(overflow).toBeInstanceOf(RangeError);
    expect(classifyFailure(overflow)).toBe('deterministic');
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(
      'deterministic',
    );
    expect(classifyFailure(new mongo.MongoServerError({ code: 2, errmsg: 'invalid value: +Inf' }))).toBe(
      'deterministic',
    );
    expect(classifyFailure(new mongo.MongoServerError({ code: 10334, errmsg: 'BSONObjTooLarge' }))).toBe(
      'deterministic',
    );
    const record = {
      topic: 't',
      partition: 0,
      offset: '3',
      key: null,
      value: null,
      headers: {},
      timestamp: '0',
    };
    expect(
      classifyFailure(new PoisonRecordError(record, 'bad', { cause: new mongo.MongoNetworkError('reset') })),
    ).toBe('deterministic');
    expect(classifyFailure('a string')).toBe('deterministic');
    expect(classifyFailure(undefined)).toBe('deterministic');
  });

  it('describes a failure as the dead-letter header carries it', () => {
    expect(describeFailure(new RangeError('Maximum call stack size exceeded'))).toBe(
      'RangeError: Maximum call stack size exceeded',
    );
    expect(describeFailure('plain')).toBe('plain');
  });
});
