/**
 * An experiment's results as a terminal table, as `npm run demo` and `llmops experiments results`
 * print them: per arm the rated users, mean rating with its 95% CI, thumbs-up rate, latency p50 and
 * p95 and cost per request; each arm against the control (difference with its CI, p-value and
 * always-valid sequential p-value); the sample-ratio-mismatch check; and a plain-language verdict.
 * Pure: the analytics service's `GET /v1/experiments/{key}/results` answer in, text out.
 */
import type { paths as AnalyticsPaths } from './generated/analytics';

/** The answer of the analytics service's `GET /v1/experiments/{key}/results`. */
export type ExperimentResults =
  AnalyticsPaths['/v1/experiments/{key}/results']['get']['responses'][200]['content']['application/json'];

const fmt = (v: number | null | undefined, digits = 2): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits);
const ci = (c: number[] | null | undefined, digits = 2): string =>
  c ? `[${fmt(c[0], digits)}, ${fmt(c[1], digits)}]` : '—';

/** One sentence: which arm is better in rating and by how much, or why that cannot be said. */
export function verdict(r: ExperimentResults): string {
  const rating = r.comparisons.find((c) => c.metric === 'rating');
  const size = r.sampleSize.reached
    ? 'sample size reached'
    : `sample size not reached (minimum ${r.sampleSize.minimumPerArm} per arm)`;
  if (r.srm.mismatch)
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

/** The table, the comparisons, the SRM line and the verdict. */
export function renderResults(r: ExperimentResults): string {
  const rows = [
    ['arm', 'n', 'mean rating', '95% CI', 'thumbs up', 'p50 ms', 'p95 ms', 'cost/req $'],
    ...r.arms.map((a) => [
      a.arm + (a.arm === r.control ? ' (control)' : ''),
      String(a.rating.n),
      fmt(a.rating.mean),
      ci(a.rating.ci95),
      a.thumbs.rate === null ? '—' : `${(a.thumbs.rate * 100).toFixed(1)}%`,
      fmt(a.latencyMs.p50, 0),
      fmt(a.latencyMs.p95, 0),
      fmt(a.costPerRequestUsd, 6),
    ]),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const table = rows
    .map((row) => `  ${row.map((cell, i) => cell.padEnd(widths[i])).join('  ')}`.trimEnd())
    .join('\n');
  const comparisons = r.comparisons
    .map(
      (c) =>
        `  ${c.arm} vs ${r.control}, ${c.metric}: diff ${fmt(c.diff, 3)} ${ci(c.ci95, 3)}, p = ${fmt(c.pValue, 4)}, sequential p = ${fmt(c.sequential?.pValue, 4)} (${c.sequential?.method ?? '—'})`,
    )
    .join('\n');
  const srm = `SRM: p = ${fmt(r.srm.pValue, 4)} ${r.srm.mismatch ? 'MISMATCH' : 'ok'}`;
  return `${table}\n\n${comparisons ? `${comparisons}\n` : ''}  ${srm}\n\nVerdict: ${verdict(r)}`;
}
