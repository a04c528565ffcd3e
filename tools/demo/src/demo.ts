/**
 * `npm run demo` (against a running `npm start`): the reference design's story in one command.
 * Registers two summarizer prompts, starts a 50/50 experiment, simulates users (B truly better,
 * slightly slower) with a progress bar, waits for analytics to catch up, and prints the results
 * with a plain-language verdict. Then it curates a preference dataset from that traffic, snapshots
 * it, and ends with the command that downloads the pairs. Seeded (DEMO_SEED), so reruns produce the
 * same traffic.
 *
 * Every call sends an API key: `LLMOPS_API_KEY`, else the key `npm start` writes to
 * `.local/dev-admin-key`. Any key of a project with the scopes of SCENARIO_SCOPES works; the
 * prompts, experiment and results then belong to that key's project.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseApiKey } from '@llmops/hashing';
import { DEV_ADMIN_KEY_PATH, shown } from '@llmops/local-infra';
import {
  completeSnapshot,
  createPreferenceDataset,
  downloadInstructions,
  preferencePairCount,
} from './flywheel';
import { call, HttpError, type PlatformUrls, runScenario, SCENARIO_SCOPES, sameKey } from './scenario';

interface Interval {
  n?: number;
  mean?: number;
  rate?: number;
  ci95?: [number, number] | null;
}

interface ResultsArm {
  arm: string;
  exposures: number;
  generations: number;
  latencyMs: { p50: number | null; p95: number | null; p99: number | null } | null;
  costPerRequestUsd: number | null;
  rating: (Interval & { n: number; mean: number | null }) | null;
  thumbs: (Interval & { n: number; up: number; rate: number | null }) | null;
}

interface Comparison {
  arm: string;
  metric: string;
  diff: number | null;
  ci95: [number, number] | null;
  pValue: number | null;
  sequential: { pValue: number | null; method: string } | null;
}

export interface Results {
  experiment: string;
  control: string;
  arms: ResultsArm[];
  comparisons: Comparison[];
  srm: { pValue: number | null; mismatch: boolean } | null;
  sampleSize: {
    minimumPerArm: number;
    recommendedPerArm: number;
    reached: boolean;
    neededPerArm: number | null;
  };
}

const env = process.env;

/** A problem the user fixes (no key, a refused key): printed without the generic hint. */
class DemoError extends Error {}

/** The demo's key: LLMOPS_API_KEY, else npm start's dev admin key file; never printed. */
export function demoKey(
  source: Record<string, string | undefined> = env,
  file: string = DEV_ADMIN_KEY_PATH,
): { key: string; keyId: string; from: string } {
  const fromEnv = source.LLMOPS_API_KEY;
  const found =
    fromEnv !== undefined && fromEnv !== ''
      ? { key: fromEnv.trim(), from: 'LLMOPS_API_KEY' }
      : existsSync(file)
        ? { key: readFileSync(file, 'utf8').trim(), from: shown(file) }
        : undefined;
  if (!found) {
    throw new DemoError(
      `no API key: set LLMOPS_API_KEY, or run \`npm start\` once (it writes the local admin key to ${shown(file)}).`,
    );
  }
  const parts = parseApiKey(found.key);
  if (!parts) throw new DemoError(`the key in ${found.from} is not an API key (llmk_<keyId>_<secret>).`);
  return { ...found, keyId: parts.keyId };
}
const urls: PlatformUrls = {
  registry: env.REGISTRY_URL ?? 'http://127.0.0.1:3001',
  assignment: env.ASSIGNMENT_URL ?? 'http://127.0.0.1:3002',
  feedback: env.FEEDBACK_URL ?? 'http://127.0.0.1:3003',
  analytics: env.ANALYTICS_URL ?? 'http://127.0.0.1:3004',
};
const datasetsUrl = env.DATASETS_URL ?? 'http://127.0.0.1:3006';
/** Outputs of one input whose ratings differ by at least this much make a preference pair. */
const RATING_MARGIN = 2;

function bar(done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  process.stderr.write(
    `\r  simulating users [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`,
  );
  if (done === total) process.stderr.write('\n');
}

const fmt = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
const ci = (c: [number, number] | null | undefined, digits = 2): string =>
  c ? `[${fmt(c[0], digits)}, ${fmt(c[1], digits)}]` : '—';

export function verdict(r: Results): string {
  const rating = r.comparisons.find((c) => c.metric === 'rating');
  const size = r.sampleSize.reached
    ? 'sample size reached'
    : `sample size not reached (minimum ${r.sampleSize.minimumPerArm} per arm)`;
  if (r.srm?.mismatch)
    return `Do not trust these results: sample-ratio mismatch (p = ${fmt(r.srm.pValue, 4)}).`;
  if (!rating || rating.diff === null || rating.ci95 === null || rating.pValue === null) {
    return `Not enough data to compare ratings yet; ${size}.`;
  }
  const half = (rating.ci95[1] - rating.ci95[0]) / 2;
  const amount = `${fmt(Math.abs(rating.diff))} ± ${fmt(half)}`;
  if (rating.pValue >= 0.05) {
    return `No significant rating difference between ${rating.arm} and ${r.control} (${rating.diff >= 0 ? '+' : '-'}${amount}, p = ${fmt(rating.pValue, 3)}); ${size}.`;
  }
  const better = rating.diff > 0 ? rating.arm : r.control;
  return `${better} is better by ${amount} (${rating.pValue < 0.001 ? 'p < 0.001' : `p = ${fmt(rating.pValue, 3)}`}); ${size}.`;
}

