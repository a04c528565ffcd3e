import 'reflect-metadata';
import { ConfigError, createServiceApp, runService } from '@llmops/platform';
import { AppModule, assignmentAppOptions } from './app.module';
import { loadAssignmentConfig } from './config/assignment.config';

async function main(): Promise<void> {
  const config = loadAssignmentConfig();
  const app = await createServiceApp(AppModule.forRoot(config) as never, assignmentAppOptions(config));
  await runService(app, config);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(err);
  process.exit(1);
});
