/**
 * The committed OpenAPI documents: `services/<name>/openapi.json` holds the document the service
 * serves at /docs-json, with its keys in the order the service emits them, formatted by the
 * repository's Prettier configuration (2 spaces, trailing newline) so that `npm run lint` accepts
 * it. `npm run docs:openapi` writes them, the route matrix test fails when a running service serves
 * another document, and `npm run sdk:types` generates the TypeScript SDK's types from them.
 */
import { createTwoFilesPatch } from 'diff';
import type { ServiceName } from './route-table';

/** What brings the committed documents and the types generated from them up to date. */
export const OPENAPI_REGENERATE = 'npm run docs:openapi && npm run sdk:types';

/** The committed document of a service, relative to the repository root. */
export function openApiDocumentFile(service: ServiceName): string {
  return `services/${service}/openapi.json`;
}

/**
 * A document as compared: JSON with 2 spaces, keys in their order. Formatting apart, it is what the
 * committed file holds, so a changed key order is a difference too.
 */
export function openApiDocumentJson(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

/**
 * Undefined when `committed` (the committed file's text, undefined when there is none) holds the
 * document the service serves; otherwise what differs, as a unified diff from the committed document
 * to the served one, and the command that brings the file up to date.
 */
export function openApiDocumentDrift(
  service: ServiceName,
  committed: string | undefined,
  served: unknown,
): string | undefined {
  const file = openApiDocumentFile(service);
  const fix = `run \`${OPENAPI_REGENERATE}\` and commit the result`;
  if (committed === undefined) return `${file} does not exist: ${fix}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(committed);
  } catch (err) {
    return `${file} is not JSON (${(err as Error).message}): ${fix}`;
  }
  const before = openApiDocumentJson(parsed);
  const after = openApiDocumentJson(served);
  if (before === after) return undefined;
  const diff = createTwoFilesPatch(`${file} (committed)`, `${service} /docs-json (served)`, before, after);
  return `${file} differs from the document the ${service} service serves: ${fix}\n${diff}`;
}
