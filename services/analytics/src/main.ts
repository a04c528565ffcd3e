import 'reflect-metadata';
import { ConfigError, createServiceApp, runService } from '@llmops/platform';
import { aggregationConsumer } from './aggregation/aggregation.consumer';
import { AppModule } from './app.module';
import { loadAnalyticsConfig } from './config/analytics.config';
import { promptVersionsConsumer } from './prompts/prompt-versions.consumer';

async function main(): Promise<void> {
  const config = loadAnalyticsConfig();
  const app = await createServiceApp(AppModule.forRoot(config) as never, {
    title: 'LLMOps analytics service',
    description: 'analytics service API',
    consumer: aggregationConsumer(config),
    consumers: [promptVersionsConsumer(config)].filter((c) => c !== undefined),
  });
  await runService(app, config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
