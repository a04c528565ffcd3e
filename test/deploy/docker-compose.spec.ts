/**
 * Docker cannot run on the project's CI machines, so this test keeps docker-compose.yml and the
 * Dockerfile honest: every service, port and environment variable must match the services'
 * validated config schemas, and every host:port a service is pointed at must exist in the file.
 * Secrets come only from the operator's environment, with no default, and every port is published
 * on the host's loopback only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateApiKey } from '@llmops/hashing';
import { parse } from 'yaml';
import { z } from 'zod';
/* eslint-disable @nx/enforce-module-boundaries -- deployment manifests are checked against the
   services' own validated config schemas; nothing else of a service is imported here. */
import { analyticsConfigSchema } from '../../services/analytics/src/config/analytics.config';
import { assignmentConfigSchema } from '../../services/assignment/src/config/assignment.config';
import { datasetsConfigSchema } from '../../services/datasets/src/config/datasets.config';
import { feedbackConfigSchema } from '../../services/feedback/src/config/feedback.config';
import { identityConfigSchema } from '../../services/identity/src/config/identity.config';
import { registryConfigSchema } from '../../services/registry/src/config/registry.config';
/* eslint-enable @nx/enforce-module-boundaries */

const root = join(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string; target?: string };
  ports?: string[];
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  command?: string[];
}

const composeText = readFileSync(join(root, 'docker-compose.yml'), 'utf8');
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, ComposeService>;
};
const dockerfile = readFileSync(join(root, 'deploy/docker/Dockerfile'), 'utf8');

/** The variables compose takes from the operator's environment, each required (`${VAR:?message}`). */
const SECRETS = ['LLMOPS_KEY_PEPPER', 'LLMOPS_ADMIN_KEY'];
/** What an operator might set them to, for checking the services' config accepts the result. */
const operatorEnv: Record<string, string> = {
  LLMOPS_KEY_PEPPER: 'o'.repeat(43),
  LLMOPS_ADMIN_KEY: generateApiKey().key,
};
const REQUIRED_VARIABLE = /\$\{(\w+):\?[^}]+\}/g;

const apps: Record<string, z.ZodObject> = {
  identity: identityConfigSchema,
  registry: registryConfigSchema,
  assignment: assignmentConfigSchema,
  feedback: feedbackConfigSchema,
  analytics: analyticsConfigSchema,
  datasets: datasetsConfigSchema,
};

/** A service's environment as written in the file (with `${VAR:?…}` references). */
function rawEnvOf(name: string): Record<string, string> {
  const env = compose.services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
}

/** A service's environment as compose hands it over, given the operator's variables. */
function envOf(name: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rawEnvOf(name)).map(([k, v]) => [
      k,
      v.replace(REQUIRED_VARIABLE, (_, n: string) => operatorEnv[n]),
    ]),
  );
}

function hostPort(value: string): { host: string; port: number } {
  const url = new URL(value.includes('://') ? value : `tcp://${value}`);
  return { host: url.hostname, port: Number(url.port) };
}

