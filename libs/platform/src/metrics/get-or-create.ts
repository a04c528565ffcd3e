import type { Registry } from 'prom-client';

/**
 * The metric `name` of `registry`, created by `create` (which registers it) when the registry has
 * none yet: for code that may be constructed more than once on one registry (several consumers, a
 * use case built by more than one module), where prom-client refuses a second metric of one name.
 */
export function getOrCreateMetric<T>(registry: Registry, name: string, create: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? create();
}
