/**
 * Config validated once at boot. Every bad variable is reported in one error so an operator
 * fixes them all in one go; the result is a typed, frozen object. Libs never read process.env:
 * each service's `config/<svc>.config.ts` calls `loadConfig` with its schema.
 */
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'ConfigError';
  }
}

export type EnvSource = Record<string, string | undefined>;

export function loadConfig<S extends z.ZodType>(schema: S, env: EnvSource): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = issue.path.join('.') || '(root)';
      const raw = issue.path.length === 1 ? env[String(issue.path[0])] : undefined;
      const shown = raw === undefined ? 'unset' : `"${raw}"`;
      return `${variable}: ${issue.message} (got ${shown})`;
    });
    throw new ConfigError(problems);
  }
  return Object.freeze(result.data) as Readonly<z.infer<S>>;
}

/** Env-var parsers that give messages an operator can act on. */
export const env = {
  port: (fallback: number) =>
    z.coerce
      .number({ error: 'expected a TCP port number' })
      .int('expected an integer TCP port')
      .min(1, 'expected a TCP port 1-65535')
      .max(65535, 'expected a TCP port 1-65535')
      .default(fallback),
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce
      .number({ error: 'expected an integer' })
      .int('expected an integer')
      .min(min, `expected an integer >= ${min}`)
      .max(max, `expected an integer <= ${max}`)
      .default(fallback),
  number: (fallback: number, min = -Infinity, max = Infinity) =>
    z.coerce
      .number({ error: 'expected a number' })
      .min(min, `expected a number >= ${min}`)
      .max(max, `expected a number <= ${max}`)
      .default(fallback),
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  string: (fallback: string) => z.string().min(1, 'must not be empty').default(fallback),
  brokers: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((v) => v.split(',').every((b) => /^[^:\s]+:\d{1,5}$/.test(b.trim())), {
        message: 'expected comma-separated host:port pairs',
      })
      .transform((v) => v.split(',').map((b) => b.trim())),
  mongoUri: (fallback: string) =>
    z
      .string()
      .default(fallback)
      .refine((v) => /^mongodb(\+srv)?:\/\//.test(v), {
        message: 'expected a mongodb:// or mongodb+srv:// URI',
      }),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  topicPrefix: () =>
    z
      .string()
      .regex(/^[a-zA-Z0-9._-]*$/, 'expected letters, digits, ".", "_" or "-"')
      .max(64, 'expected at most 64 characters')
      .default(''),
};

/** Settings every service shares; each service extends this schema with its own. */
export function baseServiceConfig(defaultPort: number, serviceName: string) {
  return z.object({
    PORT: env.port(defaultPort),
    HOST: env.string('0.0.0.0'),
    SERVICE_NAME: env.string(serviceName),
    LOG_LEVEL: env.logLevel(),
    KAFKA_BROKERS: env.brokers('127.0.0.1:9092'),
    KAFKA_CLIENT_ID: env.string(`llmops-${serviceName}`),
    KAFKA_TOPIC_PREFIX: env.topicPrefix(),
    KAFKA_TOPIC_PARTITIONS: env.int(6, 1, 1000),
    KAFKA_PRODUCER_BATCH_SIZE: env.int(500, 1, 100_000),
    KAFKA_PRODUCER_LINGER_MS: env.int(5, 0, 10_000),
    KAFKA_PRODUCER_SEND_TIMEOUT_MS: env.int(10_000, 100, 600_000),
    /** A consumer with lag that has committed nothing for this long is reported stalled (503 readiness). */
    KAFKA_CONSUMER_STALL_SECONDS: env.int(120, 1, 86_400),
    MONGODB_URI: env.mongoUri('mongodb://127.0.0.1:27017'),
    MONGODB_DB: env.string(`llmops_${serviceName}`),
    /** Deadline of one request-path MongoDB operation (server selection, checkout, socket, maxTimeMS). */
    MONGODB_OPERATION_TIMEOUT_MS: env.int(1_500, 50, 600_000),
    /** Pause between two background readiness probe rounds (/health/ready answers from their results). */
    HEALTH_PROBE_INTERVAL_MS: env.int(2_000, 100, 600_000),
    /** Longest wait for one readiness check; a slower check is reported down. */
    HEALTH_PROBE_TIMEOUT_MS: env.int(1_500, 50, 600_000),
    SHUTDOWN_TIMEOUT_MS: env.int(15_000, 0, 600_000),
    // Deepest nesting of arrays and objects accepted in a JSON request body (json-body.ts).
    HTTP_JSON_MAX_DEPTH: env.int(64, 1, 1_000),
    /**
     * Server-side pepper of API key hashes (HMAC-SHA-256), the same in every service; at least 32
     * characters. Required unless AUTH_ENABLED=false.
     */
    LLMOPS_KEY_PEPPER: z.string().min(32, 'expected at least 32 characters').optional(),
    /** Benchmarks only: false serves every request as a key with every scope in `default`. */
    AUTH_ENABLED: env.bool(true),
    /** Rate limits: requests per key and route class in one window, per replica (README, "Rate limits"). */
    RATE_LIMIT_WINDOW_MS: env.int(1_000, 100, 3_600_000),
    RATE_LIMIT_ASSIGN: env.int(10_000, 1, 10_000_000),
    RATE_LIMIT_INGEST: env.int(5_000, 1, 10_000_000),
    RATE_LIMIT_WRITE: env.int(100, 1, 10_000_000),
    RATE_LIMIT_READ: env.int(1_000, 1, 10_000_000),
  });
}

export type BaseServiceConfig = z.infer<ReturnType<typeof baseServiceConfig>>;
