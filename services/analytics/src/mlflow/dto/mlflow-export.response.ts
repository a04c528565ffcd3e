/** Response of POST /v1/experiments/{key}/export/mlflow. */
import { z } from 'zod';

export const mlflowExportResponseSchema = z.object({
  experiment: z.string(),
  phase: z.number().int().describe('The phase exported: its runs are tagged llmops.phase'),
  trackingUri: z.string(),
  mlflowExperimentId: z.string(),
  mlflowExperimentName: z.string().describe('<project>/<key>'),
  verdict: z.string().describe("The decision's verdict, or `none` without a decision policy"),
  parentRunId: z.string().describe('The run holding the decision; the arm runs are its children'),
  runs: z.array(z.object({ arm: z.string(), runId: z.string() })),
  created: z.number().int().describe('Runs this export created (0 when it updated existing runs)'),
});

export type MlflowExportResult = z.infer<typeof mlflowExportResponseSchema>;
