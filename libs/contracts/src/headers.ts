/**
 * Kafka record header names. Values are UTF-8 strings.
 *
 * Every record carries `content-type: application/cloudevents+json` (the value is a CloudEvents 1.0
 * structured-mode JSON envelope), `x-correlation-id` (propagated from the HTTP request that caused
 * it, or the envelope id when there is none) and, when a trace is active, a W3C `traceparent`.
 */
export const HEADER_CORRELATION_ID = 'x-correlation-id';
/** W3C Trace Context, e.g. `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`. */
export const HEADER_TRACEPARENT = 'traceparent';
/** W3C Trace Context vendor state, propagated as-is when present. */
export const HEADER_TRACESTATE = 'tracestate';
export const HEADER_CONTENT_TYPE = 'content-type';
/** Value of the `content-type` header: the record value is a structured-mode CloudEvent. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

export const TRACING_HEADERS = {
  correlationId: HEADER_CORRELATION_ID,
  traceparent: HEADER_TRACEPARENT,
  tracestate: HEADER_TRACESTATE,
  contentType: HEADER_CONTENT_TYPE,
} as const;

/*
 * Headers added to a record copied to `llmops.dead-letter.v1`. The DLQ record keeps the original key,
 * value and headers (so it can be replayed byte for byte) and adds these.
 */
/** Short description of the last failure (error class and message, truncated to 1 KiB). */
export const DLQ_HEADER_ERROR = 'x-dlq-error';
/** Full topic name the record was read from (including any prefix). */
export const DLQ_HEADER_ORIGINAL_TOPIC = 'x-dlq-original-topic';
/** Partition number, decimal string. */
export const DLQ_HEADER_ORIGINAL_PARTITION = 'x-dlq-original-partition';
/** Offset, decimal string. */
export const DLQ_HEADER_ORIGINAL_OFFSET = 'x-dlq-original-offset';
/** How many times processing was attempted before giving up, decimal string. */
export const DLQ_HEADER_ATTEMPTS = 'x-dlq-attempts';
/** Consumer group that failed to process the record. */
export const DLQ_HEADER_CONSUMER_GROUP = 'x-dlq-consumer-group';

export const DLQ_HEADERS = {
  error: DLQ_HEADER_ERROR,
  originalTopic: DLQ_HEADER_ORIGINAL_TOPIC,
  originalPartition: DLQ_HEADER_ORIGINAL_PARTITION,
  originalOffset: DLQ_HEADER_ORIGINAL_OFFSET,
  attempts: DLQ_HEADER_ATTEMPTS,
  consumerGroup: DLQ_HEADER_CONSUMER_GROUP,
} as const;
