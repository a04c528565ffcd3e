import { createServiceApp } from '@llmops/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Kafka, logLevel } from 'kafkajs';
import { AppModule, feedbackAppOptions } from '../../src/app.module';
import { type FeedbackConfig, loadFeedbackConfig } from '../../src/config/feedback.config';

export interface InjectResult {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface FeedbackTestApp {
  app: NestFastifyApplication;
  config: FeedbackConfig;
  post(url: string, payload: unknown): Promise<InjectResult>;
  /** Raw body (for malformed JSON and size tests). */
  postRaw(url: string, raw: string, contentType?: string): Promise<InjectResult>;
  close(): Promise<void>;
}

export async function startFeedbackApp(env: Record<string, string>): Promise<FeedbackTestApp> {
  const config = loadFeedbackConfig({ LOG_LEVEL: 'warn', ...env });
  const app = await createServiceApp(AppModule.forRoot(config) as never, feedbackAppOptions(config));
  await app.init();
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();
  const postRaw = async (
    url: string,
    raw: string,
    contentType = 'application/json',
  ): Promise<InjectResult> => {
    const res = await fastify.inject({
      method: 'POST',
      url,
      payload: raw,
      headers: { 'content-type': contentType },
    });
    let body: unknown = res.body;
    try {
      body = JSON.parse(res.body);
    } catch {
      /* not JSON */
    }
    return { status: res.statusCode, body, headers: res.headers };
  };
  return {
    app,
    config,
    post: (url, payload) => postRaw(url, JSON.stringify(payload)),
    postRaw,
    close: () => app.close(),
  };
}

export interface TopicRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/** Reads a topic from the beginning until `until(records)` holds (or the timeout passes). */
export async function readTopic(
  brokers: string,
  topic: string,
  until: (records: TopicRecord[]) => boolean,
  timeoutMs = 30_000,
): Promise<TopicRecord[]> {
  const kafka = new Kafka({
    brokers: brokers.split(','),
    clientId: 'feedback-test-reader',
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}-${Math.random()}` });
  const records: TopicRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headers[k] = String(v);
        records.push({
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          headers,
          partition,
          offset: message.offset,
        });
        if (until(records)) resolveDone();
      },
    });
    const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([done, timer]);
  } finally {
    await consumer.disconnect();
  }
  return records;
}
