import { ASSIGN_REASONS, type AssignResponse } from '@llmops/experiments';

export type { AssignResponse };

/** A batch item whose experiment is unknown to this replica. */
export interface AssignItemError {
  experiment: string;
  userId: string;
  error: { code: string; message: string };
}

export interface AssignBatchResponse {
  items: Array<AssignResponse | AssignItemError>;
}

export const assignResponseJsonSchema = {
  type: 'object',
  required: ['experiment', 'arm', 'prompt', 'inExperiment', 'reason', 'phase'],
  properties: {
    experiment: { type: 'string' },
    arm: { type: 'string', description: 'The arm served; the control arm when inExperiment is false' },
    prompt: {
      type: 'object',
      required: ['name', 'hash'],
      properties: { name: { type: 'string' }, hash: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
    },
    inExperiment: { type: 'boolean' },
    reason: { type: 'string', enum: [...ASSIGN_REASONS] },
    phase: { type: 'integer', minimum: 1 },
  },
};

export const assignBatchResponseJsonSchema = {
  type: 'object',
  properties: {
    items: {
      type: 'array',
      items: {
        oneOf: [
          assignResponseJsonSchema,
          {
            type: 'object',
            required: ['experiment', 'userId', 'error'],
            properties: {
              experiment: { type: 'string' },
              userId: { type: 'string' },
              error: {
                type: 'object',
                properties: { code: { type: 'string' }, message: { type: 'string' } },
              },
            },
          },
        ],
      },
    },
  },
};
