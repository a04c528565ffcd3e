import type { AssignmentApp } from './assignment-app';
import type { RegistryHandle } from './registry';

export interface ArmSpec {
  name: string;
  weight: number;
  prompt: { name: string; ref: string };
}

/** Registers one prompt version per arm (distinct templates) and returns arms referencing them by hash. */
export async function registeredArms(
  registry: RegistryHandle,
  prompt: string,
  arms: Array<[name: string, weight: number]>,
): Promise<ArmSpec[]> {
  const out: ArmSpec[] = [];
  for (const [name, weight] of arms) {
    const hash = await registry.register(prompt, `Variant ${name} of ${prompt}: {text}`);
    out.push({ name, weight, prompt: { name: prompt, ref: hash } });
  }
  return out;
}

export async function createRunning(
  app: AssignmentApp,
  body: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const created = await app.request('POST', '/v1/experiments', body);
  if (created.status !== 201)
    throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const started = await app.request('POST', `/v1/experiments/${String(body.key)}/start`);
  if (started.status !== 200)
    throw new Error(`start failed: ${started.status} ${JSON.stringify(started.body)}`);
  return started.body;
}
