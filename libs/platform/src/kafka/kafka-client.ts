import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { Logger } from 'pino';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs client whose own logs go through pino as structured lines. */
export function createKafka(
  opts: { brokers: string[]; clientId: string; logger: Logger } & Partial<KafkaConfig>,
): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const { logger, ...config } = opts;
  return new Kafka({
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log }) => {
        const { message, ...extra } = log;
        logger[LEVELS[level] ?? 'info']({ kafkajs: extra }, `kafkajs: ${message}`);
      },
    ...config,
  });
}
