/**
 * The pieces of `npm start` that carry security: the local secrets (created once, owner-only,
 * git-ignored, reused, validated), the environment each service gets (the pepper everywhere, the
 * admin key only in identity) and the bind address (loopback unless HOST says otherwise).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseApiKey } from '@llmops/hashing';
import {
  DEV_ADMIN_KEY_FILE,
  DEV_ADMIN_KEY_PATH,
  ensureLocalSecrets,
  KEY_PEPPER_FILE,
  LOCAL_DIR,
  localHosts,
  localServices,
  REPO_ROOT,
  serviceEnv,
} from '@llmops/local-infra';
/* eslint-disable @nx/enforce-module-boundaries -- the local ports are checked against the services'
   own validated config schemas; nothing else of a service is imported here. */
import { analyticsConfigSchema } from '../../services/analytics/src/config/analytics.config';
import { assignmentConfigSchema } from '../../services/assignment/src/config/assignment.config';
import { datasetsConfigSchema } from '../../services/datasets/src/config/datasets.config';
import { feedbackConfigSchema } from '../../services/feedback/src/config/feedback.config';
import { identityConfigSchema } from '../../services/identity/src/config/identity.config';
import { registryConfigSchema } from '../../services/registry/src/config/registry.config';
/* eslint-enable @nx/enforce-module-boundaries */

const PEPPER = 'p'.repeat(40);
const pick = (env: Record<string, string | undefined>, keys: string[]) =>
  Object.fromEntries(keys.map((k) => [k, env[k]]));
const ADMIN_KEY = 'llmk_0123456789abcdef0123_' + 'A'.repeat(43);

