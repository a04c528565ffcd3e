/**
 * What a suite of the analytics service drives: the analytics topics of its namespace, a producer
 * to them, and the service consuming them as the group `analytics-<namespace>`.
 */
import { expectEventually, type TestInfra } from '@llmops/testing';
import type { Kafka, Producer } from 'kafkajs';
import { inject, startApp, type TestApp } from './app';
import { connectProducer, createTopics, groupLag, produce, type Produced } from './scenario';

export interface AnalyticsFixtureOptions {
  /** Partitions of each topic (default 6). */
  partitions?: number;
  /** The service's environment beyond `serviceEnv`; `null` starts no service (see `startApp`). */
  env?: Record<string, string> | null;
}

export interface SettleOptions {
  /** The consumer group (default: the fixture's). */
  group?: string;
  timeoutMs?: number;
  intervalMs?: number;
}

export class AnalyticsFixture {
  private current?: TestApp;

  private constructor(
    readonly infra: TestInfra,
    readonly kafka: Kafka,
    readonly producer: Producer,
    readonly groupId: string,
  ) {}

  /** Creates the topics, connects the producer and, unless `env` is `null`, starts the service. */
  static async start(infra: TestInfra, options: AnalyticsFixtureOptions = {}): Promise<AnalyticsFixture> {
    const { kafka, producer } = await connectProducer(infra.kafkaBrokers);
    await createTopics(kafka, infra.topicPrefix, options.partitions);
    const fixture = new AnalyticsFixture(infra, kafka, producer, `analytics-${infra.id}`);
    if (options.env !== null) await fixture.startApp(options.env);
    return fixture;
  }

  /** The running service. */
  get app(): TestApp {
    if (!this.current) throw new Error('the analytics service is not running (startApp first)');
    return this.current;
  }

  /** Starts the service consuming as the fixture's group (after `stopApp`: a restart). */
  async startApp(env: Record<string, string> = {}): Promise<TestApp> {
    this.current = await startApp(this.infra, this.groupId, env);
    return this.current;
  }

  /** Stops the service gracefully (SIGTERM). */
  async stopApp(): Promise<void> {
    const app = this.current;
    this.current = undefined;
    await app?.close();
  }

  /** GET `url` from the running service with the default key (or `headers` instead). */
  inject(url: string, headers?: Record<string, string>): ReturnType<typeof inject> {
    return inject(this.app, url, headers);
  }

  /** Sends `events` to their topics, in order. */
  produce(events: Produced[], chunk?: number): Promise<void> {
    return produce(this.producer, this.infra.topicPrefix, events, chunk);
  }

  /** The group's lag over the analytics topics (0: everything produced is consumed and committed). */
  lag(group = this.groupId): Promise<number> {
    return groupLag(this.kafka, group, this.infra.topicPrefix);
  }

  /** Waits until the group has consumed everything produced; on a timeout, prints the end of the service's output. */
  async settle({ group, timeoutMs = 60_000, intervalMs = 300 }: SettleOptions = {}): Promise<void> {
    try {
      await expectEventually(async () => expect(await this.lag(group)).toBe(0), { timeoutMs, intervalMs });
    } catch (err) {
      if (this.current) console.log(this.current.process.output().slice(-10_000));
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.stopApp();
    await this.producer.disconnect();
  }
}
