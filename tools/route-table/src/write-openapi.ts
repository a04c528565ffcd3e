/**
 * `npm run docs:openapi`: writes `services/<name>/openapi.json` for every service, the document the
 * service serves at /docs-json. The services run once each against the local infrastructure
 * (started by the launchers when it is not running, or KAFKA_BROKERS / MONGODB_URI), as for
 * `npm run docs:routes`. Then `npm run sdk:types` regenerates the TypeScript SDK's types from them.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraUp } from '@llmops/local-infra';
import { formatAsFile } from './format-file';
import { openApiDocumentFile, openApiDocumentJson } from './openapi-documents';
import { SERVICES } from './route-table';
import { collectServiceDocuments } from './service-documents';

const ROOT = join(__dirname, '..', '..', '..');

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

async function main(): Promise<void> {
  const log = (line: string): void => console.log(`[docs:openapi] ${line}`);
  const infra = await infraUp(process.env, log);
  log('reading every service OpenAPI document');
  const documents = await collectServiceDocuments(infra);
  for (const service of SERVICES) {
    const file = openApiDocumentFile(service);
    const path = join(ROOT, file);
    const text = await formatAsFile(path, openApiDocumentJson(documents[service]));
    if (read(path) === text) {
      log(`${file}: up to date`);
    } else {
      writeFileSync(path, text);
      log(`${file}: written`);
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
