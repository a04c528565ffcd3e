/**
 * Data of the caller's project that names an experiment this project does not have, or an arm its
 * experiment does not have: stored (buckets, per-item state), never counted in results (see
 * compute-results.ts), and listed here per (experiment, arm) with the reason and what it holds. A
 * key of another project that names this project's experiment writes under its own project, so it
 * shows up here, in its own project, with `experiment_not_found`.
 *
 * Pages follow the arms directory (`arms_seen`, one document per pair and partition) in
 * (experiment, arm) order after the cursor's pair, through its index; each listed pair's buckets are
 * read to count what it holds.
 */
import { Injectable } from '@nestjs/common';
import { decodeCursor, encodeCursor } from '@llmops/platform';
import { z } from 'zod';
import { addValues, emptyValues } from '../domain/bucket';
import { AggregationRepository } from '../persistence/aggregation.repository';
import { ExperimentsRepository } from '../persistence/experiments.repository';

export interface UncountedArm {
  experiment: string;
  arm: string;
  reason: 'experiment_not_found' | 'arm_not_in_experiment';
  exposures: number;
  generations: number;
  ratings: number;
  thumbs: number;
  comments: number;
  corrections: number;
}

export interface UncountedArmsPage {
  items: UncountedArm[];
  /** Cursor of the next page; null when there is nothing after this page. */
  nextCursor: string | null;
}

export const UNCOUNTED_MAX_LIMIT = 100;

const limitError = { error: `expected an integer 1-${UNCOUNTED_MAX_LIMIT}` };

/** `GET /v1/arms/uncounted` query: `limit` 1-100 (default 20) and `cursor`, nothing else. */
export const uncountedQuerySchema = z.strictObject({
  limit: z.coerce
    .number(limitError)
    .int(limitError)
    .min(1, limitError)
    .max(UNCOUNTED_MAX_LIMIT, limitError)
    .default(20)
    .describe(`1-${UNCOUNTED_MAX_LIMIT}, default 20`),
  cursor: z.string().min(1).max(1_024).optional().describe('nextCursor of the previous page'),
});

/** A cursor is the last (experiment, arm) pair a page examined. */
const cursorKey = z.tuple([z.string(), z.string()]);

/** Directory documents one page may examine, as a multiple of its limit (counted pairs are skipped). */
const EXAMINE_FACTOR = 20;

@Injectable()
export class ListUncountedArmsUseCase {
  constructor(
    private readonly aggregation: AggregationRepository,
    private readonly experiments: ExperimentsRepository,
  ) {}

  async page(project: string, limit: number, cursor?: string): Promise<UncountedArmsPage> {
    let position = decodeCursor(cursor, cursorKey);
    const arms = new Map(
      (await this.experiments.findByProject(project, 'request')).map((e) => [
        e.key,
        new Set(e.arms.map((a) => a.name)),
      ]),
    );
    const items: UncountedArm[] = [];
    const budget = limit * EXAMINE_FACTOR;
    let examined = 0;
    for (;;) {
      const batch = Math.min(limit * 4, budget - examined);
      const docs = await this.aggregation.armsAfter(project, position, batch, 'request');
      examined += docs.length;
      for (const { exp, arm } of docs) {
        if (position && position[0] === exp && position[1] === arm) continue; // the same pair, another partition
        position = [exp, arm];
        const known = arms.get(exp);
        if (known?.has(arm)) continue;
        items.push(
          await this.describe(project, exp, arm, known ? 'arm_not_in_experiment' : 'experiment_not_found'),
        );
        if (items.length === limit) return { items, nextCursor: encodeCursor(position) };
      }
      if (docs.length < batch) return { items, nextCursor: null };
      if (examined >= budget) return { items, nextCursor: encodeCursor(position) };
    }
  }

  private async describe(
    project: string,
    experiment: string,
    arm: string,
    reason: UncountedArm['reason'],
  ): Promise<UncountedArm> {
    const total = emptyValues();
    const buckets = await this.aggregation.bucketsInWindow(
      project,
      experiment,
      -Number.MAX_SAFE_INTEGER,
      Number.MAX_SAFE_INTEGER,
      'request',
      arm,
    );
    for (const b of buckets) addValues(total, b);
    return {
      experiment,
      arm,
      reason,
      exposures: total.exposures,
      generations: total.generations,
      ratings: total.rating.n,
      thumbs: total.thumbsUp + total.thumbsDown,
      comments: total.comments,
      corrections: total.corrections,
    };
  }
}
