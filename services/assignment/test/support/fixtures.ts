import type { IssuedTestKey } from '@llmops/testing';
import type { AssignmentApp } from './assignment-app';
import type { RegistryHandle } from './registry';

export interface ArmSpec {
  name: string;
  weight: number;
  prompt: { name: string; ref: string };
}

/**
 * Registers one prompt version per arm (distinct templates) and returns arms referencing them by
 * hash; in the project of `as` (default: `default`).
 */
export async function registeredArms(
  registry: RegistryHandle,
  prompt: string,
  arms: Array<[name: string, weight: number]>,
  as?: Pick<IssuedTestKey, 'header'>,
): Promise<ArmSpec[]> {
  const out: ArmSpec[] = [];
  for (const [name, weight] of arms) {
    const hash = await registry.register(prompt, `Variant ${name} of ${prompt}: {text}`, undefined, as);
    out.push({ name, weight, prompt: { name: prompt, ref: hash } });
  }
  return out;
}

/** Creates and starts an experiment, with the app's key or `headers`. */
export async function createRunning(
  app: AssignmentApp,
  body: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<Record<string, unknown>> {
  const created = await app.request('POST', '/v1/experiments', body, headers);
  if (created.status !== 201)
    throw new Error(`create failed: ${created.status} ${JSON.stringify(created.body)}`);
  const started = await app.request('POST', `/v1/experiments/${String(body.key)}/start`, undefined, headers);
  if (started.status !== 200)
    throw new Error(`start failed: ${started.status} ${JSON.stringify(started.body)}`);
  return started.body;
}
