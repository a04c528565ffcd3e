/**
 * The route table generator's pure parts: what it reads from OpenAPI documents, the table it
 * writes (as Prettier formats it, so `npm run lint` accepts the README), and the README section;
 * and how a committed OpenAPI document is compared with the one a service serves.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  OPENAPI_REGENERATE,
  openApiDocumentDrift,
  openApiDocumentFile,
  openApiDocumentJson,
  type OpenApiDocument,
  operationsOf,
  readmeRouteTable,
  routeTable,
  routeTableSection,
  SERVICES,
  type ServiceName,
  withRouteTable,
} from '@llmops/route-table';

const root = join(__dirname, '..', '..');

const declared = (scope: string, routeClass: string) => ({
  'x-llmops-scope': scope,
  'x-llmops-route-class': routeClass,
  responses: {},
});

function documents(extra: Partial<Record<ServiceName, OpenApiDocument>> = {}) {
  const empty = Object.fromEntries(SERVICES.map((s) => [s, { paths: {} }])) as Record<
    ServiceName,
    OpenApiDocument
  >;
  return {
    ...empty,
    registry: {
      paths: {
        '/v1/prompts/{name}/versions': {
          post: declared('prompts:write', 'write'),
          get: declared('prompts:read', 'read'),
          parameters: [],
        },
        '/v1/prompts': { get: declared('prompts:read', 'read') },
      },
    },
    identity: { paths: { '/v1/audit': { get: declared('admin', 'read') } } },
    ...extra,
  };
}

/** What Prettier makes of a markdown text (the repository's configuration, as for README.md). */
function prettier(text: string): string {
  const run = spawnSync(
    process.execPath,
    [join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--stdin-filepath', 'README.md'],
    { cwd: root, input: text, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(run.stderr);
  return run.stdout;
}

describe('route table', () => {
  it('reads every operation with its declared scope and rate-limit class, skipping non-operation keys', () => {
    const ops = operationsOf('registry', documents().registry);
    expect(ops.map((o) => [o.method, o.path, o.scope, o.routeClass])).toEqual([
      ['POST', '/v1/prompts/{name}/versions', 'prompts:write', 'write'],
      ['GET', '/v1/prompts/{name}/versions', 'prompts:read', 'read'],
      ['GET', '/v1/prompts', 'prompts:read', 'read'],
    ]);
  });

  it('lists services in port order, then paths and methods sorted, padded as Prettier aligns tables', () => {
    const table = routeTable(documents());
    expect(table.split('\n').map((l) => l.replace(/ +/g, ' '))).toEqual([
      '| Service | Method | Path | Scope | Rate-limit class |',
      '| -------- | ------ | ----------------------------- | --------------- | ---------------- |',
      '| registry | GET | `/v1/prompts` | `prompts:read` | read |',
      '| registry | GET | `/v1/prompts/{name}/versions` | `prompts:read` | read |',
      '| registry | POST | `/v1/prompts/{name}/versions` | `prompts:write` | write |',
      '| identity | GET | `/v1/audit` | `admin` | read |',
    ]);
    const section = routeTableSection(documents());
    expect(prettier(`${section}\n`)).toBe(`${section}\n`);
  });

  it('refuses to write an operation that declares no scope', () => {
    const undeclared = documents({ feedback: { paths: { '/v1/feedback': { post: { responses: {} } } } } });
    expect(() => routeTable(undeclared)).toThrow(/feedback POST \/v1\/feedback/);
  });

  it('replaces exactly what is between the README markers', () => {
    const readme = [
      '## Security',
      '',
      'Before.',
      '',
      '<!-- route-scopes:start -->',
      'old table',
      '<!-- route-scopes:end -->',
      '',
      'After.',
      '',
    ].join('\n');
    const updated = withRouteTable(readme, 'new table');
    expect(updated).toBe(readme.replace('old table', '\nnew table\n'));
    expect(readmeRouteTable(updated)).toBe('new table');
    expect(withRouteTable(updated, 'new table')).toBe(updated);
    expect(() => readmeRouteTable('## Security\n')).toThrow(/route-scopes:start/);
  });
});

describe('committed OpenAPI documents', () => {
  const served = {
    openapi: '3.1.0',
    paths: { '/v1/audit': { get: declared('admin', 'read') } },
    info: { title: 'identity', version: '1.0' },
  };

  it('lives beside the service and is 2-space JSON with a trailing newline, keys in their order', () => {
    expect(openApiDocumentFile('identity')).toBe('services/identity/openapi.json');
    expect(openApiDocumentJson({ b: [1], a: {} })).toBe('{\n  "b": [\n    1\n  ],\n  "a": {}\n}\n');
  });

  it('accepts the served document in any formatting (Prettier writes the committed file)', () => {
    expect(openApiDocumentDrift('identity', openApiDocumentJson(served), served)).toBeUndefined();
    expect(openApiDocumentDrift('identity', JSON.stringify(served), served)).toBeUndefined();
  });

  it('shows a changed value as a unified diff, with the command that updates the file', () => {
    const committed = openApiDocumentJson({ ...served, info: { title: 'identity', version: '0.9' } });
    const drift = openApiDocumentDrift('identity', committed, served)!;
    expect(drift).toContain(
      `services/identity/openapi.json differs from the document the identity service serves: run \`${OPENAPI_REGENERATE}\``,
    );
    expect(drift).toContain('--- services/identity/openapi.json (committed)');
    expect(drift).toContain('+++ identity /docs-json (served)');
    expect(drift).toContain('\n-    "version": "0.9"\n+    "version": "1.0"\n');
  });

  it('counts a different key order as a difference', () => {
    const { info, ...rest } = served;
    expect(openApiDocumentDrift('identity', openApiDocumentJson({ info, ...rest }), served)).toContain(
      'differs from the document',
    );
  });

  it('says when the file is missing or not JSON', () => {
    expect(openApiDocumentDrift('datasets', undefined, served)).toBe(
      `services/datasets/openapi.json does not exist: run \`${OPENAPI_REGENERATE}\` and commit the result`,
    );
    expect(openApiDocumentDrift('datasets', '{"openapi": ', served)).toMatch(
      /^services\/datasets\/openapi.json is not JSON \(.+\): run `npm run docs:openapi/,
    );
  });
});
