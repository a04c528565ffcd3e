/**
 * `npm run docs:routes`: rewrites the route table in the root README (between the route-scopes
 * markers) from the services' OpenAPI documents. The services run once each against the local
 * infrastructure (started by the launchers when it is not running, or KAFKA_BROKERS / MONGODB_URI).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraUp } from '@llmops/local-infra';
import { operationsOf, routeTableSection, SERVICES, withRouteTable } from './route-table';
import { collectServiceDocuments } from './service-documents';

const README = join(__dirname, '..', '..', '..', 'README.md');

async function main(): Promise<void> {
  const log = (line: string): void => console.log(`[docs:routes] ${line}`);
  const infra = await infraUp(process.env, log);
  log('reading every service OpenAPI document');
  const documents = await collectServiceDocuments(infra);
  const section = routeTableSection(documents);
  const operations = SERVICES.reduce((n, s) => n + operationsOf(s, documents[s]).length, 0);
  const before = readFileSync(README, 'utf8');
  const after = withRouteTable(before, section);
  if (after === before) {
    log('README.md: the route table is up to date');
  } else {
    writeFileSync(README, after);
    log(`README.md: route table rewritten (${operations} operations)`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
