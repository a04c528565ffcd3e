import type { TestInfra } from '@llmops/testing';
import { type RegistryHandle, startRealRegistry } from './registry';

/** The registry integration tests run against: the real service, as a child process. */
export function startTestRegistry(infra: TestInfra): Promise<RegistryHandle> {
  return startRealRegistry(infra);
}
