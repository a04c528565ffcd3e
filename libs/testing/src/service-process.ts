/**
 * Runs a service as a real child process without importing its code, so a test can SIGKILL it:
 * from its TypeScript sources (`node -r @swc-node/register services/<name>/src/main.ts`, as
 * `npm start` does) or from the built JavaScript with the command of the service's Docker image
 * (`node --enable-source-maps dist/services/<name>/src/main.js` and its Node flags). Every
 * service gets the test pepper (`LLMOPS_KEY_PEPPER`), so keys issued in tests work everywhere.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { localServices } from '@llmops/local-infra';
import { TEST_KEY_PEPPER } from './api-keys';
import { freePort } from './dedicated-infra';

const ROOT = join(__dirname, '..', '..', '..');
/** How much of a process's output is kept for assertions and failure messages. */
const OUTPUT_LIMIT = 1_000_000;

export interface ServiceProcess {
  name: string;
  /** Its HTTP port on 127.0.0.1, and the URL of it. */
  port: number;
  url: string;
  child: ChildProcess;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
  /** What it printed (stdout and stderr; the last million characters). */
  output(): string;
  /** Sends `signal` (SIGTERM by default) unless it has exited, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `source`: the TypeScript through @swc-node/register; `built`: the compiled JavaScript in dist/. */
export type ServiceCode = 'source' | 'built';

/** The command of the Docker image's stage for `service` (deploy/docker/Dockerfile), as an argv. */
export function imageCommand(service: string): string[] {
  const dockerfile = readFileSync(join(ROOT, 'deploy', 'docker', 'Dockerfile'), 'utf8');
  const stage = new RegExp(`^FROM \\S+ AS ${service}$([\\s\\S]*?)(?=^FROM |(?![\\s\\S]))`, 'm').exec(
    dockerfile,
  )?.[1];
  const cmd = /^CMD (\[.*\])$/m.exec(stage ?? '')?.[1];
  if (!cmd) throw new Error(`no CMD in the ${service} stage of deploy/docker/Dockerfile`);
  return JSON.parse(cmd) as string[];
}

/**
 * The node arguments that run a service's code: the built one exactly as its image runs it, the
 * sources with the Node flags `npm start` gives it.
 */
export function serviceArgs(name: string, code: ServiceCode): string[] {
  if (code === 'built') {
    const [node, ...args] = imageCommand(name);
    if (node !== 'node') throw new Error(`the ${name} image runs ${node}, not node`);
    return args;
  }
  const flags = localServices().find((s) => s.name === name)?.nodeFlags ?? [];
  return [...flags, '-r', '@swc-node/register', join('services', name, 'src', 'main.ts')];
}

/**
 * Starts service `name` with `env` over this process's environment (logging at `warn` unless `env`
 * says otherwise), listening on 127.0.0.1:`port`, a free port when absent (a restart may keep its URL).
 */
export async function spawnService(
  name: string,
  env: Record<string, string>,
  options: { code?: ServiceCode; port?: number } = {},
): Promise<ServiceProcess> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, serviceArgs(name, options.code ?? 'source'), {
    cwd: ROOT,
    env: {
      ...process.env,
      // The global setup's MLflow server is for the tests that pass it explicitly.
      MLFLOW_TRACKING_URI: undefined,
      LOG_LEVEL: 'warn',
      LLMOPS_KEY_PEPPER: TEST_KEY_PEPPER,
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out += b.toString();
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    exited,
    output: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
