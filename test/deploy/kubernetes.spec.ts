/**
 * Structural checks of deploy/k8s: every service has a Deployment and a Service with probes on
 * /health/*, resource requests and limits, config from the ConfigMap and the Secrets, an HPA, and
 * the consumer groups (analytics, datasets) never scale past the number of topic partitions. The key pepper and the
 * admin key come from the generated Secret llmops-auth, whose values never sit in the manifests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '@llmops/hashing';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
/* eslint-disable @nx/enforce-module-boundaries -- deployment manifests are checked against the
   services' own validated config schemas; nothing else of a service is imported here. */
import { analyticsConfigSchema } from '../../services/analytics/src/config/analytics.config';
import { assignmentConfigSchema } from '../../services/assignment/src/config/assignment.config';
import { datasetsConfigSchema } from '../../services/datasets/src/config/datasets.config';
import { feedbackConfigSchema } from '../../services/feedback/src/config/feedback.config';
import { identityConfigSchema } from '../../services/identity/src/config/identity.config';
import { registryConfigSchema } from '../../services/registry/src/config/registry.config';
/* eslint-enable @nx/enforce-module-boundaries */

const dir = join(__dirname, '..', '..', 'deploy', 'k8s');
const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  version: string;
};

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

interface SecretKeyRef {
  name: string;
  key: string;
  optional?: boolean;
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  ports: Array<{ name: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: SecretKeyRef } }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
}

