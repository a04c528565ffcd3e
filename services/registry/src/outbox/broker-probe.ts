/**
 * Is the broker reachable right now? The outbox publisher asks before every send and after a failed
 * one: a send started while the broker is down can outlive the producer's timeout inside the
 * client's retries and still be delivered when the broker returns, after the publisher has given up
 * on it and queued a second copy. Probing first keeps sends out of outages, so the usual outage
 * gives no duplicates; the remaining race (the broker dies mid-send) is covered by deterministic
 * event ids. The probe is a metadata round trip through the producing client itself, so it asks
 * exactly the connections a send would use.
 */
import { BatchingProducer } from '@llmops/platform';
import { Injectable } from '@nestjs/common';

@Injectable()
export class BrokerProbe {
  constructor(private readonly producer: BatchingProducer) {}

  /** Resolves when the brokers answer a metadata request for `topics`; rejects otherwise. */
  check(topics: string[]): Promise<void> {
    return this.producer.probe(topics);
  }
}
