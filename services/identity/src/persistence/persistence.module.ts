import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ApiKeyRepository } from './api-key.repository';
import { ApiKeyDocument, ApiKeySchema } from './api-key.schema';
import { AuditRecordRepository } from './audit-record.repository';
import { AuditRecordDocument, AuditRecordSchema } from './audit-record.schema';
import { ProjectRepository } from './project.repository';
import { ProjectDocument, ProjectSchema } from './project.schema';

/** The identity service's documents and the repositories that own every query on them. */
@Module({
  imports: [
    MongooseModule.forFeature([
      { name: ProjectDocument.name, schema: ProjectSchema },
      { name: ApiKeyDocument.name, schema: ApiKeySchema },
      { name: AuditRecordDocument.name, schema: AuditRecordSchema },
    ]),
  ],
  providers: [ProjectRepository, ApiKeyRepository, AuditRecordRepository],
  exports: [ProjectRepository, ApiKeyRepository, AuditRecordRepository],
})
export class PersistenceModule {}
