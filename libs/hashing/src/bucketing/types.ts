/** A mutually-exclusive slice of traffic shared by several experiments. */
export interface LayerConfig {
  /** Layer name; hashed (with the user id) to the layer bucket shared by every experiment in it. */
  readonly name: string;
  /** Half-open [start, end) slice of the layer bucket, 0 ≤ start < end ≤ 1 (end = 1 is closed). */
  readonly range: readonly [number, number];
}

export interface BucketingConfig {
  /** Experiment seed; plays the role of the reference design's experiment `name`. */
  readonly seed: string;
  /** Which bucketing algorithm; only 1 exists today. */
  readonly hashVersion: number;
  /** Non-negative arm weights, normalised by their sum. Index 0 is the control arm ("A"). */
  readonly weights: readonly number[];
  /** Fraction of (layer-eligible) users in the experiment, in (0, 1]. */
  readonly trafficAllocation: number;
  readonly layer?: LayerConfig | undefined;
}

export type BucketResult =
  | { readonly armIndex: number; readonly bucket: number; readonly reason: 'hash' }
  | { readonly armIndex: null; readonly reason: 'layer' | 'not-in-allocation' };

/** [start, end) range of the arm bucket; the range of the first arm with weight > 0 is closed at 1. */
export type ArmRange = [number, number];

/** A compiled bucketing function for one experiment: validates the user id, then assigns. */
export type Bucketer = (userId: string) => BucketResult;

/**
 * One bucketing algorithm. Each hashVersion is a separate, frozen implementation: adding
 * version 2 means adding a new module and registering it, never editing version 1, because
 * existing experiments' assignments must not move.
 */
export interface BucketingAlgorithm {
  readonly hashVersion: number;
  /** Validates the config (throws InvalidBucketingConfigError) and precomputes what it can. */
  compile(config: BucketingConfig): Bucketer;
}
