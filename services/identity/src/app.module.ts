import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type ServiceAppOptions } from '@llmops/platform';
import { auditConsumer, identityTopicSpecs } from './audit/audit-topics';
import { AuditModule } from './audit/audit.module';
import type { IdentityConfig } from './config/identity.config';
import { ProjectsModule } from './projects/projects.module';

/** Options for createServiceApp (main.ts and in-process tests use the same). */
export function identityAppOptions(config: IdentityConfig): ServiceAppOptions {
  return {
    title: 'LLMOps identity service',
    description:
      'Projects, scoped API keys (distributed to every service over a compacted Kafka topic) and the audit trail of every change.',
    consumer: auditConsumer(config),
  };
}

@Module({})
export class AppModule {
  static forRoot(config: IdentityConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot({ config, topics: identityTopicSpecs(config) }),
        ProjectsModule,
        AuditModule,
      ],
    };
  }
}
