import 'reflect-metadata';
import { ConfigError, createServiceApp, runService } from '@llmops/platform';
import { AppModule, identityAppOptions } from './app.module';
import { loadIdentityConfig } from './config/identity.config';

async function main(): Promise<void> {
  const config = loadIdentityConfig();
  const app = await createServiceApp(AppModule.forRoot(config) as never, identityAppOptions(config));
  await runService(app, config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
