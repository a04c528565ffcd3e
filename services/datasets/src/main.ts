import 'reflect-metadata';
import { ConfigError, createServiceApp, runService } from '@llmops/platform';
import { AppModule, datasetsAppOptions } from './app.module';
import { loadDatasetsConfig } from './config/datasets.config';

async function main(): Promise<void> {
  const config = loadDatasetsConfig();
  const app = await createServiceApp(AppModule.forRoot(config) as never, datasetsAppOptions(config));
  await runService(app, config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
