import { z } from 'zod';

export const logGenerationResponseSchema = z.object({ requestId: z.string() });
export type LogGenerationResponse = z.infer<typeof logGenerationResponseSchema>;