const objects: K8sObject[] = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) =>
    parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => {
      if (d.errors.length > 0) throw new Error(`${f}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as K8sObject;
    }),
  );
const kustomization = parseAllDocuments(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'))[0].toJS() as {
  resources: string[];
  secretGenerator?: Array<{ name: string; envs?: string[]; literals?: string[]; files?: string[] }>;
};

/** The Secret kustomize generates from the operator's git-ignored auth.env. */
const AUTH_SECRET = 'llmops-auth';
const AUTH_ENV_EXAMPLE = readFileSync(join(dir, 'auth.env.example'), 'utf8');
/** What an operator puts in auth.env, for checking the services' config accepts the result. */
const operatorAuth: Record<string, string> = {
  LLMOPS_KEY_PEPPER: 'o'.repeat(43),
  LLMOPS_ADMIN_KEY: generateApiKey().key,
};

const find = (kind: string, name: string): K8sObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

const schemas: Record<string, z.ZodObject> = {
  identity: identityConfigSchema,
  registry: registryConfigSchema,
  assignment: assignmentConfigSchema,
  feedback: feedbackConfigSchema,
  analytics: analyticsConfigSchema,
  datasets: datasetsConfigSchema,
};

const configMap = find('ConfigMap', 'llmops-config')!;
const secret = find('Secret', 'llmops-mongodb')!;
/** Secrets beyond the shared one, per service. */
const ownSecrets: Record<string, string[]> = { feedback: ['llmops-feedback'] };

describe('kubernetes manifests', () => {
  it('every object is well-formed and listed in the kustomization', () => {
    for (const o of objects) {
      expect(o.apiVersion).toBeTruthy();
      expect(o.kind).toBeTruthy();
      expect(o.metadata?.name).toMatch(/^[a-z0-9-]+$/);
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(configMap).toBeDefined();
    expect(secret).toBeDefined();
  });

  describe.each(Object.entries(schemas))('%s', (name, schema) => {
    const deployment = find('Deployment', name)!;
    const podSpec = (deployment?.spec as { template: { spec: { containers: Container[] } } } | undefined)
      ?.template.spec;
    const container = podSpec?.containers[0];
    const defaultPort = schema.shape.PORT.parse(undefined);

    it('has a Deployment and a Service on the config default port', () => {
      expect(deployment).toBeDefined();
      expect(container?.ports[0].containerPort).toBe(defaultPort);
      const service = find('Service', name)!;
      const ports = (service.spec as { ports: Array<{ port: number; targetPort: string }> }).ports;
      expect(ports[0]).toMatchObject({ port: defaultPort, targetPort: 'http' });
      expect((service.spec as { selector: Record<string, string> }).selector).toEqual(
        (deployment.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels,
      );
    });

    it('runs the image of this version (package.json), which holds the built JavaScript', () => {
      expect(container?.image).toBe(`ghcr.io/llmops-platform/${name}:${version}`);
    });

    it('runs the built JavaScript with source maps, as the image does', () => {
      expect(container?.command).toEqual([
        'node',
        '--enable-source-maps',
        ...(name === 'datasets' ? ['--optimize-for-size'] : []),
        `dist/services/${name}/src/main.js`,
      ]);
    });

    it('probes /health/live and /health/ready', () => {
      expect(container?.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(container?.readinessProbe?.httpGet?.path).toBe('/health/ready');
    });

    it('sets resource requests and limits', () => {
      expect(container?.resources?.requests?.cpu).toBeTruthy();
      expect(container?.resources?.requests?.memory).toBeTruthy();
      expect(container?.resources?.limits?.cpu).toBeTruthy();
      expect(container?.resources?.limits?.memory).toBeTruthy();
    });

    it('takes config from the ConfigMap and secrets from the Secret, with names the service knows', () => {
      const own = (ownSecrets[name] ?? []).map((n) => find('Secret', n));
      expect(own.every(Boolean)).toBe(true);
      expect(container?.envFrom).toEqual([
        { configMapRef: { name: 'llmops-config' } },
        { secretRef: { name: 'llmops-mongodb' } },
        ...(ownSecrets[name] ?? []).map((n) => ({ secretRef: { name: n } })),
      ]);
      const env: Record<string, string> = {
        ...configMap.data,
        ...secret.stringData,
        ...Object.assign({}, ...own.map((o) => o?.stringData ?? {})),
        ...Object.fromEntries(
          (container?.env ?? []).map((e) => {
            const ref = e.valueFrom?.secretKeyRef;
            return [e.name, ref?.name === AUTH_SECRET ? operatorAuth[ref.key] : (e.value ?? '')];
          }),
        ),
      };
      const known = Object.keys(schema.shape);
      expect(Object.keys(env).filter((k) => !known.includes(k))).toEqual([]);
      // The image sets NODE_ENV=production (deploy/docker/Dockerfile), so the config must boot with it.
      const parsed = schema.safeParse({ NODE_ENV: 'production', ...env });
      expect(
        parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      ).toEqual([]);
      // Connection strings with credentials never sit in the ConfigMap.
      expect(Object.keys(configMap.data ?? {})).not.toContain('MONGODB_URI');
    });

    it('reads the key pepper from the Secret llmops-auth, and only identity reads the admin key', () => {
      const env = container?.env ?? [];
      expect(env).toContainEqual({
        name: 'LLMOPS_KEY_PEPPER',
        valueFrom: { secretKeyRef: { name: AUTH_SECRET, key: 'LLMOPS_KEY_PEPPER' } },
      });
      const adminKey = env.filter((e) => e.name === 'LLMOPS_ADMIN_KEY');
      expect(adminKey).toEqual(
        name === 'identity'
          ? [
              {
                name: 'LLMOPS_ADMIN_KEY',
                valueFrom: { secretKeyRef: { name: AUTH_SECRET, key: 'LLMOPS_ADMIN_KEY', optional: true } },
              },
            ]
          : [],
      );
      // Not through envFrom: that would hand the admin key to every service.
      expect((container?.envFrom ?? []).map((e) => e.secretRef?.name)).not.toContain(AUTH_SECRET);
    });

    it('has a HorizontalPodAutoscaler targeting it', () => {
      const hpa = find('HorizontalPodAutoscaler', name)!;
      expect(hpa).toBeDefined();
      const spec = hpa.spec as {
        scaleTargetRef: { kind: string; name: string };
        minReplicas: number;
        maxReplicas: number;
      };
      expect(spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
      expect(spec.minReplicas).toBeGreaterThanOrEqual(1);
      expect(spec.maxReplicas).toBeGreaterThanOrEqual(spec.minReplicas);
    });
  });

  it('generates the Secret llmops-auth from the git-ignored auth.env, whose example holds no value', () => {
    expect(kustomization.secretGenerator).toEqual([{ name: AUTH_SECRET, envs: ['auth.env'] }]);
    expect(() =>
      execFileSync('git', ['check-ignore', '--no-index', '-q', 'deploy/k8s/auth.env'], {
        cwd: join(dir, '..', '..'),
      }),
    ).not.toThrow();
    const example = AUTH_ENV_EXAMPLE.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(example).toEqual(['LLMOPS_KEY_PEPPER=', 'LLMOPS_ADMIN_KEY=']);
    // Every key a Deployment reads from the Secret is one the example asks for.
    const refs = objects
      .filter((o) => o.kind === 'Deployment')
      .flatMap(
        (o) => (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers,
      )
      .flatMap((c) => c.env ?? [])
      .map((e) => e.valueFrom?.secretKeyRef)
      .filter((r): r is SecretKeyRef => r?.name === AUTH_SECRET);
    expect([...new Set(refs.map((r) => `${r.key}=`))].sort()).toEqual([...example].sort());
  });

  it('holds no key or pepper: no API key anywhere, and neither variable as a literal value', () => {
    const texts = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    expect(texts.filter((t) => /llmk_[0-9a-f]{20}_/.test(t))).toEqual([]);
    const literal = objects.flatMap((o) => [
      ...Object.keys({ ...o.data, ...o.stringData }),
      ...(o.kind === 'Deployment'
        ? (o.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers
            .flatMap((c) => c.env ?? [])
            .filter((e) => e.value !== undefined)
            .map((e) => e.name)
        : []),
    ]);
    expect(literal.filter((name) => name in operatorAuth)).toEqual([]);
  });

  it('never turns authentication off (AUTH_ENABLED=false is for benchmarks only)', () => {
    const texts = readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'));
    expect(texts.filter((t) => t.includes('AUTH_ENABLED'))).toEqual([]);
  });

  it('exposes every service inside the cluster only (ClusterIP): /health and /metrics need no key', () => {
    const services = objects.filter((o) => o.kind === 'Service');
    expect(services.length).toBe(Object.keys(schemas).length);
    expect(
      services.filter((o) => ((o.spec as { type?: string }).type ?? 'ClusterIP') !== 'ClusterIP'),
    ).toEqual([]);
  });

  // kubectl's kustomize renders the manifests as `kubectl apply -k` would (skipped without kubectl).
  (spawnSync('kubectl', ['version', '--client']).status === 0 ? it : it.skip)(
    'renders with kubectl kustomize: every reference to llmops-auth names the generated Secret, and no auth.env stops it',
    () => {
      const copy = mkdtempSync(join(tmpdir(), 'llmops-k8s-'));
      try {
        cpSync(dir, copy, { recursive: true });
        rmSync(join(copy, 'auth.env'), { force: true });
        const render = (): ReturnType<typeof spawnSync> =>
          spawnSync('kubectl', ['kustomize', copy], { encoding: 'utf8' });
        const missing = render();
        expect(missing.status).not.toBe(0);
        expect(String(missing.stderr)).toContain('auth.env');
        writeFileSync(
          join(copy, 'auth.env'),
          Object.entries(operatorAuth)
            .map(([k, v]) => `${k}=${v}\n`)
            .join(''),
        );
        const rendered = render();
        expect(rendered.status).toBe(0);
        const names = [...String(rendered.stdout).matchAll(/name: (llmops-auth\S*)/g)].map((m) => m[1]);
        expect(new Set(names).size).toBe(1);
        expect(names[0]).toMatch(/^llmops-auth-[a-z0-9]+$/);
        // 1 Secret + the pepper in every Deployment + identity's admin key.
        expect(names).toHaveLength(1 + Object.keys(schemas).length + 1);
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    },
  );

  it('replaces the analytics replicas all at once: a version that changes stored documents never runs beside an older one', () => {
    expect((find('Deployment', 'analytics')!.spec as { strategy: { type: string } }).strategy).toEqual({
      type: 'Recreate',
    });
  });

  it('pins the feedback revision design, so replicas of different versions never mix designs during a roll', () => {
    const feedback = find('Deployment', 'feedback')!.spec as {
      template: { spec: { containers: Container[] } };
    };
    expect(feedback.template.spec.containers[0].env).toContainEqual({
      name: 'FEEDBACK_REVISION_STORE',
      value: 'paged',
    });
  });

  it.each(['analytics', 'datasets'])(
    'never scales the %s consumer group past the topic partitions',
    (name) => {
      const partitions = Number(configMap.data?.KAFKA_TOPIC_PARTITIONS);
      expect(partitions).toBeGreaterThanOrEqual(6);
      const hpa = find('HorizontalPodAutoscaler', name)!.spec as { maxReplicas: number };
      const deployment = find('Deployment', name)!.spec as { replicas: number };
      expect(hpa.maxReplicas).toBeLessThanOrEqual(partitions);
      expect(deployment.replicas).toBeLessThanOrEqual(partitions);
    },
  );

  it('runs every datasets replica in the one consumer group, pinned to its name', () => {
    const spec = find('Deployment', 'datasets')!.spec as { template: { spec: { containers: Container[] } } };
    const env = spec.template.spec.containers[0].env ?? [];
    expect(env).toContainEqual({ name: 'DATASETS_CONSUMER_GROUP', value: 'llmops-datasets' });
    // Materializing is not switched off in the Deployment: every replica is a member of the group.
    expect(env.map((e) => e.name)).not.toContain('DATASETS_CONSUMER_ENABLED');
    expect(datasetsConfigSchema.shape.DATASETS_CONSUMER_GROUP.parse(undefined)).toBe('llmops-datasets');
  });
});
