/**
 * Runs the datasets service as a real child process (so it can be SIGKILLed), from the sources
 * through @swc-node/register, with the test pepper, and reads how far it has consumed.
 */
import { type ServiceProcess, spawnService } from '@llmops/testing';

export type { ServiceProcess };

export function startService(env: Record<string, string>): Promise<ServiceProcess> {
  return spawnService('datasets', env);
}

export async function killHard(p: ServiceProcess): Promise<void> {
  await p.stop('SIGKILL');
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
