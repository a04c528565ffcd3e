/**
 * The route table: every operation of every service's OpenAPI document with the scope a key needs
 * and the rate-limit class it draws from, read from the `x-llmops-scope` / `x-llmops-route-class`
 * extensions that the platform's route declarations (`@Authorize`, `DirectRoute.auth`) write. The
 * root README holds it between two markers; `npm run docs:routes` rewrites it and the route matrix
 * test fails when the README differs from what the code declares.
 */
export const SERVICES = ['registry', 'assignment', 'feedback', 'analytics', 'identity', 'datasets'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** What the route table reads of an OpenAPI 3 document. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
}

export const SCOPE_EXTENSION = 'x-llmops-scope';
export const ROUTE_CLASS_EXTENSION = 'x-llmops-route-class';
export const ROUTE_TABLE_START = '<!-- route-scopes:start -->';
export const ROUTE_TABLE_END = '<!-- route-scopes:end -->';

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

export interface RouteOperation {
  service: ServiceName;
  /** Upper case, e.g. `POST`. */
  method: string;
  /** The OpenAPI path template, e.g. `/v1/prompts/{name}/versions`. */
  path: string;
  /** Undefined when the operation does not carry the extension (an undeclared route). */
  scope: string | undefined;
  routeClass: string | undefined;
  /** The operation object as the document holds it. */
  operation: Record<string, unknown>;
}

/** Every operation of a document, in the document's order. */
export function operationsOf(service: ServiceName, doc: OpenApiDocument): RouteOperation[] {
  const operations: RouteOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, value] of Object.entries(item)) {
      if (!HTTP_METHODS.has(method)) continue;
      const operation = value as Record<string, unknown>;
      const text = (key: string) =>
        typeof operation[key] === 'string' ? (operation[key] as string) : undefined;
      operations.push({
        service,
        method: method.toUpperCase(),
        path,
        scope: text(SCOPE_EXTENSION),
        routeClass: text(ROUTE_CLASS_EXTENSION),
        operation,
      });
    }
  }
  return operations;
}

/** `METHOD path`, the name an operation has in messages and fixtures. */
export function operationName(op: Pick<RouteOperation, 'method' | 'path'>): string {
  return `${op.method} ${op.path}`;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The markdown table: services in port order, then paths and methods sorted. Columns are padded the
 * way Prettier aligns a markdown table, so the README stays as `npm run lint` wants it.
 */
export function routeTable(documents: Record<ServiceName, OpenApiDocument>): string {
  const operations = SERVICES.flatMap((service) =>
    operationsOf(service, documents[service]).sort((a, b) =>
      a.path === b.path ? compare(a.method, b.method) : compare(a.path, b.path),
    ),
  );
  const undeclared = operations.filter((r) => !r.scope || !r.routeClass);
  if (undeclared.length > 0) {
    throw new Error(
      `operations without a scope or rate-limit class (declare them with @Authorize or DirectRoute.auth): ${undeclared
        .map((r) => `${r.service} ${operationName(r)}`)
        .join(', ')}`,
    );
  }
  const rows = [
    ['Service', 'Method', 'Path', 'Scope', 'Rate-limit class'],
    ...operations.map((r) => [r.service, r.method, `\`${r.path}\``, `\`${r.scope}\``, `${r.routeClass}`]),
  ];
  const widths = rows[0].map((_, i) => Math.max(3, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)].join('\n');
}

/** What the README holds between the markers: how the table is made, and the table. */
export function routeTableSection(documents: Record<ServiceName, OpenApiDocument>): string {
  return [
    'Every operation of every service, the scope its API key needs and the per-key rate-limit class it',
    "draws from, generated from the services' OpenAPI documents by `npm run docs:routes` (do not edit it",
    'by hand: the route matrix test, [`test/security`](test/security), fails when it differs from the',
    'code). `/health/*`, `/metrics` and `/docs` need no key.',
    '',
    routeTable(documents),
  ].join('\n');
}

function markerIndexes(readme: string): { start: number; end: number } {
  const start = readme.indexOf(ROUTE_TABLE_START);
  const end = readme.indexOf(ROUTE_TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(
      `the README has no route table section: add "${ROUTE_TABLE_START}" and "${ROUTE_TABLE_END}" (in that order) to its Security section`,
    );
  }
  return { start: start + ROUTE_TABLE_START.length, end };
}

/** What the README holds between the markers. */
export function readmeRouteTable(readme: string): string {
  const { start, end } = markerIndexes(readme);
  return readme.slice(start, end).trim();
}

/** The README with `section` between the markers (blank lines around it, as Prettier keeps them). */
export function withRouteTable(readme: string, section: string): string {
  const { start, end } = markerIndexes(readme);
  return `${readme.slice(0, start)}\n\n${section}\n\n${readme.slice(end)}`;
}
