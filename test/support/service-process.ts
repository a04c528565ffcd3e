/**
 * The services as real processes (spawned by @llmops/testing's spawnService: from sources or from
 * the built output, with the test pepper), and the whole platform started for a test with the
 * operator's key known everywhere.
 */
import { DEFAULT_PROJECT } from '@llmops/contracts';
import { generateApiKey } from '@llmops/hashing';
import {
  expectEventually,
  type ServiceCode,
  type ServiceProcess,
  spawnService,
  type TestInfra,
} from '@llmops/testing';
import { httpJson } from './http';
import { type ApiKey, apiKey, IdentityClient, untilKeyKnown } from './keys';

export type { ServiceCode, ServiceProcess };

export function startServiceProcess(
  name: ServiceName,
  env: Record<string, string>,
  code: ServiceCode = 'source',
  /** Listen on this port (a restart keeps the service's URL); a free one when absent. */
  port?: number,
): Promise<ServiceProcess> {
  return spawnService(name, env, { code, port });
}

export { httpJson };

export const SERVICE_NAMES = [
  'registry',
  'assignment',
  'feedback',
  'analytics',
  'identity',
  'datasets',
] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** Where each service listens by default (`npm start`, the READMEs' examples). */
export const DEFAULT_PORTS: Record<ServiceName, number> = {
  registry: 3001,
  assignment: 3002,
  feedback: 3003,
  analytics: 3004,
  identity: 3005,
  datasets: 3006,
};

/** The six services as processes, and the operator's key identity was started with. */
export interface RunningPlatform {
  services: Map<ServiceName, ServiceProcess>;
  url(name: ServiceName): string;
  /**
   * Identity's `LLMOPS_ADMIN_KEY` (what `npm start` writes to `.local/dev-admin-key`): every scope
   * in project `default` plus `platform:admin`. Known to every service once startAllServices returns.
   */
  admin: ApiKey;
  /** Creates keys and projects through identity's HTTP API with `admin`. */
  identity: IdentityClient;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the six services against the test's own databases and topic prefix (assignment pointed
 * at the registry, every service with the test pepper, identity with a fresh `LLMOPS_ADMIN_KEY`),
 * waits until each one's /health/ready answers 200 and the admin key works everywhere. `extra` adds
 * environment variables per service; `code` chooses sources or built output.
 */
export async function startAllServices(
  infra: TestInfra,
  extra: Partial<Record<ServiceName, Record<string, string>>> = {},
  code: ServiceCode = 'source',
): Promise<RunningPlatform> {
  const generated = generateApiKey();
  const admin = apiKey(generated.key, DEFAULT_PROJECT);
  const common = {
    KAFKA_BROKERS: infra.kafkaBrokers,
    KAFKA_TOPIC_PREFIX: infra.topicPrefix,
    MONGODB_URI: infra.mongoBaseUri,
  };
  const envOf = (name: ServiceName, own: Record<string, string> = {}) => ({
    ...common,
    MONGODB_DB: `${infra.dbName}_${name}`,
    ...own,
    ...extra[name],
  });
  const services = new Map<ServiceName, ServiceProcess>();
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    await Promise.all([...services.values()].map((p) => p.stop(signal)));
  };
  const registry = await startServiceProcess(
    'registry',
    envOf('registry', { REGISTRY_PROMOTION_CONSUMER_GROUP: `${infra.id}-registry-promotion` }),
    code,
  );
  services.set('registry', registry);
  const rest = await Promise.all([
    startServiceProcess(
      'identity',
      envOf('identity', {
        LLMOPS_ADMIN_KEY: admin.key,
        IDENTITY_AUDIT_CONSUMER_GROUP: `${infra.id}-identity-audit`,
      }),
      code,
    ),
    startServiceProcess('assignment', envOf('assignment', { REGISTRY_URL: registry.url }), code),
    startServiceProcess('feedback', envOf('feedback'), code),
    startServiceProcess(
      'analytics',
      envOf('analytics', { ANALYTICS_CONSUMER_GROUP: `${infra.id}-analytics` }),
      code,
    ),
    startServiceProcess(
      'datasets',
      envOf('datasets', { DATASETS_CONSUMER_GROUP: `${infra.id}-datasets` }),
      code,
    ),
  ]);
  for (const s of rest) services.set(s.name as ServiceName, s);
  try {
    for (const s of services.values()) {
      await expectEventually(async () => expect((await httpJson(`${s.url}/health/ready`)).status).toBe(200), {
        timeoutMs: 90_000,
        intervalMs: 500,
      }).catch((err: Error) => {
        err.message += `\n--- ${s.name} output ---\n${s.output().slice(-4000)}`;
        throw err;
      });
    }
    await untilKeyKnown(services.values(), admin);
  } catch (err) {
    // The caller never gets the platform, so nothing else would stop the ones that did start.
    await stop('SIGKILL');
    throw err;
  }
  const url = (name: ServiceName) => services.get(name)!.url;
  return { services, url, admin, identity: new IdentityClient(url('identity'), admin, services), stop };
}
