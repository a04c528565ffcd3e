/**
 * Chi-square distribution: P(X > x) = Q(k/2, x/2), the regularized upper incomplete gamma
 * (Abramowitz & Stegun 26.4.19), evaluated so the small tail is never formed as 1 − cdf.
 */
import { incompleteGammaPair } from './gamma';

/** P(X ≤ x) for a chi-square variable with k > 0 degrees of freedom. */
export function chiSquareCdf(x: number, k: number): number {
  if (Number.isNaN(x) || Number.isNaN(k) || k <= 0) return NaN;
  if (x <= 0) return 0;
  return incompleteGammaPair(k / 2, x / 2).lower;
}

/** P(X > x) for a chi-square variable with k > 0 degrees of freedom. */
export function chiSquareSf(x: number, k: number): number {
  if (Number.isNaN(x) || Number.isNaN(k) || k <= 0) return NaN;
  if (x <= 0) return 1;
  return incompleteGammaPair(k / 2, x / 2).upper;
}
