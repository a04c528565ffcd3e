import { DEFAULT_PROJECT } from '@llmops/contracts';
import { createServiceApp, KeyDirectory } from '@llmops/platform';
import { expectEventually, type IssuedTestKey, issueTestKey, TEST_KEY_PEPPER } from '@llmops/testing';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, feedbackAppOptions } from '../../src/app.module';
import { type FeedbackConfig, loadFeedbackConfig } from '../../src/config/feedback.config';
import { ExperimentDirectory } from '../../src/experiments/experiment-directory';
import { publishExperiments, type TestExperiment } from './experiments';

export interface InjectResult {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface FeedbackTestApp {
  app: NestFastifyApplication;
  config: FeedbackConfig;
  /** The app's default key: every scope, in project `default`. */
  key: IssuedTestKey;
  /**
   * Sends the default key unless `headers.authorization` is given (an empty one sends none).
   */
  post(url: string, payload: unknown, headers?: Record<string, string>): Promise<InjectResult>;
  /** Raw body (for malformed JSON and size tests). */
  postRaw(
    url: string,
    raw: string,
    contentType?: string,
    headers?: Record<string, string>,
  ): Promise<InjectResult>;
  /** Publishes experiments (a bare key is one of `default`) and waits until the app knows them. */
  addExperiments(experiments: readonly (string | TestExperiment)[]): Promise<void>;
  close(): Promise<void>;
}

export interface FeedbackTestOptions {
  /** Experiments the items of the test name (see `addExperiments`). */
  experiments?: readonly (string | TestExperiment)[];
}

/**
 * The service in-process, with its experiments consumer running, caught up with the experiments
 * topic, and a default key it has read.
 */
export async function startFeedbackApp(
  env: Record<string, string>,
  options: FeedbackTestOptions = {},
): Promise<FeedbackTestApp> {
  const config = loadFeedbackConfig({ LOG_LEVEL: 'warn', LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER, ...env });
  const infra = { kafkaBrokers: config.KAFKA_BROKERS.join(','), topicPrefix: config.KAFKA_TOPIC_PREFIX };
  // Before the app: the keys topic then exists, with its leader, when the app reads it.
  const key = await issueTestKey(infra);
  const app = await createServiceApp(AppModule.forRoot(config) as never, feedbackAppOptions(config));
  await app.init();
  await app.startAllMicroservices();
  const fastify = app.getHttpAdapter().getInstance();
  await fastify.ready();
  await app.get(KeyDirectory).waitFor(key.keyId);
  const directory = app.get(ExperimentDirectory);
  await expectEventually(async () => expect(await directory.catchUp()).toBe(true));

  const addExperiments = async (list: readonly (string | TestExperiment)[]): Promise<void> => {
    const experiments = list.map((e) => (typeof e === 'string' ? { key: e } : e));
    await publishExperiments(infra.kafkaBrokers, infra.topicPrefix, experiments);
    await expectEventually(() => {
      for (const e of experiments)
        expect([e, directory.has(e.project ?? DEFAULT_PROJECT, e.key)]).toEqual([e, true]);
    });
  };
  await addExperiments(options.experiments ?? []);

  const postRaw = async (
    url: string,
    raw: string,
    contentType = 'application/json',
    headers: Record<string, string> = {},
  ): Promise<InjectResult> => {
    const { authorization = key.header.authorization, ...rest } = headers;
    const res = await fastify.inject({
      method: 'POST',
      url,
      payload: raw,
      headers: { ...rest, ...(authorization ? { authorization } : {}), 'content-type': contentType },
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
    key,
    post: (url, payload, headers) => postRaw(url, JSON.stringify(payload), 'application/json', headers),
    postRaw,
    addExperiments,
    close: () => app.close(),
  };
}

/** Reads a topic from the beginning until `until(records)` holds (or the timeout passes). */
export { readTopicUntil as readTopic, type TopicRecord } from '@llmops/testing';
