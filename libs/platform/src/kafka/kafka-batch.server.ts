/**
 * The platform's Kafka transport for `@nestjs/microservices`: a custom transport strategy whose
 * engine is the BatchConsumer (eachBatch, commit after success, bounded retries, dead-lettering,
 * lag metrics, stall readiness).
 *
 * Handlers are controller methods declared with `@EventPattern(TOPICS.x)`: the pattern is the
 * topic's name without the deployment prefix. Each call gets one partition batch as its payload
 * and a KafkaBatchContext (topic, partition, offsets, attempt, headers). A handler returns nothing,
 * or `{ rejected }` to dead-letter records it judged bad in memory; an error it throws goes to the
 * BatchConsumer unchanged (classified as transient or deterministic), never through Nest's RPC
 * exception filter, which would replace it with a generic one.
 *
 * The consumer subscribes to the topics of the registered handlers, after creating `topics` when
 * missing, in `listen()`: `app.startAllMicroservices()` runs after the application's bootstrap
 * hooks (`runService`), so handlers may rely on whatever those loaded. `close()` finishes and
 * commits the batch in progress, then leaves the group.
 */
import { topicName } from '@llmops/contracts';
import { Catch, type RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, type CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { IHeaders, Kafka } from 'kafkajs';
import { isObservable, lastValueFrom, type Observable, throwError } from 'rxjs';
import {
  type BatchConsumerOptions,
  BatchConsumer,
  type BatchContext,
  type ConsumedMessage,
  type RejectedMessage,
} from './batch-consumer';
import { ensureTopics, type TopicSpec } from './topics';

export interface KafkaBatchServerOptions extends Omit<BatchConsumerOptions, 'topics' | 'handler'> {
  kafka: Kafka;
  /** The deployment's topic prefix; `@EventPattern`s name topics without it. */
  topicPrefix?: string;
  /** Created when missing before subscribing (so the broker never auto-creates one with 1 partition). */
  topics?: TopicSpec[];
  /**
   * For an application with more than one consumer (each its own group): this consumer serves only
   * the handlers declared `@EventPattern(topic, transportId)`. Nest gives every untagged handler to
   * every consumer, so then each consumer of the application needs its own id.
   */
  transportId?: symbol;
}

/** What an `@EventPattern` handler gets besides its batch of messages. */
export class KafkaBatchContext extends BaseRpcContext<[BatchContext, ConsumedMessage[]]> {
  getTopic(): string {
    return this.args[0].topic;
  }

  getPartition(): number {
    return this.args[0].partition;
  }

  getFirstOffset(): string {
    return this.args[0].firstOffset;
  }

  getLastOffset(): string {
    return this.args[0].lastOffset;
  }

  getHighWatermark(): string {
    return this.args[0].highWatermark;
  }

  /** How many times the consumer has joined its group (see `BatchContext.groupJoins`). */
  getGroupJoins(): number {
    return this.args[0].groupJoins;
  }

  /** 1 for the first try of this set of messages. */
  getAttempt(): number {
    return this.args[0].attempt;
  }

  /** The headers of each message of the batch, in offset order. */
  getHeaders(): IHeaders[] {
    return this.args[1].map((m) => m.headers);
  }
}

export type KafkaBatchHandlerResult = { rejected?: RejectedMessage[] } | void;

/** Hands a handler's own error to the transport (registered on the microservice by connectKafkaConsumer). */
@Catch()
export class RethrowHandlerErrors implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

export class KafkaBatchServer extends Server implements CustomTransportStrategy {
  private consumer?: BatchConsumer;

  constructor(private readonly options: KafkaBatchServerOptions) {
    super();
    if (options.transportId) this.setTransportId(options.transportId);
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.stop();
  }

  on(): never {
    throw new Error('KafkaBatchServer has no events to listen to');
  }

  /** The BatchConsumer while the transport runs (undefined before listen() and after close()). */
  unwrap<T = BatchConsumer | undefined>(): T {
    return this.consumer as T;
  }

  private async start(): Promise<void> {
    const {
      kafka,
      topicPrefix = '',
      topics = [],
      transportId: _transportId,
      ...consumerOptions
    } = this.options;
    const patternOf = new Map([...this.messageHandlers.keys()].map((p) => [topicName(p, topicPrefix), p]));
    if (patternOf.size === 0) return;
    // Nest chains a second handler of a pattern behind the first and merges their results, which
    // would hide a handler's `rejected` records: one handler per topic.
    const shared = [...this.messageHandlers]
      .filter(([, handler]) => handler.next)
      .map(([pattern]) => pattern);
    if (shared.length > 0)
      throw new Error(`more than one @EventPattern handler for topic(s) ${shared.join(', ')}`);
    await ensureTopics(kafka, topics);
    this.consumer = new BatchConsumer(kafka, {
      ...consumerOptions,
      topics: [...patternOf.keys()],
      handler: async (messages, batch) => {
        const handler = this.messageHandlers.get(patternOf.get(batch.topic) ?? '');
        if (!handler) throw new Error(`no @EventPattern handler for topic ${batch.topic}`);
        const result: unknown = await handler(messages, new KafkaBatchContext([batch, messages]));
        return (isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result) as
          KafkaBatchHandlerResult | undefined;
      },
    });
    await this.consumer.start();
  }
}
