/**
 * The data flywheel's end of the story, over the datasets service's public HTTP API: a
 * `preference` dataset over the demo experiment's traffic (corrections preferred over their
 * outputs, and outputs of the same input whose ratings differ by at least a margin), an immutable
 * snapshot of it, and the command that downloads its pairs as fine-tuning JSONL.
 */
import { call, type ExampleTruth } from './scenario';

/** What the demo reads of a snapshot (POST /v1/datasets/{name}/snapshots). */
export interface DatasetSnapshot {
  id: string;
  sequence: number;
  records: number;
  splits: Record<string, number>;
}

export interface PreferenceDatasetOptions {
  /** The dataset's name; the experiment's traffic is what it holds. */
  name: string;
  experiment: string;
  /** Two outputs of one input make a pair when their ratings differ by at least this much. */
  ratingMargin: number;
  /** The share of pairs in the `validation` split (the rest is `train`). */
  validation: number;
}

/** Creates the dataset (an existing one of the same name is kept: reruns reuse it). */
export async function createPreferenceDataset(
  datasetsUrl: string,
  key: string,
  o: PreferenceDatasetOptions,
): Promise<void> {
  await call('POST', `${datasetsUrl}/v1/datasets`, {
    key,
    ok: [201, 409],
    body: {
      name: o.name,
      description: `Preference pairs from the traffic of experiment ${o.experiment}`,
      format: 'preference',
      filter: { experiment: o.experiment },
      split: { validation: o.validation },
      preference: { ratingMargin: o.ratingMargin },
    },
  });
}

/**
 * Snapshots a dataset. The build runs within the request for as long as the dataset needs (the
 * service sets no deadline on it), so the request may take minutes on a slow database.
 */
export const takeSnapshot = (datasetsUrl: string, key: string, name: string): Promise<DatasetSnapshot> =>
  call<DatasetSnapshot>('POST', `${datasetsUrl}/v1/datasets/${encodeURIComponent(name)}/snapshots`, {
    key,
    ok: [200, 201],
    timeoutMs: 300_000,
  });

/**
 * How many preference pairs the datasets service makes of the demo's examples: per input, one per
 * correction (over its output), then the rated outputs by rating, best with worst, second best with
 * second worst, and so on while the ratings differ by at least `margin`. The demo waits for them.
 */
export function preferencePairCount(examples: readonly ExampleTruth[], margin: number): number {
  const ratingsByInput = new Map<string, number[]>();
  let pairs = 0;
  for (const e of examples) {
    if (e.correction !== undefined && e.correction !== e.output) pairs++;
    ratingsByInput.set(e.input, [...(ratingsByInput.get(e.input) ?? []), e.rating]);
  }
  for (const ratings of ratingsByInput.values()) {
    ratings.sort((a, b) => b - a);
    for (let i = 0; i < Math.floor(ratings.length / 2); i++) {
      if (ratings[i] - ratings[ratings.length - 1 - i] < margin) break;
      pairs++;
    }
  }
  return pairs;
}

/**
 * A snapshot once the datasets service has materialized the traffic: it consumes the traffic from
 * Kafka on its own, so the demo snapshots until the snapshot holds the `expected` records (taking
 * a snapshot again with nothing new returns the same one), or the time is up (`complete: false`).
 */
export async function completeSnapshot(
  datasetsUrl: string,
  key: string,
  name: string,
  expected: number,
  o: { intervalMs: number; timeoutMs: number; onWait?: () => void },
): Promise<{ snapshot: DatasetSnapshot; complete: boolean }> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const snapshot = await takeSnapshot(datasetsUrl, key, name);
    if (snapshot.records >= expected) return { snapshot, complete: true };
    if (Date.now() > deadline) return { snapshot, complete: false };
    o.onWait?.();
    await new Promise((resolve) => setTimeout(resolve, o.intervalMs));
  }
}

/** The download URL of one split of a snapshot, in an export format. */
export function downloadUrl(
  datasetsUrl: string,
  dataset: string,
  snapshotId: string,
  split: string,
  format: string,
): string {
  const query = new URLSearchParams({ split, format });
  return `${datasetsUrl}/v1/datasets/${encodeURIComponent(dataset)}/snapshots/${snapshotId}/download?${query}`;
}

/**
 * How to download the snapshot's pairs, ready to paste: the key stays a shell variable
 * (`$LLMOPS_API_KEY`, set from the key file when the demo read its key there), never printed.
 */
export function downloadInstructions(o: {
  datasetsUrl: string;
  dataset: string;
  snapshot: DatasetSnapshot;
  /** Where the demo's key came from: `LLMOPS_API_KEY` or the key file's path. */
  keyFrom: string;
}): string {
  const { snapshot } = o;
  // In one order whatever order the service lists them in: train, validation, then any other by name.
  const rank = (split: string) => (split === 'train' ? 0 : split === 'validation' ? 1 : 2);
  const splits = Object.entries(snapshot.splits)
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([split, n]) => `${split} ${n}`)
    .join(', ');
  const curl = (split: string) =>
    `  curl -fsS -H "Authorization: Bearer $LLMOPS_API_KEY" -o ${o.dataset}.${split}.jsonl "${downloadUrl(o.datasetsUrl, o.dataset, snapshot.id, split, 'openai-preference')}"`;
  return [
    `Download the demo's preference pairs: dataset "${o.dataset}", snapshot ${snapshot.sequence} (${snapshot.records} pairs: ${splits || 'none'})`,
    `  snapshot id ${snapshot.id}`,
    '',
    ...(o.keyFrom === 'LLMOPS_API_KEY' ? [] : [`  export LLMOPS_API_KEY=$(cat ${o.keyFrom})`]),
    curl('train'),
    curl('validation'),
    '',
    '  Each line is one pair in the OpenAI preference fine-tuning format; format=trl-dpo gives',
    "  TRL's DPO format (prompt, chosen, rejected) from the same pairs.",
  ].join('\n');
}
