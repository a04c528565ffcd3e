/**
 * Why a consumer's handler failed decides what the consumer does next:
 *
 * - `transient`: a dependency is unavailable (MongoDB or Kafka unreachable, timing out, electing a
 *   primary, or a write conflict that a retry on fresh state resolves). Waiting fixes it, and the
 *   record is good: retried with capped backoff for as long as the consumer runs, never
 *   dead-lettered.
 * - `deterministic`: anything else (a stack overflow, a non-finite value, a document over the size
 *   limit, a write the database rejects as invalid, a TypeError in handler code). Retrying the same
 *   input fails the same way, so the record that causes it is isolated and dead-lettered.
 *
 * Unknown errors count as deterministic on purpose: a wrong guess costs one record on the
 * dead-letter topic (replayable), whereas calling poison transient stalls the partition forever.
 */
import type { ConsumedMessage } from './batch-consumer';

export type FailureKind = 'transient' | 'deterministic';

/**
 * Thrown by a handler that knows which record it cannot apply: the consumer dead-letters that record
 * at once, with this error as its cause, and applies the rest of the batch without it.
 */
export class PoisonRecordError extends Error {
  override name = 'PoisonRecordError';

  constructor(
    readonly record: ConsumedMessage,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** MongoDB driver and mongoose errors that mean "the database is not reachable right now". */
const TRANSIENT_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
  'MongoOperationTimeoutError',
  'MongoServerClosedError',
  // kafkajs: the broker is unreachable or slow (the DLQ producer, or a handler that produces).
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);

/** Labels the MongoDB driver puts on errors that a retry can fix. */
const TRANSIENT_LABELS = [
  'RetryableWriteError',
  'ResetPool',
  'TransientTransactionError',
  'PoolRequestedRetry',
];

/**
 * Server error codes of the retryable-writes specification (network, shutdown, elections), plus
 * ExceededTimeLimit / MaxTimeMSExpired, the server's own WriteConflict, LockTimeout (24),
 * CursorNotFound (43: a cursor killed under a long read) and NetworkInterfaceExceededTimeLimit (202).
 */
const TRANSIENT_CODES = new Set([
  6, 7, 24, 43, 50, 89, 91, 112, 189, 202, 262, 9001, 10107, 11600, 11602, 13435, 13436,
]);

/** Node socket errors. */
const TRANSIENT_SYSCALL_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  transient?: unknown;
  retriable?: unknown;
  errorLabels?: unknown;
  writeErrors?: unknown;
  cause?: unknown;
  originalError?: unknown;
}

/**
 * Classifies a handler failure. An error (or any error in its `cause` chain) may also say so
 * itself with `transient: true`, e.g. a write conflict that the next attempt resolves on fresh state.
 */
export function classifyFailure(err: unknown): FailureKind {
  return isTransient(err, 0) ? 'transient' : 'deterministic';
}

function isTransient(err: unknown, depth: number): boolean {
  if (depth > 5 || err === null || typeof err !== 'object') return false;
  if (err instanceof PoisonRecordError) return false;
  const e = err as ErrorLike;
  if (e.transient === true) return true;
  if (typeof e.name === 'string') {
    if (TRANSIENT_NAMES.has(e.name)) return true;
    // kafkajs marks protocol errors a retry can fix (leader moved, coordinator loading).
    if (e.name.startsWith('KafkaJS') && e.retriable === true) return true;
  }
  if (Array.isArray(e.errorLabels) && e.errorLabels.some((l) => TRANSIENT_LABELS.includes(String(l)))) {
    return true;
  }
  if (typeof e.code === 'number' && TRANSIENT_CODES.has(e.code)) return true;
  if (typeof e.code === 'string' && TRANSIENT_SYSCALL_CODES.has(e.code)) return true;
  // A bulk write whose every failed write is transient (a single invalid document makes it poison).
  if (Array.isArray(e.writeErrors) && e.writeErrors.length > 0) {
    return e.writeErrors.every((w: unknown) => {
      const code = (w as { code?: unknown } | null)?.code;
      return typeof code === 'number' && TRANSIENT_CODES.has(code);
    });
  }
  return isTransient(e.cause, depth + 1) || isTransient(e.originalError, depth + 1);
}

/** `Name: message` of an error, as the dead-letter header carries it. */
export function describeFailure(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
