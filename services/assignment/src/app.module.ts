import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceAppOptions } from '@llmops/platform';
import { AssignmentModule } from './assignment/assignment.module';
import type { AssignmentConfig } from './config/assignment.config';
import { decisionsConsumer } from './decisions/decisions.consumer';
import { DecisionsModule } from './decisions/decisions.module';
import { experimentTopics } from './experiments/experiment-topics';
import { experimentsConsumer } from './experiments/experiments.consumer';
import { ExperimentsModule } from './experiments/experiments.module';
import { SnapshotsModule } from './snapshots/snapshots.module';

/** Options for createServiceApp (main.ts and in-process tests use the same). */
export function assignmentAppOptions(config: AssignmentConfig): ServiceAppOptions {
  return {
    title: 'LLMOps assignment service',
    description:
      'Experiments (prompt A/B tests) and deterministic, reference-compatible assignment of users to arms.',
    // 1,000 batch items with 512-character user ids and attributes exceed the 1 MiB default.
    bodyLimit: 4 * 1024 * 1024,
    // Two groups: every replica reads every experiment (a group of its own); decisions are shared.
    consumers: [
      experimentsConsumer(config),
      ...(config.ASSIGNMENT_DECISIONS_CONSUMER_ENABLED ? [decisionsConsumer(config)] : []),
    ],
  };
}

@Module({})
export class AppModule {
  static forRoot(config: AssignmentConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ config, topics: experimentTopics(config) }),
        ExperimentsModule,
        AssignmentModule,
        SnapshotsModule,
        DecisionsModule,
      ],
    };
  }
}
