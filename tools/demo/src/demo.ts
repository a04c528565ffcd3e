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
import { type ExperimentResults, renderResults } from '@llmops/client';
import { parseApiKey } from '@llmops/hashing';
import { DEV_ADMIN_KEY_PATH, shown } from '@llmops/local-infra';
import {
  completeSnapshot,
  createPreferenceDataset,
  downloadInstructions,
  preferencePairCount,
} from './flywheel';
import { call, HttpError, type PlatformUrls, runScenario, SCENARIO_SCOPES, sameKey } from './scenario';

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
  let results: ExperimentResults | undefined;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    results = await call<ExperimentResults>(
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
