import { assignmentAppOptions } from '../app.module';
import { loadAssignmentConfig } from '../config/assignment.config';
import { EXPERIMENTS_CONSUMER } from '../experiments/experiments.consumer';
import { DECISIONS_CONSUMER } from './decisions.consumer';

describe('the decisions consumer', () => {
  it('runs beside the experiments consumer, in a group shared by the replicas of a topic prefix', () => {
    const consumers = assignmentAppOptions(
      loadAssignmentConfig({ KAFKA_TOPIC_PREFIX: 'staging.', INSTANCE_ID: 'pod-1' }),
    ).consumers!;
    expect(consumers.map((c) => [c.transportId, c.groupId])).toEqual([
      [EXPERIMENTS_CONSUMER, 'llmops-assignment.experiments.pod-1'],
      [DECISIONS_CONSUMER, 'staging.llmops-assignment-decisions'],
    ]);
    const named = assignmentAppOptions(
      loadAssignmentConfig({ ASSIGNMENT_DECISIONS_CONSUMER_GROUP: 'decisions-a' }),
    ).consumers!;
    expect(named[1].groupId).toBe('decisions-a');
  });

  it('is not started with ASSIGNMENT_DECISIONS_CONSUMER_ENABLED=false', () => {
    const consumers = assignmentAppOptions(
      loadAssignmentConfig({ ASSIGNMENT_DECISIONS_CONSUMER_ENABLED: 'false' }),
    ).consumers!;
    expect(consumers.map((c) => c.transportId)).toEqual([EXPERIMENTS_CONSUMER]);
  });
});