describe('npm start: local secrets', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'llmops-secrets-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a 32-byte pepper and an admin key on the first run, readable by their owner only', () => {
    const first = ensureLocalSecrets({}, dir);
    expect(first.pepper).toMatchObject({ source: 'created', path: join(dir, KEY_PEPPER_FILE) });
    expect(first.adminKey).toMatchObject({ source: 'created', path: join(dir, DEV_ADMIN_KEY_FILE) });
    expect(Buffer.from(first.pepper.value, 'base64url')).toHaveLength(32);
    expect(parseApiKey(first.adminKey.value)?.keyId).toBe(first.adminKey.keyId);
    for (const file of [KEY_PEPPER_FILE, DEV_ADMIN_KEY_FILE]) {
      expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    }
    expect(readFileSync(join(dir, DEV_ADMIN_KEY_FILE), 'utf8')).toBe(`${first.adminKey.value}\n`);
  });

  it('reuses both on later runs', () => {
    const first = ensureLocalSecrets({}, dir);
    const second = ensureLocalSecrets({}, dir);
    expect(second.pepper).toEqual({ ...first.pepper, source: 'file' });
    expect(second.adminKey).toEqual({ ...first.adminKey, source: 'file' });
  });

  it('takes LLMOPS_KEY_PEPPER and LLMOPS_ADMIN_KEY from the environment and writes nothing for them', () => {
    const secrets = ensureLocalSecrets({ LLMOPS_KEY_PEPPER: PEPPER, LLMOPS_ADMIN_KEY: ADMIN_KEY }, dir);
    expect(secrets.pepper).toEqual({ value: PEPPER, source: 'env' });
    expect(secrets.adminKey).toEqual({ value: ADMIN_KEY, source: 'env', keyId: '0123456789abcdef0123' });
    expect(() => statSync(join(dir, KEY_PEPPER_FILE))).toThrow();
    expect(() => statSync(join(dir, DEV_ADMIN_KEY_FILE))).toThrow();
  });

  it('refuses a damaged file or variable, says how to fix it, and never prints the value', () => {
    writeFileSync(join(dir, KEY_PEPPER_FILE), 'short-secret\n');
    expect(() => ensureLocalSecrets({}, dir)).toThrow(
      /key-pepper is not a pepper of at least 32 characters\. Delete it/,
    );
    writeFileSync(join(dir, KEY_PEPPER_FILE), `${PEPPER}\n`);
    writeFileSync(join(dir, DEV_ADMIN_KEY_FILE), 'llmk_not-a-key\n');
    expect(() => ensureLocalSecrets({}, dir)).toThrow(/dev-admin-key is not an API key llmk_/);
    const error = (() => {
      try {
        ensureLocalSecrets({ LLMOPS_ADMIN_KEY: 'llmk_leaked-but-malformed' }, dir);
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(error).toMatch(/^LLMOPS_ADMIN_KEY \(from the environment\) is not an API key/);
    expect(error).not.toContain('leaked');
  });

  it('keeps them in .local/, which git ignores', () => {
    expect(DEV_ADMIN_KEY_PATH).toBe(join(LOCAL_DIR, DEV_ADMIN_KEY_FILE));
    for (const file of [KEY_PEPPER_FILE, DEV_ADMIN_KEY_FILE]) {
      // Exit code 0: ignored (--no-index: whatever the index holds).
      expect(() =>
        execFileSync('git', ['check-ignore', '--no-index', '-q', join('.local', file)], { cwd: REPO_ROOT }),
      ).not.toThrow();
    }
  });
});

describe('npm start: services', () => {
  const secrets = ensureLocalSecrets({ LLMOPS_KEY_PEPPER: PEPPER, LLMOPS_ADMIN_KEY: ADMIN_KEY });
  const envOf = (name: string, env: Record<string, string | undefined> = {}) =>
    serviceEnv(
      localServices(env).find((s) => s.name === name)!,
      {
        env,
        hosts: localHosts(env),
        registryUrl: 'http://127.0.0.1:3001',
        kafkaBrokers: '127.0.0.1:9092',
        mongoUri: 'mongodb://127.0.0.1:27017',
        secrets,
      },
    );

  it('runs the six services on their config default ports', () => {
    const schemas = {
      identity: identityConfigSchema,
      registry: registryConfigSchema,
      assignment: assignmentConfigSchema,
      feedback: feedbackConfigSchema,
      analytics: analyticsConfigSchema,
      datasets: datasetsConfigSchema,
    };
    expect(Object.fromEntries(localServices({}).map((s) => [s.name, s.port]))).toEqual(
      Object.fromEntries(
        Object.entries(schemas).map(([name, schema]) => [name, schema.shape.PORT.parse(undefined)]),
      ),
    );
  });

  it('moves each port with its <SERVICE>_PORT variable', () => {
    const env = {
      IDENTITY_PORT: '4005',
      REGISTRY_PORT: '4001',
      ASSIGNMENT_PORT: '4002',
      FEEDBACK_PORT: '4003',
      ANALYTICS_PORT: '4004',
      DATASETS_PORT: '4006',
    };
    expect(Object.fromEntries(localServices(env).map((s) => [s.name, s.port]))).toEqual({
      identity: 4005,
      registry: 4001,
      assignment: 4002,
      feedback: 4003,
      analytics: 4004,
      datasets: 4006,
    });
    expect(envOf('datasets', env).PORT).toBe('4006');
  });

  it('points every service at the same Kafka, MongoDB and registry', () => {
    for (const { name } of localServices()) {
      expect({
        name,
        ...pick(envOf(name), ['KAFKA_BROKERS', 'MONGODB_URI', 'REGISTRY_URL', 'HOST']),
      }).toEqual({
        name,
        KAFKA_BROKERS: '127.0.0.1:9092',
        MONGODB_URI: 'mongodb://127.0.0.1:27017',
        REGISTRY_URL: 'http://127.0.0.1:3001',
        HOST: '127.0.0.1',
      });
    }
  });

  it('gives every service the pepper, and the admin key to identity only', () => {
    for (const { name } of localServices()) {
      const env = envOf(name, { LLMOPS_ADMIN_KEY: ADMIN_KEY });
      expect({ name, pepper: env.LLMOPS_KEY_PEPPER }).toEqual({ name, pepper: PEPPER });
      expect({ name, adminKey: env.LLMOPS_ADMIN_KEY }).toEqual({
        name,
        adminKey: name === 'identity' ? ADMIN_KEY : undefined,
      });
    }
  });

  it('gives the MLflow tracking server to analytics only', () => {
    for (const { name } of localServices()) {
      const env = serviceEnv(
        localServices().find((s) => s.name === name)!,
        {
          env: { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5999' },
          hosts: localHosts({}),
          registryUrl: 'http://127.0.0.1:3001',
          kafkaBrokers: '127.0.0.1:9092',
          mongoUri: 'mongodb://127.0.0.1:27017',
          mlflowTrackingUri: 'http://127.0.0.1:5000',
          secrets,
        },
      );
      expect({ name, mlflow: env.MLFLOW_TRACKING_URI }).toEqual({
        name,
        mlflow: name === 'analytics' ? 'http://127.0.0.1:5000' : undefined,
      });
    }
  });

  it('binds to 127.0.0.1 unless HOST says otherwise', () => {
    expect(envOf('registry').HOST).toBe('127.0.0.1');
    expect(localHosts({})).toEqual({
      bind: '127.0.0.1',
      connect: '127.0.0.1',
      url: '127.0.0.1',
      loopback: true,
    });
    expect(envOf('registry', { HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(localHosts({ HOST: '0.0.0.0' })).toEqual({
      bind: '0.0.0.0',
      connect: '127.0.0.1',
      url: '127.0.0.1',
      loopback: false,
    });
    expect(localHosts({ HOST: '::1' })).toEqual({
      bind: '::1',
      connect: '::1',
      url: '[::1]',
      loopback: true,
    });
  });
});
