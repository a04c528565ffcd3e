import 'reflect-metadata';
import { ConfigError, createServiceApp, runService } from '@llmops/platform';
import { AppModule, feedbackAppOptions } from './app.module';
import { loadFeedbackConfig } from './config/feedback.config';

async function main(): Promise<void> {
  const config = loadFeedbackConfig();
  const app = await createServiceApp(AppModule.forRoot(config) as never, feedbackAppOptions(config));
  await runService(app, config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
