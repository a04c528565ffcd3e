import type { z } from 'zod';

/** `control` and every `forced` value must name one of the arms. */
export function checkArmReferences(
  body: {
    arms?: Array<{ name: string }> | undefined;
    control?: string | undefined;
    forced?: Record<string, string> | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  if (!Array.isArray(body.arms)) return;
  const names = new Set(body.arms.map((a) => a.name));
  if (body.control !== undefined && !names.has(body.control)) {
    ctx.addIssue({
      code: 'custom',
      path: ['control'],
      message: `control "${body.control}" is not one of the arms`,
    });
  }
  for (const [user, arm] of Object.entries(body.forced ?? {})) {
    if (!names.has(arm)) {
      ctx.addIssue({
        code: 'custom',
        path: ['forced', user],
        message: `arm "${arm}" is not one of the arms`,
      });
    }
  }
}
