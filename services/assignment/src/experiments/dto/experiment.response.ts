import { ExperimentSnapshotSchema, type ExperimentSnapshot } from '@llmops/contracts';
import { openApiSchema } from '@llmops/platform';

/**
 * An experiment as the API returns it: the snapshot published on the experiments topic plus
 * `publishedRevision`, the newest revision acknowledged by Kafka (lower than `revision` while the
 * outbox still has to publish the change).
 */
export interface ExperimentResponse extends ExperimentSnapshot {
  publishedRevision: number;
}

export const experimentResponseJsonSchema = (() => {
  const schema = openApiSchema(ExperimentSnapshotSchema, 'output');
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  return {
    ...schema,
    properties: { ...properties, publishedRevision: { type: 'integer', minimum: 0 } },
  };
})();

export const experimentListResponseJsonSchema = {
  type: 'object',
  properties: {
    items: { type: 'array', items: experimentResponseJsonSchema },
    nextCursor: {
      anyOf: [{ type: 'string' }, { type: 'null' }],
      description: 'cursor of the next page; null on the last page',
    },
  },
};
