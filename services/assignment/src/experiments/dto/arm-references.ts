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

/**
 * `decision.autoPromote` moves an alias of one prompt to the winning arm's version, so every arm
 * must be a version of that one prompt: the issue to report otherwise (400 `decision.autoPromote`).
 */
export function autoPromoteIssue(
  decision: { autoPromote?: { alias: string } | undefined } | null | undefined,
  arms: ReadonlyArray<{ prompt: { name: string } }>,
): { path: string; message: string } | null {
  if (!decision?.autoPromote) return null;
  const names = [...new Set(arms.map((a) => a.prompt.name))];
  if (names.length <= 1) return null;
  return {
    path: 'decision.autoPromote',
    message:
      `needs every arm to be a version of one prompt (its alias "${decision.autoPromote.alias}" moves to the ` +
      `winning version); the arms use prompts ${names.map((n) => `"${n}"`).join(', ')}`,
  };
}
