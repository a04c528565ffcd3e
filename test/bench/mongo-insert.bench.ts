/**
 * Benchmark: what one `insertMany` of revision claims costs the MongoDB Node driver's client, by
 * group size, against the local MongoDB (FerretDB here). It explains the feedback claim-bound:
 * single requests arrive one item at a time, so their claim groups stay small, and the client CPU
 * per claim is dominated by the per-command cost. Each group size writes closed-loop into its own
 * collection for BENCH_SECONDS after a warm-up; the baseline is the largest group.
 *
 * Run: BENCH_ONLY=mongo-insert npm run bench
 * Reports, without a goal: the client CPU per claim in groups of 1 against groups of 100.
 * Env: MONGODB_URI (mongodb://127.0.0.1:27017), BENCH_SECONDS (4), BENCH_WARMUP_SECONDS (1).
 */
import { mongo as driver } from 'mongoose';
import { v7 as uuidv7 } from 'uuid';
import { smallestClaim } from './support/feedback-claims';
import { type ClaimDocument, MONGO, runBench, setting } from './support/harness';
import { reportResult } from './support/result';

const SECONDS = setting('BENCH_SECONDS', 4);
const WARMUP = setting('BENCH_WARMUP_SECONDS', 1);
const GROUPS = [1, 5, 20, 100];

async function main(): Promise<void> {
  const client = await new driver.MongoClient(MONGO).connect();
  const db = client.db(`bench_insert_${uuidv7().replace(/-/g, '')}`);
  try {
    const perDoc = new Map<number, number>();
    for (const group of GROUPS) {
      const collection = db.collection<ClaimDocument>(`g${group}`);
      const run = async (seconds: number): Promise<{ docsPerSecond: number; cpuPerDoc: number }> => {
        let docs = 0;
        const deadline = Date.now() + seconds * 1000;
        const cpu = process.cpuUsage();
        while (Date.now() < deadline) {
          const claims = Array.from({ length: group }, (_, i) => smallestClaim(`r${docs + i}`));
          await collection.insertMany(claims, { ordered: false });
          docs += group;
        }
        const used = process.cpuUsage(cpu);
        return { docsPerSecond: docs / seconds, cpuPerDoc: (used.user + used.system) / docs };
      };
      await run(WARMUP);
      const r = await run(SECONDS);
      perDoc.set(group, r.cpuPerDoc);
      console.log(
        `insertMany of ${String(group).padStart(3)}: ${r.docsPerSecond.toFixed(0).padStart(6)} docs/s, client CPU ${r.cpuPerDoc.toFixed(0).padStart(4)} µs/doc, ${(r.cpuPerDoc * group).toFixed(0)} µs/command (includes building the claims)`,
      );
    }
    const largest = GROUPS[GROUPS.length - 1];
    const base = perDoc.get(largest)!;
    for (const group of GROUPS.slice(0, -1)) {
      console.log(
        `client CPU per claim, groups of ${group} vs ${largest}: ${(perDoc.get(group)! / base).toFixed(1)}x`,
      );
    }
    reportResult({
      measure: `insertMany client CPU per claim, groups of ${GROUPS[0]}/groups of ${largest}`,
      value: perDoc.get(GROUPS[0])! / base,
    });
  } finally {
    await db.dropDatabase();
    await client.close();
  }
}

runBench(main);
