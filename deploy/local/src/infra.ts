/**
 * The default local stack (one Kafka broker, one MongoDB-wire server, and an MLflow tracking server
 * when MLflow is installed) as used by `npm start`, `npm run infra:*` and the jest global setup.
 * `KAFKA_BROKERS` / `MONGODB_URI` / `MLFLOW_TRACKING_URI` override it: when set, nothing is started
 * for that component.
 */
import { componentStatus, type Log, startKafka, startMongo, stopComponent } from './launcher';
import { startMlflow, stopMlflow } from './mlflow';

export interface InfraEndpoints {
  kafkaBrokers: string;
  mongoUri: string;
  /** The MLflow tracking server (undefined: not asked for, not installed, and none was named). */
  mlflowTrackingUri: string | undefined;
  /** Names of the components this call started or reused (empty when both were overridden). */
  managed: string[];
}

export interface InfraEnv {
  KAFKA_BROKERS?: string;
  MONGODB_URI?: string;
  KAFKA_PORT?: string;
  MONGODB_PORT?: string;
  MLFLOW_TRACKING_URI?: string;
  MLFLOW_PORT?: string;
}

export interface InfraOptions {
  /**
   * The MLflow tracking server (when installed): `wait` until it answers (`npm run infra:up`),
   * `background` only spawns it (`npm start`: it boots in tens of seconds, awaited with the
   * services), `off` (default) leaves it alone, for tools that need only Kafka and MongoDB.
   */
  mlflow?: 'wait' | 'background' | 'off';
}

function port(value: string | undefined, fallback: number, variable: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new Error(`${variable} must be a TCP port (1-65535), got "${value}"`);
  }
  return n;
}

export async function infraUp(env: InfraEnv, log: Log, options: InfraOptions = {}): Promise<InfraEndpoints> {
  const managed: string[] = [];
  const kafkaPort = port(env.KAFKA_PORT, 9092, 'KAFKA_PORT');
  const mongoPort = port(env.MONGODB_PORT, 27017, 'MONGODB_PORT');
  const mlflowPort = port(env.MLFLOW_PORT, 5000, 'MLFLOW_PORT');
  const [kafkaBrokers, mongoUri, mlflowTrackingUri] = await Promise.all([
    env.KAFKA_BROKERS
      ? (log(`kafka: using KAFKA_BROKERS=${env.KAFKA_BROKERS}`), Promise.resolve(env.KAFKA_BROKERS))
      : startKafka({ port: kafkaPort, log }).then((k) => (managed.push(k.name), k.brokers)),
    env.MONGODB_URI
      ? (log(`mongodb: using MONGODB_URI=${env.MONGODB_URI}`), Promise.resolve(env.MONGODB_URI))
      : startMongo({ port: mongoPort, log }).then((m) => (managed.push(m.name), m.uri)),
    env.MLFLOW_TRACKING_URI
      ? (log(`mlflow: using MLFLOW_TRACKING_URI=${env.MLFLOW_TRACKING_URI}`),
        Promise.resolve(env.MLFLOW_TRACKING_URI))
      : (options.mlflow ?? 'off') === 'off'
        ? Promise.resolve(undefined)
        : startMlflow({ port: mlflowPort, log, wait: options.mlflow === 'wait' }).then((m) => {
            if (m) managed.push(m.name);
            return m?.trackingUri;
          }),
  ]);
  return { kafkaBrokers, mongoUri, mlflowTrackingUri, managed };
}

export async function infraDown(log: Log): Promise<void> {
  for (const name of ['kafka', 'mongodb', 'mlflow']) {
    const stopped = name === 'mlflow' ? await stopMlflow() : await stopComponent(name);
    log(`${name}: ${stopped ? 'stopped' : 'not running'}`);
  }
}

export function infraStatus(): ReturnType<typeof componentStatus>[] {
  return ['kafka', 'mongodb', 'mlflow'].map(componentStatus);
}
