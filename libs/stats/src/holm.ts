/**
 * Holm (1979) step-down adjustment, "A simple sequentially rejective multiple test procedure",
 * Scand. J. Statist. 6: with p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted value of the j-th smallest is
 *   p̃₍ⱼ₎ = min(1, maxₖ≤ⱼ (m − k + 1) · p₍ₖ₎),
 * and rejecting every hypothesis with p̃ < α controls the family-wise error rate at α under any
 * dependence between the tests. This is statsmodels' `multipletests(p, method="holm")`.
 *
 * Applied to always-valid p-values (running minima, see sequential.ts) at every look, the guarantee
 * holds over all looks at once: Holm rejects a true null only if some true null's p-value drops to
 * α/m₀ (m₀ true nulls), and each of those does so at any look with probability ≤ α/m₀.
 */

/**
 * Holm-adjusted p-values in the order given. Ties get the same adjusted value. Like the
 * distribution functions, invalid input (NaN or a value outside [0, 1]) gives NaN everywhere,
 * since one unusable p-value changes the adjustment of all the others.
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  if (pValues.some((p) => !(p >= 0 && p <= 1))) return pValues.map(() => NaN);
  const order = pValues.map((_, i) => i).sort((a, b) => pValues[a] - pValues[b]);
  const adjusted = new Array<number>(m);
  let runningMax = 0;
  order.forEach((index, rank) => {
    runningMax = Math.max(runningMax, (m - rank) * pValues[index]);
    adjusted[index] = Math.min(1, runningMax);
  });
  return adjusted;
}
