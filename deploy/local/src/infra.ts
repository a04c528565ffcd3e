/**
 * The default local stack (one Kafka broker, one MongoDB-wire server) as used by `npm start`,
 * `npm run infra:*` and the jest global setup. `KAFKA_BROKERS` / `MONGODB_URI` override it:
 * when set, nothing is started for that component.
 */
import { componentStatus, type Log, startKafka, startMongo, stopComponent } from './launcher';

export interface InfraEndpoints {
  kafkaBrokers: string;
  mongoUri: string;
  /** Names of the components this call started or reused (empty when both were overridden). */
  managed: string[];
}

export interface InfraEnv {
  KAFKA_BROKERS?: string;
  MONGODB_URI?: string;
  KAFKA_PORT?: string;
  MONGODB_PORT?: string;
}

function port(value: string | undefined, fallback: number, variable: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${variable} must be a TCP port (1-65535), got "${value}"`);
  }
  return n;
}

export async function infraUp(env: InfraEnv, log: Log): Promise<InfraEndpoints> {
  const managed: string[] = [];
  const kafkaPort = port(env.KAFKA_PORT, 9092, 'KAFKA_PORT');
  const mongoPort = port(env.MONGODB_PORT, 27017, 'MONGODB_PORT');
  const [kafkaBrokers, mongoUri] = await Promise.all([
    env.KAFKA_BROKERS
      ? (log(`kafka: using KAFKA_BROKERS=${env.KAFKA_BROKERS}`), Promise.resolve(env.KAFKA_BROKERS))
      : startKafka({ port: kafkaPort, log }).then((k) => (managed.push(k.name), k.brokers)),
    env.MONGODB_URI
      ? (log(`mongodb: using MONGODB_URI=${env.MONGODB_URI}`), Promise.resolve(env.MONGODB_URI))
      : startMongo({ port: mongoPort, log }).then((m) => (managed.push(m.name), m.uri)),
  ]);
  return { kafkaBrokers, mongoUri, managed };
}

export async function infraDown(log: Log): Promise<void> {
  for (const name of ['kafka', 'mongodb']) {
    const stopped = await stopComponent(name);
    log(`${name}: ${stopped ? 'stopped' : 'not running'}`);
  }
}

export function infraStatus(): ReturnType<typeof componentStatus>[] {
  return ['kafka', 'mongodb'].map(componentStatus);
}