describe('docker-compose.yml', () => {
  it('runs Kafka (KRaft), MongoDB 7+, Prometheus, Grafana and the six services', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'analytics',
        'assignment',
        'datasets',
        'feedback',
        'grafana',
        'identity',
        'kafka',
        'mongodb',
        'prometheus',
        'registry',
      ].sort(),
    );
    expect(compose.services.kafka.image).toMatch(/^apache\/kafka:4\./);
    expect(envOf('kafka').KAFKA_PROCESS_ROLES).toBe('broker,controller');
    const mongoMajor = Number(/^mongo:(\d+)/.exec(compose.services.mongodb.image ?? '')?.[1]);
    expect(mongoMajor).toBeGreaterThanOrEqual(7);
    expect(compose.services.mongodb.ports).toContain('127.0.0.1:27017:27017');
    expect(compose.services.kafka.ports).toContain('127.0.0.1:9092:9092');
  });

  it("publishes every port on the host's loopback only (/health and /metrics need no key)", () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((port) => ({ name, port })),
    );
    expect(published.length).toBeGreaterThanOrEqual(10);
    expect(published.filter(({ port }) => !port.startsWith('127.0.0.1:'))).toEqual([]);
  });

  it('takes the pepper and the admin key from the operator, required and without a default', () => {
    // Every variable reference in the file is a required one: no `${VAR}` or `${VAR:-default}`.
    const references = composeText.match(/\$\{[^}]*\}/g) ?? [];
    expect(references.filter((r) => !new RegExp(REQUIRED_VARIABLE.source).test(r))).toEqual([]);
    expect([...new Set(references.map((r) => /\$\{(\w+)/.exec(r)![1]))].sort()).toEqual([...SECRETS].sort());
    for (const name of Object.keys(apps)) {
      expect({ name, pepper: rawEnvOf(name).LLMOPS_KEY_PEPPER }).toEqual({
        name,
        pepper: expect.stringMatching(/^\$\{LLMOPS_KEY_PEPPER:\?.+\}$/),
      });
      // Only identity stores the bootstrap key.
      expect({ name, adminKey: rawEnvOf(name).LLMOPS_ADMIN_KEY }).toEqual({
        name,
        adminKey: name === 'identity' ? expect.stringMatching(/^\$\{LLMOPS_ADMIN_KEY:\?.+\}$/) : undefined,
      });
    }
    // No key is written in the file, and the operator's .env file stays out of git.
    expect(composeText).not.toMatch(/llmk_[0-9a-f]{20}_/);
    expect(() =>
      execFileSync('git', ['check-ignore', '--no-index', '-q', '.env'], { cwd: root }),
    ).not.toThrow();
  });

  it('never turns authentication off (AUTH_ENABLED=false is for benchmarks only)', () => {
    expect(composeText).not.toContain('AUTH_ENABLED');
  });

  it('has Prometheus scrape every service at its port', () => {
    const config = parse(readFileSync(join(root, 'deploy/prometheus/prometheus.docker.yml'), 'utf8')) as {
      scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }>;
    };
    const targets = config.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targets.sort()).toEqual(
      Object.keys(apps)
        .map((name) => `${name}:${envOf(name).PORT}`)
        .sort(),
    );
  });

  describe.each(Object.entries(apps))('%s', (name, schema) => {
    const service = compose.services[name];
    const env = envOf(name);

    it('builds its own Dockerfile target, which exists and exposes the service port', () => {
      expect(service.build?.target).toBe(name);
      const stage = new RegExp(
        `FROM base AS ${name}\\nCOPY --from=build \\S+ \\S+\\nENV PORT=(\\d+)\\nEXPOSE (\\d+)\\nCMD \\[.*"dist/services/${name}/src/main\\.js"\\]`,
      );
      const match = stage.exec(dockerfile);
      expect(match).not.toBeNull();
      expect(Number(match![1])).toBe(Number(env.PORT));
      expect(Number(match![2])).toBe(Number(env.PORT));
    });

    it('sets only variables its config schema knows, with values the schema accepts', () => {
      const known = Object.keys(schema.shape);
      const unknown = Object.keys(env).filter((k) => !known.includes(k));
      expect(unknown).toEqual([]);
      // The image sets NODE_ENV=production (deploy/docker/Dockerfile), so the config must boot with it.
      const parsed = schema.safeParse({ NODE_ENV: 'production', ...env });
      expect(
        parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      ).toEqual([]);
    });

    it('publishes the schema default port as host:container', () => {
      const defaultPort = schema.shape.PORT.parse(undefined);
      expect(Number(env.PORT)).toBe(defaultPort);
      expect(service.ports).toEqual([`127.0.0.1:${defaultPort}:${defaultPort}`]);
    });

    it('points at Kafka and MongoDB addresses that exist in the file', () => {
      const kafka = hostPort(env.KAFKA_BROKERS);
      expect(compose.services[kafka.host]).toBeDefined();
      expect(envOf(kafka.host).KAFKA_LISTENERS).toContain(`://:${kafka.port}`);
      expect(envOf(kafka.host).KAFKA_ADVERTISED_LISTENERS).toContain(`${kafka.host}:${kafka.port}`);
      const mongo = hostPort(env.MONGODB_URI);
      expect(compose.services[mongo.host]?.image).toMatch(/^mongo:/);
      expect(mongo.port).toBe(27017);
    });

    it('points every *_URL variable at a service and port defined in the file', () => {
      for (const [key, value] of Object.entries(env).filter(([k]) => k.endsWith('_URL'))) {
        const target = hostPort(value);
        expect({ key, defined: compose.services[target.host] !== undefined }).toEqual({ key, defined: true });
        expect({ key, port: target.port }).toEqual({ key, port: Number(envOf(target.host).PORT) });
      }
    });
  });

  it('mounts only files and folders that exist in the repository', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0];
        if (!source.startsWith('./')) continue;
        expect({ name, source, exists: existsSync(join(root, source)) }).toEqual({
          name,
          source,
          exists: true,
        });
      }
    }
  });
});
