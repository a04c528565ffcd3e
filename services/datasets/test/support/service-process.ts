/**
 * Runs the datasets service as a real child process (so it can be SIGKILLed), from the sources
 * through @swc-node/register, with the test pepper.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { TEST_KEY_PEPPER } from '@llmops/testing';

export interface ServiceProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Its HTTP port on 127.0.0.1. */
  port: number;
  /** The last 20,000 characters it wrote (stdout and stderr). */
  output(): string;
}

const ROOT = path.resolve(__dirname, '../../../..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

export async function startService(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'services/datasets/src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
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
    out = (out + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, port, output: () => out };
}

export async function killHard(p: ServiceProcess): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

/**
 * The records it has consumed since it started (every outcome of `llmops_datasets_events_total`),
 * or undefined when it does not answer (not listening yet, or gone).
 */
export async function consumedEvents(p: ServiceProcess): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${p.port}/metrics`, { signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    let total = 0;
    for (const line of (await res.text()).split('\n'))
      if (line.startsWith('llmops_datasets_events_total{'))
        total += Number(line.slice(line.lastIndexOf(' ') + 1));
    return total;
  } catch {
    return undefined;
  }
}
