import { createServiceApp } from '@llmops/platform';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
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
  post(url: string, payload: unknown, headers?: Record<string, string>): Promise<InjectResult>;
  /** Raw body (for malformed JSON and size tests). */
  postRaw(
    url: string,
    raw: string,
    contentType?: string,
    headers?: Record<string, string>,
  ): Promise<InjectResult>;
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
    headers: Record<string, string> = {},
  ): Promise<InjectResult> => {
    const res = await fastify.inject({
      method: 'POST',
      url,
      payload: raw,
      headers: { ...headers, 'content-type': contentType },
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
    post: (url, payload, headers) => postRaw(url, JSON.stringify(payload), 'application/json', headers),
    postRaw,
    close: () => app.close(),
  };
}

/** Reads a topic from the beginning until `until(records)` holds (or the timeout passes). */
export { readTopicUntil as readTopic, type TopicRecord } from '@llmops/testing';
