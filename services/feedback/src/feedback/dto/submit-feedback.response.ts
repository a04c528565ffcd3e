import { z } from 'zod';

export const submitFeedbackResponseSchema = z.object({
  feedbackId: z.string(),
  /** 1 for a first submission; higher after edits. A duplicate answers with the revision it repeats. */
  revision: z.int(),
  outcome: z.enum(['new', 'edit', 'duplicate']),
});
export type SubmitFeedbackResponse = z.infer<typeof submitFeedbackResponseSchema>;
