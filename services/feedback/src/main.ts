import 'reflect-metadata';
import { ConfigError, createServiceApp, runService } from '@llmops/platform';
import { AppModule } from './app.module';
import { loadFeedbackConfig } from './config/feedback.config';

async function main(): Promise<void> {
  const config = loadFeedbackConfig();
  const app = await createServiceApp(AppModule.forRoot(config) as never, {
    title: 'LLMOps feedback service',
    description: 'feedback service API',
  });
  await runService(app, config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
