import type { Admin, Kafka } from 'kafkajs';
import type { Connection } from 'mongoose';

export interface ComponentCheck {
  name: string;
  check(): Promise<void>;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export function mongoCheck(connection: Connection, timeoutMs = 2_000): ComponentCheck {
  return {
    name: 'mongodb',
    async check() {
      const db = connection.db;
      if (connection.readyState !== 1 || !db) throw new Error('not connected');
      await withTimeout(db.admin().ping(), timeoutMs, 'mongodb ping');
    },
  };
}

/** Kafka readiness: a metadata round trip on a long-lived admin connection. */
export function kafkaCheck(kafka: Kafka, timeoutMs = 3_000): ComponentCheck & { close(): Promise<void> } {
  let admin: Admin | undefined;
  return {
    name: 'kafka',
    async check() {
      if (!admin) {
        admin = kafka.admin({ retry: { retries: 0 } });
        await withTimeout(admin.connect(), timeoutMs, 'kafka connect');
      }
      const cluster = await withTimeout(admin.describeCluster(), timeoutMs, 'kafka metadata');
      if (cluster.brokers.length === 0) throw new Error('no brokers in cluster metadata');
    },
    async close() {
      await admin?.disconnect().catch(() => undefined);
    },
  };
}
