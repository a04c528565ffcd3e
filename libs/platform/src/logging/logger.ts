import pino, { type Logger, type LoggerOptions } from 'pino';
import { currentContext } from './context';

export type { Logger } from 'pino';

/**
 * Structured JSON logs. Every line inside a request or consumed event carries its
 * correlationId and traceparent (mixin reads the async context).
 */
export function createLogger(service: string, level: LoggerOptions['level'] = 'info'): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin() {
      const ctx = currentContext();
      return ctx ? { correlationId: ctx.correlationId, traceparent: ctx.traceparent } : {};
    },
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], remove: true },
  });
}
