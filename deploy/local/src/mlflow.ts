/**
 * A local MLflow tracking server (PyPI `mlflow`, installed by .ci/run into `.local/mlflow-venv`, or
 * any `mlflow` on the PATH) with a SQLite backend store and a local artifact root under `.local/`.
 * Optional: without MLflow installed nothing is started and the analytics MLflow export stays off.
 *
 * The server takes tens of seconds to boot (a Python import of the whole tracking stack, and the
 * database migrations on the first start), so callers that must not wait start it in the
 * background (`wait: false`) and whoever needs it waits with `waitForMlflow`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  isAlive,
  LOCAL_DIR,
  LOG_DIR,
  type Log,
  portOpen,
  readPid,
  spawnDetached,
  stopComponent,
} from './launcher';

export const MLFLOW_VENV_BIN = join(LOCAL_DIR, 'mlflow-venv', 'bin', 'mlflow');

export interface MlflowComponent {
  readonly name: string;
  readonly port: number;
  readonly pid: number | undefined;
  readonly logFile: string;
  readonly dataDir: string;
  /** What the analytics service gets as `MLFLOW_TRACKING_URI`. */
  readonly trackingUri: string;
}

export interface MlflowOptions {
  name?: string;
  port?: number;
  /** Wait until the server answers /health (default); false returns once the process is spawned. */
  wait?: boolean;
  log?: Log;
}

/** The `mlflow` command: .ci/run's venv first, then the PATH; undefined when not installed. */
export function findMlflow(): string | undefined {
  if (existsSync(MLFLOW_VENV_BIN)) return MLFLOW_VENV_BIN;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'mlflow'))) return join(dir, 'mlflow');
  }
  return undefined;
}

async function mlflowAnswers(trackingUri: string): Promise<boolean> {
  try {
    const res = await fetch(`${trackingUri}/health`, { signal: AbortSignal.timeout(2_000) });
    return res.ok;
  } catch {
    return false;
  }
}

/** Waits until the tracking server at `trackingUri` answers /health. */
export async function waitForMlflow(trackingUri: string, timeoutMs = 180_000, pid?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await mlflowAnswers(trackingUri)) return;
    if (pid !== undefined && !isAlive(pid)) {
      throw new Error(`mlflow server exited during start; see ${join(LOG_DIR, 'mlflow.log')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`MLflow at ${trackingUri} did not answer /health within ${timeoutMs} ms`);
}

/**
 * Starts (or reuses) `mlflow server` on 127.0.0.1:`port`. Returns undefined when MLflow is not
 * installed. A server this launcher started earlier is reused, even while it is still booting.
 */
export async function startMlflow(opts: MlflowOptions = {}): Promise<MlflowComponent | undefined> {
  const name = opts.name ?? 'mlflow';
  const port = opts.port ?? 5000;
  const log = opts.log ?? (() => undefined);
  const wait = opts.wait ?? true;
  const bin = findMlflow();
  if (!bin) {
    log('mlflow: not installed (.local/mlflow-venv or mlflow on the PATH; .ci/run installs it): export off');
    return undefined;
  }
  const dataDir = join(LOCAL_DIR, 'mlflow', name);
  const logFile = join(LOG_DIR, `${name}.log`);
  const trackingUri = `http://127.0.0.1:${port}`;
  const existing = readPid(name);
  if (isAlive(existing)) {
    log(`mlflow: ${name} already started on ${trackingUri} (pid ${existing})`);
    if (wait) await waitForMlflow(trackingUri, 180_000, existing);
    return { name, port, pid: existing, logFile, dataDir, trackingUri };
  }
  if (await portOpen(port)) {
    throw new Error(
      `port ${port} is in use by a process this launcher did not start; set MLFLOW_TRACKING_URI to use it, or MLFLOW_PORT to pick another port`,
    );
  }
  mkdirSync(join(dataDir, 'artifacts'), { recursive: true });
  const pid = spawnDetached(
    name,
    bin,
    [
      'server',
      '--backend-store-uri',
      `sqlite:///${join(dataDir, 'mlflow.db')}`,
      '--default-artifact-root',
      join(dataDir, 'artifacts'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--workers',
      '1',
    ],
    // The job executor (GenAI evaluation jobs) spawns seven more Python processes; tracking needs none.
    { MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
  );
  log(`mlflow: starting ${name} on ${trackingUri} (pid ${pid}); logs: ${logFile}`);
  if (wait) await waitForMlflow(trackingUri, 180_000, pid);
  return { name, port, pid, logFile, dataDir, trackingUri };
}

/** Stops the MLflow server this launcher started (its whole process group: uvicorn runs as a child). */
export function stopMlflow(name = 'mlflow'): Promise<boolean> {
  return stopComponent(name, 15_000, { group: true });
}
