/**
 * API keys in cross-service tests, the way an operator and a calling service get them: projects and
 * keys are created through the identity service's HTTP API with the operator's key, and a key is
 * used once every service has read it from the keys topic.
 */
import type { Scope } from '@llmops/contracts';
import { parseApiKey } from '@llmops/hashing';
import { expectEventually } from '@llmops/testing';
import { httpJson } from './http';
import type { ServiceName, ServiceProcess } from './service-process';

export interface ApiKey {
  key: string;
  keyId: string;
  project: string;
  /** `{ authorization: 'Bearer <key>' }` */
  header: { authorization: string };
}

export function apiKey(key: string, project: string): ApiKey {
  const parts = parseApiKey(key);
  if (!parts) throw new Error('not an API key (llmk_<keyId>_<secret>)');
  return { key, keyId: parts.keyId, project, header: { authorization: `Bearer ${key}` } };
}

/**
 * A request each service authenticates before it reads anything: every answer but 401 means the
 * service knows the key (a key without the route's scope gets 403, which is fine here).
 */
export const KEY_PROBES: Record<ServiceName, { method: string; path: string }> = {
  registry: { method: 'GET', path: '/v1/prompts?limit=1' },
  assignment: { method: 'GET', path: '/v1/experiments?limit=1' },
  feedback: { method: 'POST', path: '/v1/feedback' },
  analytics: { method: 'GET', path: '/v1/feedback/unattributed?limit=1' },
  identity: { method: 'GET', path: '/v1/audit?limit=1' },
  datasets: { method: 'GET', path: '/v1/datasets' },
};

/** The status `service` answers its key probe with `key` (401: it does not accept the key). */
export async function probeKey(service: ServiceProcess, key: ApiKey): Promise<number> {
  const probe = KEY_PROBES[service.name as ServiceName];
  return (await httpJson(`${service.url}${probe.path}`, { method: probe.method, headers: key.header }))
    .status;
}

/** Waits until every one of `services` accepts `key` (keys reach them through Kafka). */
export async function untilKeyKnown(services: Iterable<ServiceProcess>, key: ApiKey): Promise<void> {
  await Promise.all(
    [...services].map((s) =>
      expectEventually(
        async () =>
          expect({ service: s.name, status: await probeKey(s, key) }).not.toEqual({
            service: s.name,
            status: 401,
          }),
        { timeoutMs: 30_000, intervalMs: 100 },
      ),
    ),
  );
}

export interface KeyRequest {
  name: string;
  scopes: readonly Scope[];
  aliases?: string[];
  expiresAt?: string;
}

/** Identity's project and key API, called with `admin` (a `platform:admin` key). */
export class IdentityClient {
  constructor(
    readonly url: string,
    private readonly admin: ApiKey,
    private readonly services: ReadonlyMap<ServiceName, ServiceProcess>,
  ) {}

  async createProject(id: string, name = id): Promise<void> {
    await this.send('POST', '/v1/projects', 201, { id, name });
  }

  /** Creates a key and waits until every service accepts it (`wait: false`: returns at the 201). */
  async createKey(project: string, request: KeyRequest, { wait = true } = {}): Promise<ApiKey> {
    const created = (await this.send('POST', `/v1/projects/${project}/keys`, 201, request)) as {
      key: string;
      project: string;
    };
    const key = apiKey(created.key, created.project);
    if (wait) await untilKeyKnown(this.services.values(), key);
    return key;
  }

  /** Revokes the key; resolves at identity's 204 (the revocation is on the keys topic then). */
  async revokeKey(key: ApiKey): Promise<void> {
    await this.send('DELETE', `/v1/projects/${key.project}/keys/${key.keyId}`, 204);
  }

  private async send(method: string, path: string, expected: number, body?: unknown): Promise<unknown> {
    const res = await httpJson(`${this.url}${path}`, {
      method,
      headers: {
        ...this.admin.header,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (res.status !== expected) {
      throw new Error(`identity ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }
}