export function renderResults(r: Results): string {
  const rows = [
    ['arm', 'n', 'mean rating', '95% CI', 'thumbs up', 'p50 ms', 'p95 ms', 'cost/req $'],
    ...r.arms.map((a) => [
      a.arm + (a.arm === r.control ? ' (control)' : ''),
      String(a.rating?.n ?? 0),
      fmt(a.rating?.mean),
      ci(a.rating?.ci95),
      a.thumbs?.rate === null || a.thumbs?.rate === undefined ? '—' : `${(a.thumbs.rate * 100).toFixed(1)}%`,
      fmt(a.latencyMs?.p50, 0),
      fmt(a.latencyMs?.p95, 0),
      fmt(a.costPerRequestUsd, 6),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const table = rows.map((row) => '  ' + row.map((cell, i) => cell.padEnd(widths[i])).join('  ')).join('\n');
  const comparisons = r.comparisons
    .map(
      (c) =>
        `  ${c.arm} vs ${r.control}, ${c.metric}: diff ${fmt(c.diff, 3)} ${ci(c.ci95, 3)}, p = ${fmt(c.pValue, 4)}, sequential p = ${fmt(c.sequential?.pValue, 4)} (${c.sequential?.method ?? '—'})`,
    )
    .join('\n');
  const srm = r.srm ? `SRM: p = ${fmt(r.srm.pValue, 4)} ${r.srm.mismatch ? 'MISMATCH' : 'ok'}` : 'SRM: —';
  return `${table}\n\n${comparisons}\n  ${srm}\n\nVerdict: ${verdict(r)}`;
}

async function main(): Promise<void> {
  const seed = Number(env.DEMO_SEED ?? 42);
  const users = Number(env.DEMO_USERS ?? 1000);
  const experiment = env.DEMO_EXPERIMENT ?? `summarizer-demo-${Date.now().toString(36)}`;
  const { key, keyId, from } = demoKey();
  console.log(`LLMOps demo: experiment "${experiment}", ${users} simulated users, seed ${seed}`);
  console.log(`  API key ${keyId} (from ${from})`);
  console.log('  1. registering two summarizer prompt versions');
  console.log('  2. creating and starting a 50/50 experiment');
  console.log('  3. simulating users: assignment, generation, feedback');
  const result = await runScenario(urls, {
    keys: sameKey(key),
    users,
    seed,
    experiment,
    promptName: 'summarizer',
    onProgress: bar,
  });
  console.log(`     prompt A ${result.hashes.A.slice(0, 12)}, prompt B ${result.hashes.B.slice(0, 12)}`);
  const expected = Object.values(result.truth).reduce((s, t) => s + t.ratings.length, 0);
  process.stderr.write('  4. waiting for analytics to catch up');
  let results: Results | undefined;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    results = await call<Results>(
      'GET',
      `${urls.analytics}/v1/experiments/${experiment}/results?window=all`,
      {
        key,
        ok: [200, 404],
      },
    );
    const seen = results?.arms?.reduce((s, a) => s + (a.rating?.n ?? 0), 0) ?? 0;
    if (seen >= expected) break;
    process.stderr.write('.');
    await new Promise((r) => setTimeout(r, 1_000));
  }
  process.stderr.write('\n\n');
  if (!results?.arms) throw new Error('analytics returned no results; is the analytics service running?');
  console.log(renderResults(results));

  // Names follow DATASET_NAME_PATTERN: lowercase, at most 63 characters.
  const dataset = `${experiment.toLowerCase().slice(0, 57)}-pairs`;
  await createPreferenceDataset(datasetsUrl, key, {
    name: dataset,
    experiment,
    ratingMargin: RATING_MARGIN,
    validation: 0.1,
  });
  process.stderr.write(
    `\n  5. curating preference dataset "${dataset}" from the traffic (rating margin ${RATING_MARGIN}), snapshotting`,
  );
  const pairs = preferencePairCount(result.examples, RATING_MARGIN);
  const { snapshot, complete } = await completeSnapshot(datasetsUrl, key, dataset, pairs, {
    intervalMs: 2_000,
    timeoutMs: 120_000,
    onWait: () => process.stderr.write('.'),
  });
  process.stderr.write('\n\n');
  if (!complete) {
    console.log(
      `The datasets service has not consumed all of the demo's traffic yet: ${snapshot.records} of ${pairs} pairs so far. Take a new snapshot later (POST ${datasetsUrl}/v1/datasets/${dataset}/snapshots).\n`,
    );
  }
  console.log(downloadInstructions({ datasetsUrl, dataset, snapshot, keyFrom: from }));
}

/** What to tell the user about a failure: what went wrong, then what to do. */
export function explain(err: unknown): string {
  const message = `demo failed: ${err instanceof Error ? err.message : String(err)}`;
  if (err instanceof DemoError) return message;
  if (err instanceof HttpError && err.status === 401) {
    return `${message}\nThe platform does not accept the key: it is unknown to this stack (another pepper or a key of another stack), revoked or expired. Use the key \`npm start\` printed, or create one through the identity service.`;
  }
  if (err instanceof HttpError && err.status === 403) {
    return `${message}\nThe key lacks a scope the demo needs: ${[...new Set(Object.values(SCENARIO_SCOPES).flat())].join(', ')}.`;
  }
  return `${message}\nIs the platform running? Start it with \`npm start\` in another terminal.`;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`\n${explain(err)}`);
    process.exit(1);
  });
}
