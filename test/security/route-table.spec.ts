/**
 * The route table generator's pure parts: what it reads from OpenAPI documents, the table it
 * writes (as Prettier formats it, so `npm run lint` accepts the README), and the README section.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
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
