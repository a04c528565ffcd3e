/**
 * What `npm start` runs: the six services, where they listen and the environment each one gets.
 * Pure functions of the environment, so their rules are tested without starting anything.
 */
import type { LocalSecrets } from './local-secrets';

export interface LocalService {
  name: 'identity' | 'registry' | 'assignment' | 'feedback' | 'analytics' | 'datasets';
  port: number;
  /** ANSI colour of its log prefix. */
  color: number;
  /** Node flags it runs with, as its image does (deploy/docker/Dockerfile). */
  nodeFlags?: string[];
}

type Env = Record<string, string | undefined>;

export function localServices(env: Env = process.env): LocalService[] {
  return [
    { name: 'identity', port: Number(env.IDENTITY_PORT ?? 3005), color: 31 },
    { name: 'registry', port: Number(env.REGISTRY_PORT ?? 3001), color: 36 },
    { name: 'assignment', port: Number(env.ASSIGNMENT_PORT ?? 3002), color: 35 },
    { name: 'feedback', port: Number(env.FEEDBACK_PORT ?? 3003), color: 33 },
    { name: 'analytics', port: Number(env.ANALYTICS_PORT ?? 3004), color: 32 },
    {
      name: 'datasets',
      port: Number(env.DATASETS_PORT ?? 3006),
      color: 94,
      nodeFlags: ['--optimize-for-size'],
    },
  ];
}

export interface LocalHosts {
  /** Where the services listen (`HOST`): loopback unless set, since /health and /metrics need no key. */
  bind: string;
  /** Where this machine reaches them: loopback for a wildcard bind. */
  connect: string;
  /** `connect` as written in a URL. */
  url: string;
  /** Whether only this machine can reach them. */
  loopback: boolean;
}

export function localHosts(env: Env = process.env): LocalHosts {
  const bind = env.HOST || '127.0.0.1';
  const connect = ['0.0.0.0', '::'].includes(bind) ? '127.0.0.1' : bind;
  return {
    bind,
    connect,
    url: connect.includes(':') ? `[${connect}]` : connect,
    loopback: bind === 'localhost' || bind === '::1' || bind.startsWith('127.'),
  };
}

/**
 * The environment of one service: the caller's, plus its port and bind address, the infrastructure,
 * the registry's URL and the key pepper. Only identity gets the admin key, which it stores at boot,
 * and only analytics the MLflow tracking server.
 */
export function serviceEnv(
  service: LocalService,
  options: {
    env: Env;
    hosts: LocalHosts;
    registryUrl: string;
    kafkaBrokers: string;
    mongoUri: string;
    /** The MLflow tracking server, for analytics' MLflow export (undefined: none). */
    mlflowTrackingUri?: string;
    secrets: LocalSecrets;
  },
): Env {
  const env: Env = {
    ...options.env,
    PORT: String(service.port),
    HOST: options.hosts.bind,
    KAFKA_BROKERS: options.kafkaBrokers,
    MONGODB_URI: options.mongoUri,
    REGISTRY_URL: options.registryUrl,
    LLMOPS_KEY_PEPPER: options.secrets.pepper.value,
  };
  if (service.name === 'identity') env.LLMOPS_ADMIN_KEY = options.secrets.adminKey.value;
  else delete env.LLMOPS_ADMIN_KEY;
  if (service.name === 'analytics' && options.mlflowTrackingUri)
    env.MLFLOW_TRACKING_URI = options.mlflowTrackingUri;
  else if (service.name !== 'analytics') delete env.MLFLOW_TRACKING_URI;
  return env;
}
