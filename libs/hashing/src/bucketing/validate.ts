import { InvalidBucketingConfigError } from '../errors';
import { firstLoneSurrogate } from '../unicode';
import type { BucketingConfig, LayerConfig } from './types';

/** A string hashed as UTF-8 next to the user id: non-empty, well-formed UTF-16. */
export function assertHashableName(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidBucketingConfigError(field, 'must be a non-empty string');
  }
  const bad = firstLoneSurrogate(value);
  if (bad !== -1) {
    throw new InvalidBucketingConfigError(field, `lone surrogate at index ${bad} (not encodable as UTF-8)`);
  }
}

export function assertTrafficAllocation(value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new InvalidBucketingConfigError('trafficAllocation', `must be in (0, 1], got ${String(value)}`);
  }
}

export function assertLayer(layer: unknown): asserts layer is LayerConfig {
  if (typeof layer !== 'object' || layer === null) {
    throw new InvalidBucketingConfigError('layer', 'must be an object { name, range }');
  }
  const { name, range } = layer as { name?: unknown; range?: unknown };
  assertHashableName('layer.name', name);
  if (!Array.isArray(range) || range.length !== 2) {
    throw new InvalidBucketingConfigError('layer.range', 'must be a [start, end] pair');
  }
  const [start, end] = range as unknown[];
  if (
    typeof start !== 'number' ||
    typeof end !== 'number' ||
    !Number.isFinite(start) ||
    !Number.isFinite(end) ||
    !(start >= 0 && start < end && end <= 1)
  ) {
    throw new InvalidBucketingConfigError(
      'layer.range',
      `must satisfy 0 ≤ start < end ≤ 1, got [${String(start)}, ${String(end)}]`,
    );
  }
}

/** Validation of the version-independent fields (weights are validated by the arm layout). */
export function assertCommonConfig(config: BucketingConfig): void {
  if (typeof config !== 'object' || config === null) {
    throw new InvalidBucketingConfigError('config', 'must be an object');
  }
  assertHashableName('seed', config.seed);
  assertTrafficAllocation(config.trafficAllocation);
  if (config.layer !== undefined) assertLayer(config.layer);
}
