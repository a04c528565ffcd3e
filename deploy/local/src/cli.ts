/* Usage: npm run infra:up | infra:down | infra:status */
import { infraDown, infraStatus, infraUp } from './infra';
import { LOG_DIR } from './launcher';

const log = (line: string): void => console.log(`[infra] ${line}`);

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case 'up': {
      const started = Date.now();
      const ep = await infraUp(process.env, log, { mlflow: 'wait' });
      log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      log(`KAFKA_BROKERS=${ep.kafkaBrokers}`);
      log(`MONGODB_URI=${ep.mongoUri}`);
      log(ep.mlflowTrackingUri ? `MLFLOW_TRACKING_URI=${ep.mlflowTrackingUri}` : 'mlflow: not started');
      log(`logs: ${LOG_DIR}`);
      return;
    }
    case 'down':
      await infraDown(log);
      return;
    case 'status':
      for (const s of infraStatus()) {
        log(`${s.name}: ${s.running ? `running (pid ${s.pid})` : 'stopped'}; logs: ${s.logFile}`);
      }
      return;
    default:
      console.error('usage: infra <up|down|status>');
      process.exitCode = 2;
  }
}

main(process.argv[2]).catch((err: unknown) => {
  console.error(`[infra] ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
