import 'reflect-metadata';
import { ConfigError, createServiceApp, runService } from '@llmops/platform';
import { AppModule, registryAppOptions } from './app.module';
import { loadRegistryConfig } from './config/registry.config';

async function main(): Promise<void> {
  const config = loadRegistryConfig();
  const app = await createServiceApp(AppModule.forRoot(config) as never, registryAppOptions(config));
  await runService(app, config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
